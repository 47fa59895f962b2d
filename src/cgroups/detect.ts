// Which cgroup hierarchies are mounted, and where: read from mountinfo (never from
// guesses about /sys/fs/cgroup), because the layout decides the driver.
import * as fs from 'fs';
import * as path from 'path';
import { CgroupError } from '../errors';
import { statPath, type FileFacts } from '../host-files';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * Where the lifecycle looks for the hierarchies. TSRUN_TEST_CGROUP_ROOT is a test
 * seam (like TSRUN_TEST_CRASH_AT): pointed at the cgroup2 mount of a hybrid host
 * (/sys/fs/cgroup/unified), tsrun sees a pure v2 host, so that layout's paths
 * (clone3 placement, device programs, cgroup.freeze, cgroup.kill) run end to end
 * on a machine that is not one (test/integration/pure-v2.test.ts).
 */
export function hostCgroupRoot(): string {
  return process.env.TSRUN_TEST_CGROUP_ROOT || DEFAULT_CGROUP_ROOT;
}

/** One cgroup filesystem mount from mountinfo. */
export interface CgroupMount {
  /** Where it is mounted (octal escapes decoded). */
  mountPoint: string;
  /** Field 4: the dir of the hierarchy shown at mountPoint ('/' unless bind-mounted or namespaced). */
  root: string;
  /** Field 3, "major:minor": the device of its superblock, as stat(2) gives it at mountPoint while it is the one seen there. */
  dev: string;
  fstype: 'cgroup' | 'cgroup2';
  /** v1: controllers and `name=` entries from the super options, e.g. ['cpu', 'cpuacct'] or ['name=systemd']; v2: []. */
  controllers: string[];
}

/** One hierarchy tsrun places containers in. */
export interface Hierarchy {
  kind: 'v1' | 'v2';
  /**
   * Stable key: the mount dir relative to the cgroup root ('cpu', 'cpu,cpuacct',
   * 'systemd', 'unified'); the unified hierarchy is always 'unified', also when it
   * is mounted at the root itself. It is also the name the hierarchy gets inside the
   * container's /sys/fs/cgroup.
   */
  key: string;
  mountPoint: string;
  mountRoot: string;
  controllers: string[];
}

export interface CgroupLayoutInfo {
  layout: CgroupLayout;
  root: string;
  hierarchies: Hierarchy[];
}

// v1 super options that are controllers. Anything else in the super options is a
// mount flag (rw, nsdelegate, clone_children, release_agent=..., xattr, noprefix).
const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio',
  'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

// " - " is in every mountinfo line once, as the separator before the filesystem type
// (the fields before it escape their spaces as \040): each match of this is the
// separator of a cgroup or cgroup2 mount's line.
const CGROUP_SEPARATOR = ' - cgroup';

/**
 * Parses /proc/self/mountinfo text and returns its cgroup and cgroup2 mounts, in
 * order. Only their lines are split: a host running many containers has a mountinfo
 * of thousands of lines (each one's rootfs and shm mounts), which every command
 * touching cgroups would otherwise split, line by line and field by field, in
 * interpreted code (4 ms for 1,000 extra lines here).
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (let at = mountinfo.indexOf(CGROUP_SEPARATOR); at !== -1; at = mountinfo.indexOf(CGROUP_SEPARATOR, at + CGROUP_SEPARATOR.length)) {
    const end = mountinfo.indexOf('\n', at);
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const pre = mountinfo.slice(mountinfo.lastIndexOf('\n', at) + 1, at).split(' ');
    const post = mountinfo.slice(at + 3, end === -1 ? mountinfo.length : end).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (pre.length < 5) continue;
    const controllers = fstype === 'cgroup'
      ? (post[2] ?? '').split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name='))
      : [];
    mounts.push({ mountPoint: unescapeMountField(pre[4]), root: unescapeMountField(pre[3]), dev: pre[2], fstype, controllers });
  }
  return mounts;
}

function isUnder(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Absolute without a "//", "." or ".." segment or a trailing "/": what path.resolve leaves as it is. */
function isNormalizedAbsolute(p: string): boolean {
  if (!p.startsWith('/') || p.includes('//') || p.includes('/./') || p.includes('/../')) return false;
  return p === '/' || !(p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..'));
}

/**
 * The kernel writes mount points absolute and normalized: taken as they are, where
 * path.resolve would walk every character of each (a mountinfo of any other shape
 * is resolved).
 */
function normalizedMountPoint(p: string): string {
  return isNormalizedAbsolute(p) ? p : path.resolve(p);
}

/**
 * Whether the mount is the one seen at its mount point, asked of the filesystem:
 * mountinfo also lists mounts that a later one covers. A container whose /sys is a
 * recursive bind of the host's (a user namespace cannot mount sysfs: rootless podman,
 * a runtime nested in a user-namespaced container) and which mounts its own cgroup
 * hierarchies over /sys/fs/cgroup lists the host's hierarchies too, /sys/fs/cgroup/unified
 * among them, under a tmpfs where no such dir exists. A stat that fails otherwise than
 * with ENOENT or ENOTDIR keeps the mount. Through the addon
 * (host-files): no Node fs on a create's path.
 */
export function mountIsSeen(m: CgroupMount): boolean {
  let facts: FileFacts | null;
  try {
    facts = statPath(m.mountPoint, true);
  } catch {
    return true; // not known to be covered
  }
  if (!facts) return false; // nothing there (ENOENT, ENOTDIR)
  // id is "dev:ino", dev as glibc's dev_t: major in bits 8-19 and 32-63, minor in bits 0-7 and 20-31.
  const dev = BigInt(facts.id.slice(0, facts.id.indexOf(':')));
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}` === m.dev;
}

/**
 * Whether mountinfo lists, after its first cgroup mount, a mount at `root` or at a
 * dir above it ('/' aside): only such a mount, made later, can cover hierarchies
 * listed before it (mountinfo lists mounts in the order they were made). A false
 * alarm (the path as some bind's root field) only costs the stats.
 */
function mountedOverLater(mountinfo: string, root: string): boolean {
  const first = mountinfo.search(/ - cgroup2? /);
  if (first < 0) return false;
  const later = mountinfo.slice(first);
  for (let dir = root; dir !== '/' && dir !== '.'; dir = path.dirname(dir)) {
    if (later.includes(` ${escapeMountField(dir)} `)) return true;
  }
  return false;
}

/** The kernel's escaping of a mountinfo field (show_path: space, tab, newline, backslash). */
function escapeMountField(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The layout under `root`: cgroup2 at root itself = unified; v1 hierarchies plus a
 * cgroup2 below root (systemd puts it at root/unified) = hybrid; v1 only = legacy.
 * Only mounts at or below `root` count (a hierarchy bind-mounted elsewhere as well
 * is ignored there), and only the first mount of each hierarchy. Of mounts stacked at
 * one mount point only the last, the one on top, counts; `seen` (the host's:
 * mountIsSeen) drops the mounts that something mounted over a dir above them hides.
 */
export function detectLayout(mountinfo: string, root: string = DEFAULT_CGROUP_ROOT, seen?: (m: CgroupMount) => boolean): CgroupLayoutInfo {
  const normRoot = path.resolve(root);
  const v1: Hierarchy[] = [];
  let unified: Hierarchy | undefined;
  const seenIds = new Set<string>();
  const mounts = parseCgroupMounts(mountinfo);
  const points = mounts.map((m) => normalizedMountPoint(m.mountPoint));
  // Asked of the filesystem only where something could cover them (a stat per mount
  // is ~7 us, paid by every create otherwise).
  const covering = seen !== undefined && mountedOverLater(mountinfo, normRoot) ? seen : undefined;
  for (const [i, m] of mounts.entries()) {
    const mp = points[i];
    if (!isUnder(mp, normRoot)) continue;
    if (points.indexOf(mp, i + 1) !== -1) continue; // covered by a later mount at the same point
    if (covering && !covering(m)) continue;
    if (m.fstype === 'cgroup2') {
      // The unified hierarchy mounted at the root wins over one mounted below it.
      if (!unified || (mp === normRoot && unified.mountPoint !== normRoot)) {
        unified = { kind: 'v2', key: 'unified', mountPoint: mp, mountRoot: m.root, controllers: [] };
      }
      continue;
    }
    if (mp === normRoot || m.controllers.length === 0) continue;
    const id = [...m.controllers].sort().join(',');
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    // Below normRoot (isUnder), and not it: the rest of the path, as path.relative gives it.
    const key = mp.slice(normRoot === '/' ? 1 : normRoot.length + 1);
    v1.push({ kind: 'v1', key, mountPoint: mp, mountRoot: m.root, controllers: m.controllers });
  }
  if (unified && unified.mountPoint === normRoot) {
    return { layout: 'unified', root: normRoot, hierarchies: [unified] };
  }
  if (v1.length > 0) {
    return { layout: unified ? 'hybrid' : 'legacy', root: normRoot, hierarchies: unified ? [...v1, unified] : v1 };
  }
  if (unified) return { layout: 'unified', root: normRoot, hierarchies: [unified] };
  throw new CgroupError(normRoot, `no cgroup filesystem is mounted at or below ${normRoot}`);
}

/** Reads /proc/self/mountinfo (or the given file) and detects the layout. */
export function detectCgroupLayout(root: string = DEFAULT_CGROUP_ROOT, mountinfoPath = '/proc/self/mountinfo'): CgroupLayoutInfo {
  return detectLayout(fs.readFileSync(mountinfoPath, 'utf8'), root, mountinfoPath === '/proc/self/mountinfo' ? mountIsSeen : undefined);
}
