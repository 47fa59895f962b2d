// Who puts a container's process into its cgroups, and how (addon/PROTOCOL.md, op
// `cgroup`). The init joins them itself wherever it can: a process moving itself into
// a v1 cgroup (`tasks`), or born into a v2 cgroup (clone3 CLONE_INTO_CGROUP), never
// takes the kernel's global threadgroup lock, whose first use after a quiet spell
// waits for an RCU grace period (5-16 ms here) — the lock a parent writing the init's
// pid into cgroup.procs takes. The parent still places the init in v2 where the init
// could not (in a user namespace it lacks the right to, by the time it forks), or
// where a refusal must not fail the create (rootless on a hybrid host).
import { CLONE_FLAGS } from './namespaces';
import { op, type PlanOp } from './plan-encoding';

/** The hierarchy key of the unified (v2) hierarchy, also on a pure v2 host (cgroups/detect.ts). */
const UNIFIED = 'unified';

export interface CgroupJoin {
  /** Ops for the start of the plan, before any namespace is joined or made (cgroupJoinOps adds pidsV1Dir's). */
  initOps: PlanOp[];
  /**
   * The v1 pids hierarchy's dir, joined by the child of the plan's fork if it forks
   * (cgroupJoinOps): the kernel counts every task in it, and an intermediate there
   * as well would make a fork at pids.max - 1 tasks fail (create with a limit of 1,
   * an exec into a container one below its limit).
   */
  pidsV1Dir?: string;
  /**
   * The init forks into the v2 cgroup: the plan must fork, and only after that fork
   * make namespaces other than pid and time, and join a cgroup namespace (a create
   * plan also a mount namespace given by path: see joinsAfterFork).
   */
  forkInto: boolean;
  /** Dirs the parent writes the init's pid into, at `sync start`. */
  parentDirs: string[];
}

export const NO_CGROUP_JOIN: CgroupJoin = { initOps: [], forkInto: false, parentDirs: [] };

/**
 * The v1 pids hierarchy among the keys (cgroups/detect.ts: the mount dir, which on
 * the usual hosts names its controllers, as in 'pids'). A host mounting it under
 * another name gets the join by the intermediate, as the other v1 hierarchies.
 */
function isPidsV1Key(key: string): boolean {
  return key.split(',').includes('pids');
}

/**
 * dirs: the container's cgroup dir per hierarchy key (CgroupManager.paths(), or the
 * sub-cgroups an exec asked for); v2ByParent: the parent places the init in the v2
 * hierarchy (the init enters a user namespace, new or joined, before it forks, or the
 * caller may be refused there); byParent: the parent places the init in every hierarchy.
 * That is how an exec joins a paused container: a process entering a frozen cgroup
 * freezes at once, so an init joining by itself would stop halfway through its
 * joins, unable to say how far it got, while the parent that places it knows the
 * moment it is in all of them (and frozen). The v1 pids hierarchy is the process's to
 * join (pidsV1Dir), unless pidsByParent: with the systemd driver its dir exists only
 * once the parent has had systemd start the unit, at `sync start`.
 */
export function planCgroupJoin(dirs: Readonly<Record<string, string>>, v2ByParent: boolean, byParent = false, pidsByParent = false, pidsAtOnce = false): CgroupJoin {
  const initOps: PlanOp[] = [];
  const parentDirs: string[] = [];
  let forkInto = false;
  let pidsV1Dir: string | undefined;
  for (const [key, dir] of Object.entries(dirs)) {
    // The v1 pids hierarchy freezes nothing: joined by the process itself also in a
    // paused container, where the parent places it everywhere else. pidsAtOnce: by the
    // init at once, with the credentials it starts with, as every other v1 hierarchy
    // (pidsAtOnceFor): its intermediate then counts against pids.max too.
    if (key !== UNIFIED && isPidsV1Key(key) && pidsAtOnce && !pidsByParent) initOps.push(op('cgroup', 'v1', dir));
    else if (key !== UNIFIED && isPidsV1Key(key) && pidsV1Dir === undefined && !pidsByParent) pidsV1Dir = dir;
    else if (byParent) parentDirs.push(dir);
    else if (key !== UNIFIED) initOps.push(op('cgroup', 'v1', dir));
    else if (v2ByParent) parentDirs.push(dir);
    else {
      initOps.push(op('cgroup', 'v2', dir));
      forkInto = true;
    }
  }
  return { initOps, forkInto, parentDirs, ...(pidsV1Dir !== undefined ? { pidsV1Dir } : {}) };
}

/**
 * Whether the v1 pids hierarchy must be joined at once rather than by the child of the
 * plan's fork (`v1AtFork`). The kernel lets a v1 move through only when the file's
 * opener is the initial user namespace's root, or has the uid of the process moved:
 * the child moves itself once it is the container's root, in the container's user
 * namespace (new, or joined), and so its move is refused (EACCES) to a tsrun that is
 * root of a user namespace (nested in a user-namespaced container, rootless podman)
 * or an unprivileged user, unless that user is who the container's root maps to.
 * callerIsHostRoot: euid 0 in the initial user namespace; containerRootHostUid: the
 * uid a new user namespace maps its root to (undefined: a joined one, not known).
 */
export function pidsAtOnceFor(hasUserNs: boolean, callerIsHostRoot: boolean, callerEuid: number, containerRootHostUid: number | undefined): boolean {
  return hasUserNs && !callerIsHostRoot && containerRootHostUid !== callerEuid;
}

/** The cgroup ops at the start of a plan, which forks or not (PROTOCOL.md, `cgroup v1AtFork`). */
export function cgroupJoinOps(join: CgroupJoin, forks: boolean): PlanOp[] {
  if (join.pidsV1Dir === undefined) return join.initOps;
  return [...join.initOps, op('cgroup', forks ? 'v1AtFork' : 'v1', join.pidsV1Dir)];
}

/**
 * Namespace types a create plan joins only after a fork into the v2 cgroup (an exec
 * plan, whose namespaces are fds, joins only the cgroup one after it).
 */
export function joinsAfterFork(join: CgroupJoin): ReadonlySet<string> {
  // A cgroup namespace is rooted where the process is when it makes or enters it
  // (and, on hosts mounting cgroup2 with nsdelegate, clone3 refuses a target outside
  // the caller's cgroup namespace); the mount namespace is joined last of all, so
  // that one moves too.
  return join.forkInto ? new Set(['cgroup', 'mount']) : new Set();
}

/**
 * The part of unshare flags that waits until after the plan's fork (`forks`). After a
 * fork into the v2 cgroup: all but pid and time (they apply to children only, and a
 * time namespace's offsets are written before that fork). A namespace made after the
 * fork is charged to the container's cgroup (the kernel memory of a network or mount
 * namespace lands in the cgroup its maker is in), and a cgroup namespace is rooted
 * where the process is: so it also waits for a v1 pids join at the fork.
 */
export function unshareAfterFork(join: CgroupJoin, flags: number, forks: boolean): number {
  if (join.forkInto) return flags & ~(CLONE_FLAGS.pid | CLONE_FLAGS.time);
  return forks && join.pidsV1Dir !== undefined ? flags & CLONE_FLAGS.cgroup : 0;
}
