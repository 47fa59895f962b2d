// Writes to stdout and stderr with write(2). The first use of process.stdout or
// process.stderr builds a stream (and loads the net or tty modules) — several ms
// on every command, for a few bytes of output.
import * as fs from 'fs';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text, 'utf8');
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

/** Diverts all output (scripts/bundle.js runs commands to warm its code cache, silently). */
export function divertOutput(to: ((fd: number, text: string) => void) | undefined): void {
  sink = to;
}

export const writeStdout = (text: string): void => (sink ? sink(1, text) : writeAll(1, text));
export const writeStderr = (text: string): void => (sink ? sink(2, text) : writeAll(2, text));
