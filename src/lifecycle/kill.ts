// `kill`: signal the init (or, with --all, every process of the container's cgroup).
import type { CgroupManager } from '../cgroups/manager';
import { ContainerStateError } from '../errors';
import { log } from '../log';
import { native } from '../native';
import { cgroupProcessesAreItsOwn, hasOwnPidNamespace } from './cgroup-ownership';
import { Container } from './container';
import { parseSignal } from './signals';

export function killContainer(root: string, id: string, signal: string | undefined, allRequested = false): void {
  // Serialized with create, start and delete: the state read under the lock is the
  // one the signal acts on (not a container a concurrent delete is tearing down).
  const { container, unlock } = Container.openLocked(root, id);
  try {
    const status = container.status();
    const sig = parseSignal(signal);
    // Without a pid namespace of its own, the init's death does not end the others
    // (it is not their namespace's pid 1): SIGKILL goes to every process, as runc 1.2
    // does without --all (which it deprecated for this).
    const all = allRequested || (sig === 9 && !hasOwnPidNamespace(container));
    if (all && status === 'stopped') {
      // runc signals whatever is left in the cgroup and succeeds (containerd's shim
      // sends this while it cleans up): here only what may still be the container's.
      if (cgroupProcessesAreItsOwn(container, false)) signalAll(container, sig);
      return;
    }
    if (status === 'stopped' || status === 'creating') throw new ContainerStateError('container not running');
    if (all) {
      // The init too, by its pidfd: a container without a cgroup of its own
      // (rootless without delegation) lists no processes there.
      if (!signalAll(container, sig).includes(container.state.pid)) {
        try {
          native().pidfdKill(container.state.pid, sig, container.state.startTime);
        } catch {
          // exited meanwhile
        }
      }
      return;
    }
    try {
      native().pidfdKill(container.state.pid, sig, container.state.startTime);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new ContainerStateError('container not running');
      throw e;
    }
    // A frozen process acts on SIGKILL only once thawed (v1); runc thaws it too, and
    // as there, the signal is sent whether or not the thaw works.
    if (status === 'paused' && sig === 9) {
      try {
        container.cgroups.thaw();
      } catch (e) {
        log.warn(`thawing ${id} after SIGKILL: ${(e as Error).message}`);
      }
    }
  } finally {
    unlock();
  }
}

/**
 * SIGKILL for a process a failed create or exec started, whatever became of it:
 * only while `pid` is still that process (its start time, or our own child that we
 * have not reaped), else nothing.
 */
export function killQuietly(pid: number | undefined, startTime?: string): void {
  if (!pid) return;
  try {
    native().pidfdKill(pid, 9, startTime);
  } catch {
    // already gone
  }
}

/**
 * Signals every process of the container's cgroup, frozen meanwhile (as runc does)
 * so that no process can fork a new one between listing and signalling.
 * Returns the pids that were signalled.
 */
export function signalAll(container: Container, sig: number): number[] {
  return signalCgroup(container.cgroups, sig);
}

/** signalAll for a cgroup manager alone (a create that failed has no Container yet). */
export function signalCgroup(cg: CgroupManager, sig: number): number[] {
  const listed = cg.pids();
  if (listed.length === 0) return [];
  // cgroup v2 kills the whole cgroup atomically (cgroup.kill): no freeze needed.
  if (sig === 9 && cg.killAll()) return listed;
  // A paused container stays paused after any signal but SIGKILL, which needs its
  // processes thawed to die.
  let wasFrozen = false;
  let frozen = false;
  try {
    wasFrozen = cg.isFrozen();
    // Paused, it is frozen already: freezing it again could only undo the pause
    // (freeze() thaws when it times out).
    if (!wasFrozen) cg.freeze();
    frozen = true;
  } catch {
    frozen = false;
  }
  const pids = cg.pids();
  try {
    for (const pid of pids) {
      try {
        native().pidfdKill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  } finally {
    if (frozen && (sig === 9 || !wasFrozen)) cg.thaw();
  }
  return pids;
}
