// `run`: create a container that starts as soon as it is ready, then (in the
// foreground) wait for it, forward our signals to it, clean up, and return its exit
// status the way a shell does.
import { log } from '../log';
import { native } from '../native';
import { proxyConsole, type ConsoleProxy } from './console';
import { createContainer, type CreateOptions } from './create';
import { deleteContainer } from './delete';
import { runPoststartHooks } from './start';
import type { ContainerState } from '../state/types';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  noSubreaper?: boolean;
}

const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH', 'SIGPIPE', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

function keepSigpipeIgnored(): void {
  // nothing: see runContainer
}

export async function runContainer(opts: RunOptions): Promise<number> {
  const nat = native();
  // The container's init is a grandchild (the init forks into its pid namespace):
  // only as a subreaper do we inherit it and can read its exit status. So a
  // foreground run is always one; --no-subreaper is accepted for compatibility.
  if (!opts.detach) nat.setChildSubreaper();
  if (opts.noSubreaper) log.debug('--no-subreaper: a foreground run still reaps its container (the init is a grandchild)');
  // Our signals are caught from the start, as runc catches them: one that came while
  // the container is being made (a slow hook, say) would otherwise kill tsrun halfway
  // and leave all of it behind. Node hands a caught signal over only when its event
  // loop turns, at the wait below: by then the container runs and gets it. Detached,
  // they are dropped.
  let target: ContainerState | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    if (!target) return;
    try {
      nat.pidfdKill(target.pid, (require('os') as typeof import('os')).constants.signals[signal], target.startTime);
    } catch {
      // it has exited; the wait below returns
    }
  };
  // Node starts with SIGPIPE ignored, and taking away a signal's last listener sets
  // it to its default, which for SIGPIPE is to die: a write to a stderr whose reader
  // is gone would then kill tsrun before it deletes the container. With this listener,
  // which stays for the rest of the process, SIGPIPE is caught and dropped.
  process.on('SIGPIPE', keepSigpipeIgnored);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    return await runWithSignalsCaught(opts, (state) => (target = state));
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

async function runWithSignalsCaught(opts: RunOptions, forwardTo: (state: ContainerState) => void): Promise<number> {
  const nat = native();
  // Started as soon as it is ready: the exec FIFO and a `start` would only make the
  // init wait for this same process (runc's `run` goes through them; nothing outside
  // can tell, except that `state` never catches this container `created`).
  const { state, consoleFd } = createContainer({ ...opts, foreground: !opts.detach, startAtOnce: true });
  let proxy: ConsoleProxy | undefined;
  try {
    // Whatever the container writes meanwhile waits in the pty.
    if (consoleFd !== undefined) proxy = proxyConsole(consoleFd);
    runPoststartHooks(state);
  } catch (e) {
    proxy?.restore();
    deleteContainer(opts.root, opts.id, true);
    throw e;
  }
  log.debug(`run ${opts.id}: started`);
  if (opts.detach) return 0;

  forwardTo(state);
  let result;
  try {
    result = await nat.waitPidAsync(state.pid);
  } catch (e) {
    // Never leave the container behind because the wait failed.
    proxy?.restore();
    deleteContainer(opts.root, opts.id, true);
    throw e;
  }
  log.debug(`run ${opts.id}: container exited`);
  try {
    if (!opts.keep) deleteContainer(opts.root, opts.id, true);
    // Everything the container wrote before it exited reaches our terminal first.
    if (proxy && !opts.keep) await proxy.drained;
  } finally {
    // Also when delete failed: our terminal must not stay raw.
    proxy?.restore();
  }
  log.debug(`run ${opts.id}: deleted`);
  if (result.signal !== null) return 128 + result.signal;
  return result.exitCode ?? 0;
}
