// Where a container's cgroup goes in each hierarchy, following runc's cgroupfs
// driver (libcontainer/cgroups/fs and fs2) so the same config lands in the same
// place under tsrun and runc:
//   - cgroupsPath is cleaned lexically first (runc's utils.CleanPath): '..' cannot
//     climb above '/' for an absolute path, nor above the start for a relative one;
//   - empty cgroupsPath means the relative path "<id>";
//   - absolute: <mount point>/<path> in every hierarchy;
//   - relative, v1 (and the unified hierarchy of a hybrid host): <own cgroup of this
//     process>/<path>. runc 1.1.5 agrees on v1 but puts the hybrid unified one at
//     <mount point>/<path> (seen side by side); tsrun keeps every hierarchy under
//     the caller's own cgroup, a known difference (callers pass absolute paths);
//   - relative, unified layout: <parent of own cgroup>/<path>. The own cgroup has
//     processes (us), and cgroup v2's no-internal-processes rule would keep it from
//     enabling controllers for a child, so runc goes one level up.
import * as path from 'path';
import { CgroupError, ConfigError } from '../errors';
import type { Hierarchy } from './detect';

/** runc's utils.CleanPath: lexical clean, with no way out above the start. */
export function cleanCgroupPath(p: string): string {
  if (p === '') return '';
  if (p.includes('\0')) throw new CgroupError(p, 'linux.cgroupsPath: contains a NUL byte');
  if (path.isAbsolute(p)) return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
  // Rooting at '/' first makes normalize drop every leading '..'.
  const rooted = path.posix.normalize(`/${p}`).replace(/(.)\/+$/, '$1');
  return rooted === '/' ? '.' : rooted.slice(1);
}

/** The inner path: cleaned cgroupsPath, or the id when it is empty. */
export function innerCgroupPath(cgroupsPath: string | undefined, id: string): string {
  const cleaned = cleanCgroupPath(cgroupsPath ?? '');
  const inner = cleaned === '' ? cleanCgroupPath(id) : cleaned;
  // runc would accept these and put the container into the hierarchy root or into
  // its own caller's cgroup, which it would then try to remove on delete.
  if (inner === '/' || inner === '.') {
    throw new ConfigError('linux.cgroupsPath', `${JSON.stringify(cgroupsPath)} names no cgroup of its own`);
  }
  return inner;
}

/**
 * Parses /proc/self/cgroup ("hierarchy-id:controllers:path" per line). Keys: each v1
 * controller name ('cpu', 'name=systemd', ...) and '' for the unified hierarchy.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const p = line.slice(second + 1);
    if (controllers === '') own.set('', p);
    else for (const c of controllers.split(',')) own.set(c, p);
  }
  return own;
}

export function ownCgroupDir(h: Hierarchy, own: Map<string, string>): string {
  const key = h.kind === 'v2' ? '' : h.controllers[0];
  const p = own.get(key);
  if (p === undefined) {
    throw new CgroupError(h.mountPoint, `this process is in no cgroup of the ${h.key} hierarchy (see /proc/self/cgroup)`);
  }
  // /proc/self/cgroup is relative to the hierarchy's root; the mount may show only a
  // subtree of it (mountinfo field 4). Outside that subtree we cannot reach it.
  const rel = path.posix.relative(h.mountRoot, p);
  if (rel.startsWith('..')) {
    throw new CgroupError(h.mountPoint, `own cgroup ${p} is outside the mounted part (${h.mountRoot}) of the ${h.key} hierarchy`);
  }
  return path.join(h.mountPoint, rel);
}

/**
 * The absolute dir of the container's cgroup in hierarchy `h`. `own` (from
 * /proc/self/cgroup) is needed only for relative paths.
 */
export function resolveCgroupDir(h: Hierarchy, inner: string, unifiedLayout: boolean, own: () => Map<string, string>): string {
  let dir: string;
  if (path.isAbsolute(inner)) {
    dir = path.join(h.mountPoint, inner);
  } else {
    let base = ownCgroupDir(h, own());
    if (h.kind === 'v2' && unifiedLayout && base !== h.mountPoint) base = path.dirname(base);
    dir = path.join(base, inner);
  }
  // Cleaning above makes this impossible; checked anyway because every later rmdir
  // and write relies on it.
  if (dir === h.mountPoint || !dir.startsWith(`${h.mountPoint}/`)) {
    throw new CgroupError(dir, `linux.cgroupsPath resolves to ${dir}, which is not below ${h.mountPoint}`);
  }
  return dir;
}
