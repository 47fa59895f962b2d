// A foreground `run` or `exec` passes our signals on to its process, as runc does,
// and catches them from before that process exists: one that came while it was being
// made would otherwise kill tsrun halfway and leave it all behind. Node hands a
// caught signal over only when its event loop turns, which is at the wait for the
// process: by then it runs and gets it. A signal handed over while there is no
// process to go to (detached, failed, or after the wait) is dropped.
//
// Not passed on:
// - SIGPIPE. What tsrun gets is nearly always its own write to a pipe whose reader is
//   gone (a log line): passed on, it would kill the container for tsrun's stderr.
//   Node starts with it ignored, and it is never given a listener (taking away a
//   last listener would set its default action, which is to die).
// - SIGTSTP, SIGTTIN and SIGTTOU until the process runs, and again before the
//   terminal is put back: caught, they would make a terminal change from a background
//   process group retry forever (the kernel answers it with SIGTTOU and a restart).
//   Uncaught, they stop tsrun, as job control expects.
import { native } from '../native';

const CAUGHT_FROM_THE_START: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGWINCH'];
const JOB_CONTROL: readonly NodeJS.Signals[] = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU'];

export interface SignalTarget {
  pid: number;
  /** The process's start time from /proc (state.json's): signalled only while the pid is still it. */
  startTime?: string;
}

export interface SignalForwarding {
  /** From now on, signals go to this process (the job-control ones are caught from here). */
  forwardTo(target: SignalTarget): void;
  /** The process has been waited for: nothing goes to its pid any more, and job control is Node's again. */
  stop(): void;
}

/** Runs `body` with our signals caught; see the top of this file. */
export async function withSignalsCaught<T>(body: (forwarding: SignalForwarding) => Promise<T>): Promise<T> {
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
  let jobControl = false;
  const stop = (): void => {
    target = undefined;
    if (jobControl) for (const s of JOB_CONTROL) process.off(s, forward);
    jobControl = false;
  };
  for (const s of CAUGHT_FROM_THE_START) process.on(s, forward);
  try {
    return await body({
      forwardTo: (t) => {
        target = t;
        if (!jobControl) for (const s of JOB_CONTROL) process.on(s, forward);
        jobControl = true;
      },
      stop,
    });
  } finally {
    stop();
    for (const s of CAUGHT_FROM_THE_START) process.off(s, forward);
  }
}
