// `start`: release the init parked on the exec FIFO (DESIGN.md §3 step 5).
import * as fs from 'fs';
import { ContainerStateError } from '../errors';
import { log } from '../log';
import { native } from '../native';
import { Container } from './container';
import { crashPoint } from './crash-point';
import type { ContainerState } from '../state/types';
import { hookState, hooksOf, runHooksWarnOnly } from './hooks';

export function startContainer(root: string, id: string): void {
  const container = Container.open(root, id);
  const unlock = container.store.lock(id);
  try {
    const status = container.status();
    // runc's messages, word for word.
    if (status === 'stopped') throw new ContainerStateError('cannot start a container that has stopped');
    if (status === 'running') throw new ContainerStateError('cannot start an already running container');
    if (status !== 'created') throw new ContainerStateError(`cannot start a container in the ${status} state`);
    const fifo = container.store.fifoPath(id);
    crashPoint('start:locked');
    const released = native().releaseFifo(fifo, container.state.pid);
    crashPoint('start:released');
    // unlink, not rmSync: that loads its rimraf module first (a third of a ms).
    try {
      fs.unlinkSync(fifo);
    } catch (e) {
      // A FIFO left behind would make the running container look `created`.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`removing ${fifo}: ${(e as Error).message}`);
    }
    if (!released) throw new ContainerStateError('cannot start a container that has stopped');
    runPoststartHooks(container.state);
  } finally {
    unlock();
  }
}

/** After the user's process was released; a failure is a warning (runtime spec). */
export function runPoststartHooks(state: ContainerState): void {
  const poststart = hooksOf(state).poststart;
  if (poststart?.length) runHooksWarnOnly('poststart', poststart, hookState(state, 'running'));
}
