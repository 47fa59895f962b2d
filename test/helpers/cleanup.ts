// Leftover detection and forced cleanup. "Leaves nothing behind" is a tested
// property of the runtime (DESIGN.md section 5), so leftovers are snapshotted
// and compared; and because tests also fail, a forced cleanup removes what a
// runtime left so one failing test does not poison the machine or later tests.
//
// Everything here is scoped to what the tests created: the test's temp dir,
// its state roots, and its own cgroup parent `/tsrun-test-<hex>`. Processes
// are signalled by PID only, and only when they are inside that scope.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import type { RuntimeCli } from './runtime';
import type { TestEnv } from './bundle';
import { reapAdoptedZombies } from './reap';

export interface Leftovers {
  /** Host mount points at or under the temp dir. */
  mounts: string[];
  /** Cgroup dirs strictly below the parent, as `<hierarchy>:<path>`. */
  cgroups: string[];
  /** Entries in the state roots. */
  state: string[];
  /** Live processes in our cgroups or chrooted into one of our rootfs, `<pid> <comm>`. */
  processes: string[];
}

const PARENT_RE = /^\/tsrun-test-[0-9a-f]+$/;

function assertScope(env: TestEnv): void {
  // Guard rails: a bug in a test must never turn cleanup loose on someone else's cgroups or files.
  if (!PARENT_RE.test(env.cgroupParent)) throw new Error(`refusing cgroup parent ${env.cgroupParent}`);
  if (path.dirname(env.tmp) !== os.tmpdir() || !path.basename(env.tmp).startsWith('tsrun-test-')) {
    throw new Error(`refusing temp dir ${env.tmp}`);
  }
}

/** Decode the octal escapes mountinfo uses for spaces, tabs, newlines and backslashes. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

interface MountInfo {
  mountPoint: string;
  fstype: string;
}

function hostMounts(): MountInfo[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pre, post] = l.split(' - ');
      return { mountPoint: unescapeMount(pre.split(' ')[4]), fstype: post.split(' ')[0] };
    });
}

/**
 * Every cgroup hierarchy mounted on the host (v1 controllers, named
 * hierarchies such as name=systemd, and the v2 unified one), taken from
 * mountinfo rather than guessed, so both hybrid and pure-v2 hosts work.
 */
export function cgroupHierarchies(): string[] {
  const seen = new Set<string>();
  for (const m of hostMounts()) {
    if (m.fstype === 'cgroup' || m.fstype === 'cgroup2') seen.add(m.mountPoint);
  }
  return [...seen].sort();
}

function walkDirs(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      const p = path.join(dir, e.name);
      out.push(p);
      walkDirs(p, out);
    }
  }
}

/** Cgroup dirs of our parent in every hierarchy, parent first, children after. */
function ourCgroupDirs(parent: string): { hierarchy: string; dir: string; parentDir: string }[] {
  const res: { hierarchy: string; dir: string; parentDir: string }[] = [];
  for (const h of cgroupHierarchies()) {
    const parentDir = path.join(h, parent);
    if (!fs.existsSync(parentDir)) continue;
    const dirs: string[] = [parentDir];
    walkDirs(parentDir, dirs);
    for (const dir of dirs) res.push({ hierarchy: h, dir, parentDir });
  }
  return res;
}

function procState(pid: number): { state: string; comm: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { state: stat.slice(close + 2, close + 3), comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** Rootfs dirs of the bundles under the temp dir (bundle dirs are `bundle-*`). */
function rootfsDirs(tmp: string): string[] {
  const res: string[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(tmp);
  } catch {
    return res;
  }
  for (const e of entries) {
    const r = path.join(tmp, e, 'rootfs');
    if (e.startsWith('bundle-') && fs.existsSync(r)) res.push(r);
  }
  return res;
}

/**
 * Live processes that belong to our tests: those in a cgroup under our parent
 * (any hierarchy) and those whose root directory is one of our rootfs dirs
 * (compared by device+inode: inside a container /proc/<pid>/root reads as "/").
 * Zombies are ignored: they hold nothing and their parent will reap them.
 */
export function ourProcesses(env: TestEnv): number[] {
  const roots = rootfsDirs(env.tmp).map((r) => fs.statSync(r));
  const pids: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const st = procState(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    let mine = false;
    try {
      mine = fs
        .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .split('\n')
        .some((l) => {
          const p = l.split(':').slice(2).join(':');
          return p === env.cgroupParent || p.startsWith(env.cgroupParent + '/');
        });
    } catch {
      continue;
    }
    if (!mine && roots.length) {
      try {
        const r = fs.statSync(`/proc/${pid}/root`);
        mine = roots.some((x) => x.dev === r.dev && x.ino === r.ino);
      } catch {
        /* gone, or a kernel thread */
      }
    }
    if (mine) pids.push(pid);
  }
  return pids;
}

export function snapshot(env: TestEnv, stateRoots: string[]): Leftovers {
  const tmp = env.tmp;
  const mounts = hostMounts()
    .map((m) => m.mountPoint)
    .filter((m) => m === tmp || m.startsWith(tmp + '/'))
    .sort();
  const cgroups = ourCgroupDirs(env.cgroupParent)
    .filter((c) => c.dir !== c.parentDir)
    .map((c) => `${c.hierarchy}:${c.dir.slice(c.hierarchy.length)}`)
    .sort();
  const state: string[] = [];
  for (const root of stateRoots) {
    try {
      for (const e of fs.readdirSync(root)) state.push(path.join(root, e));
    } catch {
      /* root not created yet */
    }
  }
  const processes = ourProcesses(env).map((p) => `${p} ${procState(p)?.comm ?? '?'}`);
  return { mounts, cgroups, state: state.sort(), processes };
}

export function isEmpty(l: Leftovers): boolean {
  return !l.mounts.length && !l.cgroups.length && !l.state.length && !l.processes.length;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Force-remove everything the tests (or a runtime under test) left behind in
 * this env. Returns what could not be removed; empty means clean.
 * `partial`: between tests -- keep the temp dir and the cgroup parent itself.
 */
export function cleanupEverything(env: TestEnv, clis: RuntimeCli[], partial = false): string[] {
  assertScope(env);
  const problems: string[] = [];

  // 1. Ask each runtime to clean up its own containers first (it knows its own
  //    state: cgroups, exec fifo, state dirs).
  for (const cli of clis) {
    let ids: string[] = [];
    try {
      ids = fs.readdirSync(cli.root);
    } catch {
      continue;
    }
    for (const id of ids) {
      try {
        cli.run(['delete', '--force', id], { timeoutMs: 10_000 });
      } catch {
        /* binary missing or broken: the steps below still clean up */
      }
    }
  }

  // 2. Thaw our frozen cgroups (a frozen task cannot die), then SIGKILL our
  //    processes by PID and wait for them to go.
  for (const c of ourCgroupDirs(env.cgroupParent)) {
    const f = path.join(c.dir, 'freezer.state');
    try {
      if (fs.readFileSync(f, 'utf8').trim() !== 'THAWED') fs.writeFileSync(f, 'THAWED');
    } catch {
      /* not the freezer hierarchy */
    }
    const f2 = path.join(c.dir, 'cgroup.freeze');
    try {
      if (fs.readFileSync(f2, 'utf8').trim() === '1') fs.writeFileSync(f2, '0');
    } catch {
      /* not v2 */
    }
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    // A container's init cannot finish dying while one of its pid namespace's
    // processes is a zombie nobody reaps: one we adopted as a subreaper would be.
    reapAdoptedZombies();
    const pids = ourProcesses(env);
    if (!pids.length) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    sleepSync(50);
    if (attempt === 99) problems.push(`processes still alive: ${pids.join(' ')}`);
  }

  // 3. Mounts on the host under our temp dir (a runtime that forgot its mount
  //    namespace). Deepest first; lazy so a busy mount cannot block cleanup.
  const mounts = () =>
    hostMounts()
      .map((m) => m.mountPoint)
      .filter((m) => m === env.tmp || m.startsWith(env.tmp + '/'))
      .sort((a, b) => b.length - a.length);
  for (const m of mounts()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  const stillMounted = mounts();
  if (stillMounted.length) problems.push(`mounts left: ${stillMounted.join(' ')}`);

  // 4. Cgroups: leaves before parents, then the parent itself, in every hierarchy.
  const dirs = ourCgroupDirs(env.cgroupParent)
    .filter((c) => !partial || c.dir !== c.parentDir)
    .sort((a, b) => b.dir.length - a.dir.length);
  for (const c of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.rmdirSync(c.dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && attempt < 40) {
          sleepSync(50); // a just-killed task may take a moment to leave its cgroup
          continue;
        }
        problems.push(`cannot remove cgroup ${c.dir}: ${code}`);
        break;
      }
    }
  }

  // 5. Temp dir, unless something is still mounted in it: rm -r through a
  //    leftover bind mount could delete files that are not ours.
  if (partial) {
    // between tests: the temp dir holds the other tests' bundles and roots
  } else if (!stillMounted.length) {
    try {
      fs.rmSync(env.tmp, { recursive: true, force: true });
    } catch (e) {
      problems.push(`cannot remove ${env.tmp}: ${(e as Error).message}`);
    }
  } else {
    problems.push(`kept ${env.tmp} because of mounts`);
  }
  return problems;
}
