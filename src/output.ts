// Writes to stdout and stderr with write(2). The first use of process.stdout or
// process.stderr builds a stream (and loads the net or tty modules) — several ms
// on every command, for a few bytes of output.
import * as fs from 'fs';
import { writeTextIfNative } from './host-files';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `data` to fd, waiting for room on a non-blocking pipe and looping on short writes. */
export function writeAll(fd: number, data: string | Buffer): void {
  if (typeof data === 'string' && writeTextIfNative(fd, data)) return;
  let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  while (buf.length > 0) {
    try {
      const n = fs.writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      // A caller may hand us a non-blocking pipe: wait a moment for room, as a
      // blocking write would.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

let sink: ((fd: number, text: string) => void) | undefined;

let streamsUsed = false;
/**
 * Called before anything touches process.stdin, stdout or stderr: Node then owns
 * those fds (a terminal's mode, O_NONBLOCK on a pipe) and puts them back only at its
 * own exit, which exitProcess (src/native.ts) must then not skip.
 */
export function noteStdioStreams(): void {
  streamsUsed = true;
}
export function stdioStreamsUsed(): boolean {
  return streamsUsed;
}

/** Diverts all output (scripts/bundle.js runs commands to warm its code cache, silently). */
export function divertOutput(to: ((fd: number, text: string) => void) | undefined): void {
  sink = to;
}

/**
 * Thrown when the reader of our stdout has gone (EPIPE: `tsrun events | head`). A Go
 * program such as runc dies of SIGPIPE there without a word; the CLI ends as quietly,
 * with the status a shell shows for that death (128 + SIGPIPE).
 */
export class StdoutClosed extends Error {
  readonly exitStatus = 128 + 13;
  constructor() {
    super('stdout closed by its reader');
  }
}

export const writeStdout = (text: string): void => {
  if (sink) return sink(1, text);
  try {
    writeAll(1, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw new StdoutClosed();
    throw e;
  }
};
export const writeStderr = (text: string): void => (sink ? sink(2, text) : writeAll(2, text));
