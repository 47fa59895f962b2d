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

export function parseStartReport(report: string): StartReport {
  if (!report.startsWith('0')) return { kind: 'notReleased' };
  let rest = report.slice(1);
  const execed = rest.startsWith('x');
  if (execed) rest = rest.slice(1);
  if (rest.startsWith('e')) return { kind: 'failed', message: rest.slice(1) };
  if (rest !== '') return { kind: 'failed', message: `unexpected report from the container's init: ${JSON.stringify(report)}` };
  return execed ? { kind: 'started' } : { kind: 'died' };
}
