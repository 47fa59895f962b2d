// `kill`: signal the init (or, with --all, every process of the container's cgroup).
import { ContainerStateError } from '../errors';
import { native } from '../native';
import { Container } from './container';
import { parseSignal } from './signals';

export function killContainer(root: string, id: string, signal: string | undefined, all = false): void {
  const container = Container.open(root, id);
  const status = container.status();
  if (status === 'stopped' || status === 'creating') throw new ContainerStateError('container not running');
  const sig = parseSignal(signal);
  const nat = native();
  if (all) {
    signalAll(container, sig);
    return;
  }
  try {
    nat.pidfdKill(container.state.pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new ContainerStateError('container not running');
    throw e;
  }
}

/**
 * Signals every process of the container's cgroup. For SIGKILL it freezes first
 * so that no process can fork a new one between listing and signalling.
 * Returns the pids that were signalled.
 */
export function signalAll(container: Container, sig: number): number[] {
  const cg = container.cgroups;
  const listed = cg.pids();
  if (listed.length === 0) return [];
  // cgroup v2 kills the whole cgroup atomically (cgroup.kill): no freeze needed.
  if (sig === 9 && cg.killAll()) return listed;
  let frozen = false;
  if (sig === 9) {
    try {
      cg.freeze();
      frozen = true;
    } catch {
      frozen = false;
    }
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
    if (frozen) cg.thaw();
  }
  return pids;
}
