// `start`: release the init parked on the exec FIFO (DESIGN.md §3 step 5) and wait
// until it has exec'd the container's process.
import * as fs from 'fs';
import { ContainerStateError, InitError } from '../errors';
import { log } from '../log';
import { native } from '../native';
import { Container } from './container';
import { crashPoint } from './crash-point';
import type { ContainerState } from '../state/types';
import { hookState, hooksOf, runHooksWarnOnly } from './hooks';
import { parseStartReport } from './start-report';

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
    // Returns once the container's process was exec'd (or the init failed): the
    // startContainer hooks run meanwhile, and the spec wants poststart after the exec.
    // The lock stays held, so a kill or delete waits for those hooks (their timeouts).
    const report = native().releaseFifo(fifo, container.state.pid);
    crashPoint('start:released');
    // unlink, not rmSync: that loads its rimraf module first (a third of a ms).
    try {
      fs.unlinkSync(fifo);
    } catch (e) {
      // A FIFO left behind would make the running container look `created`.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`removing ${fifo}: ${(e as Error).message}`);
    }
    const outcome = report === null ? { kind: 'notReleased' as const } : parseStartReport(report);
    if (outcome.kind === 'notReleased') {
      // Gone before its handshake, or released by an earlier start that died meanwhile.
      throw new ContainerStateError(container.alive() ? 'cannot start an already running container' : 'cannot start a container that has stopped');
    }
    // The init exits after either: the container is stopped (spec: a failing
    // startContainer hook fails start and stops the container).
    if (outcome.kind === 'failed') throw new InitError(outcome.message);
    if (outcome.kind === 'died') throw new InitError("the container's init exited before it executed the container's process");
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
