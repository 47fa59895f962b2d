// process.terminal: where the pty master goes. With --console-socket it is sent
// to the caller's socket by the init (as runc does); for a foreground `run -t` or
// `exec -t` tsrun receives it on a socket pair of its own and proxies it to its
// own stdin/stdout.
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { native } from '../native';
import { noteStdioStreams, writeAll } from '../output';

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

/** Connects to --console-socket, or makes the socket pair a foreground run proxies through. */
export function consoleEnds(consoleSocket: string | undefined): ConsoleEnds {
  const nat = native();
  if (consoleSocket) {
    try {
      return { initFd: nat.connectUnix(consoleSocket) };
    } catch (e) {
      throw new TsrunError(`--console-socket ${consoleSocket}: ${(e as Error).message}`);
    }
  }
  const [own, init] = nat.socketPair();
  return { initFd: init, ownFd: own };
}

/**
 * Proxies the pty master to our stdin/stdout: our terminal in raw mode (the
 * container's line discipline does the echo and editing), window size changes
 * forwarded. `drained` resolves once every holder of the pty's slave side has
 * closed it (the master then reads EIO); `restore` gives our terminal back.
 */
export interface ConsoleProxy {
  drained: Promise<void>;
  restore(): void;
}

export function proxyConsole(ownFd: number): ConsoleProxy {
  const nat = native();
  const received = nat.recvFd(ownFd);
  nat.closeFd(ownFd);
  if (!received) throw new TsrunError('the container init did not send the pty master');
  const master = received.fd;
  noteStdioStreams();
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const resize = (): void => {
    if (process.stdout.isTTY) nat.setWindowSize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.stdout.on('resize', resize);
  const onInput = (chunk: Buffer): void => {
    try {
      fs.writeSync(master, chunk);
    } catch {
      // the container's side is gone
    }
  };
  stdin.on('data', onInput);
  stdin.resume();
  // The master is a blocking fd: reads run on the thread pool until the slave side
  // closes (EIO) when the last container process holding it exits.
  let open = true;
  let done: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => (done = resolve));
  const buf = Buffer.alloc(16384);
  const pump = (): void => {
    fs.read(master, buf, 0, buf.length, null, (err, n) => {
      if (err || n === 0 || !open) {
        done();
        return;
      }
      try {
        // All of it: stdout may be a non-blocking pipe (process.stdout made it one).
        writeAll(1, buf.subarray(0, n));
      } catch {
        // our stdout went away; keep draining so the container does not block
      }
      pump();
    });
  };
  pump();
  const restore = (): void => {
    open = false;
    process.stdout.off('resize', resize);
    stdin.off('data', onInput);
    stdin.pause();
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    try {
      fs.closeSync(master);
    } catch {
      // already closed
    }
  };
  return { drained, restore };
}
