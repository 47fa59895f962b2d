// `run`: create a container that starts as soon as it is ready, then (in the
// foreground) wait for it, forward our signals to it, clean up, and return its exit
// status the way a shell does.
import { log } from '../log';
import { native } from '../native';
import { proxyConsole, type ConsoleProxy } from './console';
import type { Bundle } from '../config/load';
import { createContainer, loadCreateBundle, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { runPoststartHooks } from './start';
import { waitForContainerProcess } from './container-wait';
import { withSignalsCaught, type SignalForwarding } from './signal-forwarding';
import { callerNotifySocket, relayReady, relayReadyAsync } from './sd-notify';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  noSubreaper?: boolean;
}

export async function runContainer(opts: RunOptions): Promise<number> {
  // The container's init is a grandchild (the init forks into its pid namespace):
  // only as a subreaper do we inherit it and can read its exit status. So a
  // foreground run is always one; --no-subreaper is accepted for compatibility.
  if (!opts.detach) native().setChildSubreaper();
  if (opts.noSubreaper) log.debug('--no-subreaper: a foreground run still reaps its container (the init is a grandchild)');
  const bundle = loadCreateBundle(opts);
  return withSignalsCaught((forwarding) => runWithSignalsCaught(opts, bundle, forwarding));
}

async function runWithSignalsCaught(opts: RunOptions, bundle: Bundle, forwarding: SignalForwarding): Promise<number> {
  const nat = native();
  // Started as soon as it is ready: the exec FIFO and a `start` would only make the
  // init wait for this same process (runc's `run` goes through them; nothing outside
  // can tell, except that `state` never catches this container `created`).
  const { state, consoleFd, piped, notifyFd } = createContainer({ ...opts, foreground: !opts.detach, startAtOnce: true }, bundle);
  // Once it has exited, another command may delete it and create another of the id: never ours to delete.
  const ours = { pid: state.pid, startTime: state.startTime };
  let proxy: ConsoleProxy | undefined;
  try {
    // Whatever the container writes meanwhile waits in the pty.
    if (consoleFd !== undefined) proxy = proxyConsole(consoleFd);
    runPoststartHooks(state);
  } catch (e) {
    if (notifyFd !== undefined) nat.closeFd(notifyFd);
    proxy?.restore();
    piped?.abandon();
    deleteContainer(opts.root, opts.id, true, ours);
    throw e;
  }
  log.debug(`run ${opts.id}: started`);
  // NOTIFY_SOCKET (sd-notify.ts). The container runs whatever becomes of the relay:
  // a failure is a warning, as runc's run ignores it.
  const notifyTarget = callerNotifySocket();
  const relayFailed = (e: unknown): void => log.warn(`NOTIFY_SOCKET ${notifyTarget}: ${(e as Error).message}`);
  if (opts.detach) {
    if (notifyFd !== undefined && notifyTarget !== undefined) {
      try {
        relayReady(notifyFd, notifyTarget, state.pid, state.startTime);
      } catch (e) {
        relayFailed(e);
      }
    }
    return 0;
  }
  // In the foreground, signals are passed on and the container's exit is waited for
  // meanwhile; the relay ends by the time the container has.
  const relay = notifyFd !== undefined && notifyTarget !== undefined ? relayReadyAsync(notifyFd, notifyTarget, state.pid, state.startTime).catch(relayFailed) : undefined;

  forwarding.forwardTo(state);
  let result;
  try {
    // The container's orphans (no pid namespace) are ours as its subreaper: reaped too.
    // The relay's send runs on this thread: the event loop must go on while we wait.
    result = await waitForContainerProcess(state.pid, proxy !== undefined || piped?.needsEventLoop === true || relay !== undefined);
    forwarding.stop();
  } catch (e) {
    forwarding.stop();
    // Never leave the container behind because the wait failed.
    proxy?.restore();
    piped?.abandon();
    deleteContainer(opts.root, opts.id, true, ours);
    throw e;
  }
  log.debug(`run ${opts.id}: container exited`);
  await relay;
  try {
    if (!opts.keep) deleteContainer(opts.root, opts.id, true, ours);
    // Everything the container wrote before it exited reaches our terminal first;
    // a process it left holding the pty (--keep, no pid namespace) is not waited for.
    proxy?.finish();
  } catch (e) {
    // A failed delete: the copy is not waited for (a copier thread must not outlive us).
    piped?.abandon();
    throw e;
  } finally {
    // Also when delete failed: our terminal must not stay raw.
    proxy?.restore();
  }
  // What the container wrote reaches our terminal or file (its processes are gone
  // now: the pipes end). runc waits for its copies too.
  await piped?.finish();
  log.debug(`run ${opts.id}: deleted`);
  if (result.signal !== null) return 128 + result.signal;
  return result.exitCode ?? 0;
}
