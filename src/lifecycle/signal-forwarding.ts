// A foreground `run` or `exec` passes our signals on to its process, as runc does,
// and catches them from before that process exists: one that came while it was being
// made would otherwise kill tsrun halfway and leave it all behind. Node hands a
// caught signal over only when its event loop turns, which is at the wait for the
// process: by then it runs and gets it. Caught with no process to go to, a signal is
// dropped (a detached run or exec, or one that failed).
import { native } from '../native';

/** The signals passed on (SIGPIPE by `run` only: see withSignalsCaught). */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

export interface SignalTarget {
  pid: number;
  /** The process's start time from /proc (state.json's): signalled only while the pid is still it. */
  startTime?: string;
}

function keepSigpipeIgnored(): void {
  // nothing: see withSignalsCaught
}

/**
 * Runs `body` with our signals caught; `forwardTo` names the process they go to from
 * then on. With `sigpipe`, SIGPIPE is passed on too, and stays caught afterwards:
 * Node starts with it ignored, and taking away a signal's last listener sets its
 * default, which for SIGPIPE is to die (a write to a stderr whose reader is gone would
 * then kill tsrun before it cleans up).
 */
export async function withSignalsCaught<T>(sigpipe: boolean, body: (forwardTo: (target: SignalTarget) => void) => Promise<T>): Promise<T> {
  let target: SignalTarget | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    if (!target) return;
    try {
      // The os module only when a signal comes: start-up does not need it.
      native().pidfdKill(target.pid, (require('os') as typeof import('os')).constants.signals[signal], target.startTime);
    } catch {
      // it has exited; the caller's wait returns
    }
  };
  const signals = sigpipe ? [...FORWARDED, 'SIGPIPE' as const] : FORWARDED;
  if (sigpipe) process.on('SIGPIPE', keepSigpipeIgnored);
  for (const s of signals) process.on(s, forward);
  try {
    return await body((t) => (target = t));
  } finally {
    for (const s of signals) process.off(s, forward);
  }
}
