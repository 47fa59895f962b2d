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
import type { RuntimeCli } from './runtime';
import type { TestEnv } from './bundle';
import { reapAdoptedZombies } from './reap';
import { SECCOMP_CACHE_DIR } from '../../src/lifecycle/seccomp-cache';
import { cgroupDirsOf, killUntilGone, mountsUnder, procState, processesInScope, removeCgroupDir, thawCgroups, unmountUnder } from '../../scripts/lib/host-scope';

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

/** Live processes that belong to our tests: in our cgroup parent or rooted in one of our rootfs dirs. */
function ourProcesses(env: TestEnv): number[] {
  return processesInScope(env.cgroupParent, rootfsDirs(env.tmp));
}

export function snapshot(env: TestEnv, stateRoots: string[]): Leftovers {
  const mounts = mountsUnder(env.tmp).sort();
  const cgroups = cgroupDirsOf(env.cgroupParent)
    .filter((c) => c.dir !== c.parentDir)
    .map((c) => `${c.hierarchy}:${c.dir.slice(c.hierarchy.length)}`)
    .sort();
  const state: string[] = [];
  for (const root of stateRoots) {
    try {
      // The compiled seccomp programs a root keeps for later containers are no container's leftovers.
      for (const e of fs.readdirSync(root)) if (e !== SECCOMP_CACHE_DIR) state.push(path.join(root, e));
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
      if (id === SECCOMP_CACHE_DIR) continue;
      try {
        cli.run(['delete', '--force', id], { timeoutMs: 10_000 });
      } catch {
        /* binary missing or broken: the steps below still clean up */
      }
    }
  }

  // 2. Thaw our frozen cgroups (a frozen task cannot die), then SIGKILL our
  //    processes by PID and wait for them to go. A container's init cannot finish
  //    dying while one of its pid namespace's processes is a zombie nobody reaps:
  //    one we adopted as a subreaper would be.
  thawCgroups(env.cgroupParent);
  const alive = killUntilGone(() => ourProcesses(env), reapAdoptedZombies);
  if (alive.length) problems.push(`processes still alive: ${alive.join(' ')}`);

  // 3. Mounts on the host under our temp dir (a runtime that forgot its mount
  //    namespace). Deepest first; lazy so a busy mount cannot block cleanup.
  const stillMounted = unmountUnder(env.tmp);
  if (stillMounted.length) problems.push(`mounts left: ${stillMounted.join(' ')}`);

  // 4. Cgroups: leaves before parents, then the parent itself, in every hierarchy.
  const dirs = cgroupDirsOf(env.cgroupParent)
    .filter((c) => !partial || c.dir !== c.parentDir)
    .sort((a, b) => b.dir.length - a.dir.length);
  for (const c of dirs) {
    const problem = removeCgroupDir(c.dir);
    if (problem) problems.push(problem);
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
