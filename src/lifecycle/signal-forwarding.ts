// A foreground `run` or `exec` passes our signals on to its process, as runc does,
// and catches them from before that process exists: one that came while it was being
// made would otherwise kill tsrun halfway and leave it all behind. Such a signal is
// held (one of each) and sent as soon as the process is known; one that comes when
// there is no process to go to (detached, failed, or after the wait) is dropped. The
// addon's signal handler sends them itself (addon/native/signals.cpp): no JavaScript
// runs for a signal, and Node's own signal listeners are not involved.
//
// Like runc, every signal that can be caught is passed on, the real-time ones too,
// except:
// - SIGCHLD (our children's), SIGURG (out-of-band data on a socket of ours) and
//   SIGWINCH (our terminal's size: a proxied pty gets the new size, which signals
//   its process itself), which runc does not pass on either.
// - SIGPIPE. What tsrun gets is nearly always its own write to a pipe whose reader is
//   gone (a log line): passed on, it would kill the container for tsrun's stderr.
//   Node starts with it ignored, and it stays so.
// - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS and SIGTRAP: the signals of a fault of
//   tsrun's own (a bad access, a seccomp trap, a breakpoint); caught, the faulting
//   instruction would run again forever.
//   Sent with kill(2) they kill tsrun, not the process.
// - SIGPROF in a node profiling tsrun (--cpu-prof, --prof): V8's sampler owns it.
// - SIGKILL and SIGSTOP, which nothing can catch; and glibc's two reserved signals
//   below SIGRTMIN (its threads' own).
// - SIGTSTP, SIGTTIN and SIGTTOU until the process runs, and again before the
//   terminal is put back: caught, they would make a terminal change from a background
//   process group retry forever (the kernel answers it with SIGTTOU and a restart).
//   Uncaught, they stop tsrun, as job control expects.
import { log } from '../log';
import { native, type NativeAddon } from '../native';

const CAUGHT_FROM_THE_START = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGABRT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCONT',
  'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGIO', 'SIGPWR',
] as const;
const JOB_CONTROL = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const;

/** SIGPROF, unless V8's sampler may use it. */
function profilerSignals(): string[] {
  const nodeOptions = process.env.NODE_OPTIONS;
  const flags = [...process.execArgv, ...(nodeOptions ? nodeOptions.split(/\s+/) : [])];
  // --prof, --cpu-prof and their --cpu-prof-dir=... kin (no RegExp: see src/cli/argv.ts).
  const profiling = (f: string): boolean => ['--prof', '--cpu-prof'].some((p) => f === p || f.startsWith(`${p}-`) || f.startsWith(`${p}=`));
  return flags.some(profiling) ? [] : ['SIGPROF'];
}

export interface SignalTarget {
  pid: number;
  /** The process's start time from /proc (state.json's): signalled only while the pid is still it. */
  startTime?: string;
}

export interface SignalForwarding {
  /** From now on, signals go to this process (the job-control ones are caught from here). Never throws. */
  forwardTo(target: SignalTarget): void;
  /** The process has been waited for: nothing goes to its pid any more, and job control is Node's again. */
  stop(): void;
}

/** Catches the signals of the top of this file: held until forwarded, dropped at release. */
function catchOurSignals(nat: NativeAddon): void {
  const [rtMin, rtMax] = nat.realtimeSignals();
  const realtime = Array.from({ length: rtMax - rtMin + 1 }, (_, i) => rtMin + i);
  nat.catchSignals([...nat.signalNumbers([...CAUGHT_FROM_THE_START, ...profilerSignals()]), ...realtime]);
}

/**
 * Runs `body` (a `create`) with the same signals caught and dropped, as runc's create
 * catches every signal and forwards none: a SIGTERM or ^C while a hook runs would
 * otherwise end tsrun there and leave the hook running, orphaned, and the container
 * half made. SIGKILL still ends it (and delete --force cleans up after it).
 */
export function withSignalsIgnored<T>(body: () => T): T {
  const nat = native();
  catchOurSignals(nat);
  try {
    return body();
  } finally {
    nat.releaseSignals();
  }
}

/** Runs `body` with our signals caught; see the top of this file. */
export async function withSignalsCaught<T>(body: (forwarding: SignalForwarding) => Promise<T>): Promise<T> {
  const nat = native();
  catchOurSignals(nat);
  try {
    return await body({
      forwardTo: (t) => {
        try {
          // A process already gone gets nothing: the caller's wait returns.
          nat.forwardSignalsTo(t.pid, t.startTime, nat.signalNumbers(JOB_CONTROL));
        } catch (e) {
          // No pidfd (EMFILE...) or no handler: the process runs and is waited for all
          // the same, as the callers' clean-up expects; only our signals stay here.
          log.warn(`signals to tsrun will not reach process ${t.pid}: ${(e as Error).message}`);
        }
      },
      stop: () => nat.stopForwardingSignals(),
    });
  } finally {
    nat.releaseSignals();
  }
}
