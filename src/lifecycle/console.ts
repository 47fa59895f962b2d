// process.terminal: where the pty master goes. With --console-socket it is sent
// to the caller's socket by the init (as runc does); for a foreground `run -t` or
// `exec -t` tsrun receives it on a socket pair of its own and proxies it to its
// own stdin/stdout.
import * as fs from 'fs';
import type { ReadStream } from 'tty';
import { TsrunError } from '../errors';
import type { ConsoleTarget } from '../linux/process-ops';
import { native } from '../native';
import { relayTerminal } from './caller-terminal';
import { connectCallerSocket } from './caller-socket';
import { noteStdioStreams, writeAll } from '../output';

/** How soon input the container's pty did not take is offered again. */
const INPUT_RETRY_MS = 10;

/** runc's checkTerminal: which combinations of terminal, detach and socket make sense. */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && !consoleSocket) throw new TsrunError('cannot allocate tty if runc will detach without setting console socket');
  if ((!detach || !terminal) && consoleSocket) throw new TsrunError('cannot use console socket if runc will not detach or allocate tty');
}

export interface ConsoleEnds {
  /** Handed to the init (an extra fd); closed by the caller once the init has it. */
  initFd: number;
  /** Our end of a socket pair when tsrun proxies the pty itself. */
  ownFd?: number;
}

/** Connects to --console-socket (a relative path is the bundle's), or makes the socket pair a foreground run proxies through. */
export function consoleEnds(consoleSocket: string | undefined, bundleDir: string): ConsoleEnds {
  if (consoleSocket) return { initFd: connectCallerSocket('--console-socket', consoleSocket, bundleDir) };
  const [own, init] = native().socketPair();
  return { initFd: init, ownFd: own };
}

/**
 * The console op's target: the init's number for the socket, whether tsrun relays
 * the pty (no caller's socket), and then the size of the terminal it relays to.
 */
export function consoleTarget(ends: ConsoleEnds | undefined, initFdOf: (fd: number) => number | undefined, relaySize?: { height: number; width: number }): ConsoleTarget | undefined {
  const fd = ends === undefined ? undefined : initFdOf(ends.initFd);
  if (fd === undefined) return undefined;
  const relayed = ends?.ownFd !== undefined;
  return { fd, relayedByTsrun: relayed, ...(relayed && relaySize ? { relaySize } : {}) };
}

/**
 * Proxies the pty master to our stdin/stdout: our terminal in raw mode (the
 * container's line discipline does the echo and editing), window size changes
 * forwarded. `finish` ends it once the process has exited; `restore` gives our
 * terminal back (also on an error path; both may be called more than once).
 */
export interface ConsoleProxy {
  /**
   * The process has exited: copies what the pty holds now to our stdout and gives
   * our terminal back. Never waits for the other holders of the pty, such as a
   * background child the process left behind (as runc does not).
   */
  finish(): void;
  restore(): void;
}

export function proxyConsole(ownFd: number): ConsoleProxy {
  const nat = native();
  const received = nat.recvFd(ownFd);
  nat.closeFd(ownFd);
  if (!received) throw new TsrunError('the container init did not send the pty master');
  const master = received.fd;
  // Our own hold on the slave side: the pty stays open until we are done with it,
  // whoever else closes it. Without it, the last process's exit would make the
  // master poll POLLHUP, which libuv takes for the end of the stream while the pty
  // still holds output (it hands it over 4 KiB per read).
  let slave: number;
  let output: ReadStream;
  try {
    slave = nat.openPtyPeer(master);
  } catch (e) {
    nat.closeFd(master);
    throw e;
  }
  try {
    // Read on the event loop when the master is readable (a tty stream; the fd stays
    // blocking, read only when there is data), never on a thread-pool thread that a
    // read could hold forever, and that Node's exit would wait for. The stream owns
    // the fd from here: once it is destroyed the number may be another file's.
    output = new (require('tty') as typeof import('tty')).ReadStream(master);
  } catch (e) {
    nat.closeFd(slave);
    nat.closeFd(master);
    throw e;
  }
  noteStdioStreams();
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) {
    try {
      // libuv's raw mode first: it keeps the mode to restore (also at Node's exit);
      // then runc's (cfmakeraw's input side; output processing stays, for the "\r").
      stdin.setRawMode(true);
      nat.makeRaw(0);
    } catch (e) {
      stdin.setRawMode(wasRaw);
      output.destroy();
      nat.closeFd(slave);
      throw e;
    }
  }
  // Sized by the terminal we were called from, whichever of our stdio it is (not only
  // stdout: `run -t ... > file` still has a window) or /dev/tty, and again at each SIGWINCH.
  const terminal = relayTerminal();
  const resize = (): void => {
    if (output.destroyed) return;
    try {
      const { rows, cols } = nat.getWindowSize(terminal);
      nat.setWindowSize(master, rows, cols);
    } catch {
      // the terminal or the pty went away
    }
  };
  resize();
  process.on('SIGWINCH', resize);
  // Our input goes to the pty as fast as the container reads it, never with a blocking
  // write: that would stop the event loop, and with it the copy of the output the
  // container may itself be blocked on (runc copies each way on a goroutine of its
  // own). What the pty does not take yet waits here, with our stdin paused, and is
  // tried again shortly.
  const pending: Buffer[] = [];
  let retry: NodeJS.Timeout | undefined;
  let restored = false;
  const flush = (): void => {
    retry = undefined;
    while (pending.length > 0 && !output.destroyed) {
      const chunk = pending[0] as Buffer;
      let n: number;
      try {
        n = nat.writeAvailable(master, chunk);
      } catch {
        pending.length = 0; // the container's side is gone
        break;
      }
      if (n < chunk.length) {
        pending[0] = chunk.subarray(n);
        stdin.pause();
        retry = setTimeout(flush, INPUT_RETRY_MS);
        return;
      }
      pending.shift();
    }
    if (!output.destroyed && !restored) stdin.resume();
  };
  const onInput = (chunk: Buffer): void => {
    if (output.destroyed) return;
    pending.push(chunk);
    if (retry === undefined) flush();
  };
  stdin.on('data', onInput);
  stdin.resume();
  const copyOut = (chunk: Buffer): void => {
    try {
      // All of it: stdout may be a non-blocking pipe (process.stdout made it one).
      writeAll(1, chunk);
    } catch {
      // our stdout went away; keep reading so the container does not block
    }
  };
  output.on('data', copyOut);
  // A read error (none is expected while we hold the slave) ends the copy.
  output.on('error', () => undefined);
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off('SIGWINCH', resize);
    if (retry !== undefined) clearTimeout(retry);
    pending.length = 0;
    stdin.off('data', onInput);
    stdin.pause();
    try {
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
    } catch (e) {
      // A terminal that hung up (EIO) has no mode left to give back.
      if ((e as NodeJS.ErrnoException).code !== 'EIO') throw e;
    }
    // Closes the master.
    output.destroy();
    nat.closeFd(slave);
  };
  const finish = (): void => {
    if (restored) return;
    output.pause();
    for (let chunk = output.read() as Buffer | null; chunk !== null; chunk = output.read() as Buffer | null) copyOut(chunk);
    // Everything the process wrote before it exited is in the pty by now: read until
    // nothing is left (EAGAIN; never EIO, we hold the slave side).
    if (!output.destroyed) {
      nat.setNonBlocking(master);
      const buf = Buffer.alloc(16384);
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(master, buf, 0, buf.length, null);
        } catch {
          break;
        }
        if (n <= 0) break;
        copyOut(buf.subarray(0, n));
      }
    }
    restore();
  };
  return { finish, restore };
}
