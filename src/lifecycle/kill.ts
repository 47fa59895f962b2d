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

/** Freeze first so no process can fork a new one between listing and signalling. */
export function signalAll(container: Container, sig: number): void {
  const cg = container.cgroups;
  if (sig === 9 && cg.killAll()) return;
  let frozen = false;
  if (sig === 9) {
    try {
      cg.freeze();
      frozen = true;
    } catch {
      frozen = false;
    }
  }
  try {
    for (const pid of cg.pids()) {
      try {
        native().pidfdKill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  } finally {
    if (frozen) cg.thaw();
  }
}
