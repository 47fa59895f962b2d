// A foreground `run` or `exec` without process.terminal, called from a terminal: the
// container's stdio must not be that terminal. A process holding a terminal's fd can
// change its modes (`stty raw -echo` outlives the container), read what is typed
// after it, and, with CAP_SYS_ADMIN, push input into the caller's shell (TIOCSTI).
// runc gives such a process pipes and copies; so does tsrun, for each of fds 0-2 that
// is a terminal. Pipes and files are passed on as they are (what the container gets
// with --detach too): no copy where no terminal is at stake, and nothing loaded.
//
// Node's streams on our terminal only read and write it (no mode is changed, and libuv
// opens a terminal anew for its own non-blocking use): a command may still end with
// _exit, and a terminal that hangs up costs nothing but the copy.
import type { Socket } from 'net';
import { native } from '../native';

export interface TerminalStdio {
  /** What the init gets as fds 0, 1 and 2. */
  readonly stdio: [number, number, number];
  /** Once the init is spawned: closes our copies of its ends and starts copying. */
  started(): void;
  /**
   * Once the container's process has exited: stops reading our stdin, and resolves when
   * everything it wrote has reached our terminal (the pipes' EOF, as runc waits for).
   */
  finish(): Promise<void>;
  /** On a failed start: drops everything, nothing waited for. */
  abandon(): void;
}

/** undefined when none of fds 0-2 is a terminal: the init then gets them as they are. */
export function terminalStdio(): TerminalStdio | undefined {
  const nat = native();
  const isTerminal = [0, 1, 2].map((fd) => nat.isatty(fd));
  if (!isTerminal.some(Boolean)) return undefined;
  return new PipedStdio(isTerminal);
}

class PipedStdio implements TerminalStdio {
  readonly stdio: [number, number, number] = [0, 1, 2];
  /** The ends the init gets, closed here once it has them. */
  private readonly childEnds: number[] = [];
  /** Our ends: the write end of the stdin pipe, the read ends of stdout and stderr. */
  private stdinEnd: number | undefined;
  private readonly outputEnds: [number, 1 | 2][] = [];
  private stdinSocket: Socket | undefined;
  private readonly sockets: Socket[] = [];
  private readonly drained: Promise<void>[] = [];

  constructor(isTerminal: boolean[]) {
    const nat = native();
    try {
      if (isTerminal[0]) {
        const [r, w] = nat.pipe();
        this.stdio[0] = r;
        this.childEnds.push(r);
        this.stdinEnd = w;
      }
      for (const fd of [1, 2] as const) {
        if (!isTerminal[fd]) continue;
        const [r, w] = nat.pipe();
        this.stdio[fd] = w;
        this.childEnds.push(w);
        this.outputEnds.push([r, fd]);
      }
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  started(): void {
    const nat = native();
    for (const fd of this.childEnds.splice(0)) nat.closeFd(fd);
    // Streams on our ends, read and written on the event loop: a container that stops
    // reading its stdin must not block us (nor we it), nor may a full terminal.
    const net = require('net') as typeof import('net');
    while (this.outputEnds.length > 0) {
      const [fd, target] = this.outputEnds[0] as [number, 1 | 2];
      // Taken off the list once a stream owns it: abandon() closes what is still there.
      const socket = new net.Socket({ fd, readable: true, writable: false });
      this.outputEnds.shift();
      this.sockets.push(socket);
      const out = target === 1 ? process.stdout : process.stderr;
      // Our terminal gone (hung up: EIO): the copy ends, and the container's next write
      // gets EPIPE, as with runc; the run goes on to its status and its cleanup.
      out.on('error', () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        if (!out.destroyed) out.write(chunk);
      });
      this.drained.push(new Promise((resolve) => socket.once('close', () => resolve())));
      // A read error ends the copy as EOF does: the container's output is all we lose.
      socket.on('error', () => socket.destroy());
    }
    if (this.stdinEnd !== undefined) {
      const fd = this.stdinEnd;
      // A background job reading its terminal gets SIGTTIN, which run forwards (caught,
      // the read is retried for ever): in the background, the container's stdin ends.
      if (!nat.inForeground(0)) {
        this.stdinEnd = undefined;
        nat.closeFd(fd);
        return;
      }
      const socket = new net.Socket({ fd, readable: false, writable: true });
      this.stdinEnd = undefined;
      this.stdinSocket = socket;
      // The container closed its stdin (EPIPE): what is typed from then on is not its.
      socket.on('error', () => this.stopStdin());
      process.stdin.on('error', () => this.stopStdin());
      process.stdin.pipe(socket);
    }
  }

  finish(): Promise<void> {
    this.stopStdin();
    return Promise.all(this.drained).then(() => undefined);
  }

  abandon(): void {
    const nat = native();
    for (const fd of [...this.childEnds.splice(0), ...this.outputEnds.splice(0).map(([fd]) => fd)]) nat.closeFd(fd);
    if (this.stdinEnd !== undefined) nat.closeFd(this.stdinEnd);
    this.stdinEnd = undefined;
    this.stopStdin();
    for (const socket of this.sockets) socket.destroy();
  }

  private stopStdin(): void {
    const socket = this.stdinSocket;
    if (!socket) return;
    this.stdinSocket = undefined;
    process.stdin.unpipe(socket);
    // Our terminal is read no more: Node may end (it would wait for input otherwise).
    process.stdin.pause();
    process.stdin.destroy();
    socket.destroy();
  }
}
