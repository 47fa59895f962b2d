// What a parked init writes on the exec FIFO for `start` (addon/PROTOCOL.md,
// `waitFifo`): the handshake byte `0` as it leaves its wait; then `x` right before the
// execve of the container's process, after which the kernel closes the FIFO (it is
// close-on-exec); or `e` and the message of the step that failed (a startContainer
// hook, the execve itself) before it exits.

export type StartReport =
  /** The container's process was exec'd: start succeeded. */
  | { kind: 'started' }
  /** The init failed after the handshake and said why. */
  | { kind: 'failed'; message: string }
  /** The init ended after the handshake without a word (killed before its execve). */
  | { kind: 'died' }
  /** Nothing this start released: no handshake (another start took it). */
  | { kind: 'notReleased' };

/**
 * `initRuns` is asked only for a handshake followed by EOF: a container created by a
 * tsrun before the init kept its end of the FIFO (its init writes `0` and closes it
 * at once, then runs the startContainer hooks and execs). Its init still running is
 * a start, as that tsrun's start took it; an init of today never closes its end
 * without `x` or `e` while it runs, so there it is one killed meanwhile (PROTOCOL.md,
 * *The exec FIFO*).
 *
 * `olderInit`: the state does not say which protocol the init speaks (no
 * `fifoProtocol`: written by a tsrun before it was recorded). An init gone by the time
 * EOF is read may then be one of the first protocol whose process was exec'd and has
 * already exited (`true`, a one-shot job: the EOF comes at once, the process's end
 * soon after): a start, as the tsrun that created it took it, not a death. (An init of
 * today killed during a startContainer hook is then taken as a start too, as runc
 * 1.1.5 takes any byte; the container is stopped all the same.)
 */
export function parseStartReport(report: string, initRuns: () => boolean, olderInit = false): StartReport {
  if (!report.startsWith('0')) return { kind: 'notReleased' };
  let rest = report.slice(1);
  const execed = rest.startsWith('x');
  if (execed) rest = rest.slice(1);
  if (rest.startsWith('e')) return { kind: 'failed', message: rest.slice(1) };
  if (rest !== '') return { kind: 'failed', message: `unexpected report from the container's init: ${JSON.stringify(report)}` };
  if (execed) return { kind: 'started' };
  return initRuns() || olderInit ? { kind: 'started' } : { kind: 'died' };
}

/**
 * start and run: the init ended between `ready` and its execve (killed during a
 * startContainer hook). Here, not in init-session.ts, so that `start` does not load
 * the session code only create, run and exec need.
 */
export const CONTAINER_INIT_DIED = "the container's init exited before it executed the container's process";
