// `start`: release the init parked on the exec FIFO (DESIGN.md §3 step 5) and wait
// until it has exec'd the container's process.
import * as fs from 'fs';
import { ContainerStateError, InitError } from '../errors';
import { log } from '../log';
import { closeFile, openFile, removeFile, statFd, statPath, type FileFacts } from '../host-files';
import { native } from '../native';
import { Container } from './container';
import { crashPoint } from '../crash-point';
import type { ContainerState } from '../state/types';
import { hookState, hooksOf, runHooksWarnOnly } from './hooks';
import { CONTAINER_INIT_DIED, parseStartReport } from './start-report';
import { runsOn } from '../state/status';
import { callerNotifySocket, listenIfPrepared, notifyDir, relayReady } from './sd-notify';

export function startContainer(root: string, id: string): void {
  const { container, unlock } = Container.openLocked(root, id);
  const nat = native();
  const fifo = container.store.fifoPath(id);
  let fifoFd: number;
  try {
    const status = container.status();
    // runc's messages, word for word.
    if (status === 'stopped') throw new ContainerStateError('cannot start a container that has stopped');
    if (status === 'running') throw new ContainerStateError('cannot start an already running container');
    if (status !== 'created') throw new ContainerStateError(`cannot start a container in the ${status} state`);
    crashPoint('start:locked');
    fifoFd = openFifoForStart(fifo);
  } finally {
    // The FIFO is ours now (its lock keeps a second start out): nothing is left to
    // serialize with kill or delete. The init may not answer for a while (stopped by
    // SIGSTOP) and the startContainer hooks may take forever (a hook without a
    // timeout); a kill or delete must not wait for either, as with runc.
    unlock();
  }
  // NOTIFY_SOCKET (sd-notify.ts): bound before the container's process may run, so
  // that no READY= it sends is lost.
  const notifyTarget = callerNotifySocket();
  let notifyFd: number | undefined;
  try {
    if (notifyTarget !== undefined) notifyFd = listenIfPrepared(notifyDir(container.store.dir(id)));
  } catch (e) {
    nat.closeFd(fifoFd);
    throw e;
  }
  try {
    startReleased(container, fifoFd);
  } catch (e) {
    if (notifyFd !== undefined) nat.closeFd(notifyFd);
    throw e;
  }
  if (notifyFd !== undefined && notifyTarget !== undefined) relayReady(notifyFd, notifyTarget, container.state.pid, container.state.startTime);
}

function startReleased(container: Container, fifoFd: number): void {
  const nat = native();
  const fifo = container.store.fifoPath(container.id);
  const released = nat.releaseFifo(fifoFd, container.state.pid);
  if (released === null) {
    // Gone before its handshake (a kill or delete -f meanwhile, or before we came).
    throw new ContainerStateError(container.alive() ? 'cannot start an already running container' : 'cannot start a container that has stopped');
  }
  crashPoint('start:released');
  // Until the container's process was exec'd (or the init failed): the spec wants
  // poststart after the exec. A kill or delete meanwhile ends the init: EOF without `x`.
  // The FIFO stays until then, as with runc: during the startContainer hooks the
  // container is still `created` (and a plain delete may still remove it).
  const ours = statFd(released.fd);
  const report = released.head + nat.drainFifo(released.fd);
  unlinkOurFifo(fifo, ours);
  const { pid, startTime } = container.state;
  const outcome = parseStartReport(report, () => runsOn(pid, startTime), container.state.fifoProtocol === undefined);
  if (outcome.kind === 'notReleased') throw new InitError(`unexpected report from the container's init: ${JSON.stringify(report)}`);
  // The init exits after either: the container is stopped (spec: a failing
  // startContainer hook fails start and stops the container).
  if (outcome.kind === 'failed') throw new InitError(outcome.message);
  if (outcome.kind === 'died') throw new InitError(CONTAINER_INIT_DIED);
  runPoststartHooks(container.state);
}

/**
 * Unlinked only while it is still the FIFO we opened: without the lock, a delete -f
 * and a new create of the same id could have made another one meanwhile. unlink, not
 * rmSync: that loads its rimraf module first (a third of a ms).
 */
function unlinkOurFifo(fifo: string, ours: FileFacts | null): void {
  try {
    if (ours !== null && statPath(fifo)?.id === ours.id) removeFile(fifo);
  } catch (e) {
    // Left behind, it is harmless (status asks whether the init still runs
    // tsrun-init), but worth a word.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`removing ${fifo}: ${(e as Error).message}`);
  }
}

/**
 * The exec FIFO's read end (O_NONBLOCK: no writer is waited for here), locked against a
 * second start: only one reader may take the init's handshake. A start that died
 * released its lock with its fds.
 */
function openFifoForStart(fifo: string): number {
  let fd: number;
  try {
    fd = openFile(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, 0);
  } catch (e) {
    // Gone: an earlier start released the init and unlinked it (running, or stopped since).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ContainerStateError('cannot start an already running container');
    throw e;
  }
  let locked: boolean;
  try {
    locked = native().flock(fd, true, true);
  } catch (e) {
    closeFile(fd);
    throw e;
  }
  if (!locked) {
    closeFile(fd);
    throw new ContainerStateError('cannot start an already running container');
  }
  return fd;
}

/** After the user's process was released; a failure is a warning (runtime spec). */
export function runPoststartHooks(state: ContainerState): void {
  const poststart = hooksOf(state).poststart;
  if (poststart?.length) runHooksWarnOnly('poststart', poststart, hookState(state, 'running'));
}
