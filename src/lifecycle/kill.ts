// `kill`: signal the init (or, with --all, every process of the container's cgroup).
import type { CgroupManager } from '../cgroups/manager';
import { ContainerStateError } from '../errors';
import { log } from '../log';
import { native } from '../native';
import { cgroupProcessesAreItsOwn, hasOwnCgroup, hasOwnPidNamespace } from './cgroup-ownership';
import { Container } from './container';
import { pidNamespaceMembers } from './pid-namespace';
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
      if (!hasOwnCgroup(container)) {
        // No cgroup of its own (rootless without delegation): its processes are
        // those of its pid namespace, as `ps` lists them; without one of those
        // either, only the init can be told for the container's.
        if (hasOwnPidNamespace(container)) {
          signalPidNamespace(container, sig);
          return;
        }
        if (allRequested) log.warn(`container ${id} has neither a cgroup nor a pid namespace of its own: only its init is signalled`);
      }
      // The init too, by its pidfd, should the cgroup not list it.
      if (!signalAll(container, sig).includes(container.state.pid)) signalQuietly(container.state.pid, sig, container.state.startTime);
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
 * Signals every process of the container's pid namespace, each once, by a pidfd
 * checked against the start time read before its namespace (a pid reused meanwhile
 * is left alone), passes repeated until one finds no process not yet signalled (one
 * forked meanwhile), and the init last: its end takes the namespace with it.
 */
function signalPidNamespace(container: Container, sig: number): void {
  const { pid: initPid, startTime: initStartTime } = container.state;
  // By pid and start time: a pid that a process of the namespace gets back after
  // another of it ended is a process not yet signalled.
  const key = (m: { pid: number; startTime: string }) => `${m.pid}@${m.startTime}`;
  const signalled = new Set<string>([key({ pid: initPid, startTime: initStartTime })]);
  for (let pass = 0; pass < 100; pass++) {
    const fresh = pidNamespaceMembers(initPid, initStartTime).filter((m) => !signalled.has(key(m)));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      signalled.add(key(m));
      signalQuietly(m.pid, sig, m.startTime);
    }
  }
  signalQuietly(initPid, sig, initStartTime);
}

/** `sig` to `pid` while it is still the process started at `startTime` (or our unreaped child); nothing once it is gone. */
function signalQuietly(pid: number, sig: number, startTime: string | undefined): void {
  try {
    native().pidfdKill(pid, sig, startTime);
  } catch {
    // exited meanwhile
  }
}

/**
 * SIGKILL for a process a failed create or exec started, whatever became of it:
 * only while `pid` is still that process (its start time, or our own child that we
 * have not reaped), else nothing.
 */
export function killQuietly(pid: number | undefined, startTime?: string): void {
  if (pid) signalQuietly(pid, 9, startTime);
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
