// A foreground `run` or `exec` without process.terminal: which of the caller's fds 0-2
// the container gets through pipes that tsrun copies, as runc gives it pipes for all
// three. Handed over as they are, some would let the container reach into the host:
// - a terminal: a process holding its fd can change its modes (`stty raw -echo`
//   outlives the container), read what is typed after it, and, with CAP_SYS_ADMIN,
//   push input into the caller's shell (TIOCSTI);
// - a file, a directory, a device other than /dev/null, a named FIFO: the init hands
//   its stdio to the container's user (fchown, so that it can reopen /dev/stdout),
//   which would change the owner of the caller's own file, and a reopen of /dev/stdout
//   (`echo x > /dev/stdout` truncates) would cut the caller's file short;
// - a socket (systemd's journal, Node's 'pipe'): /dev/stdout cannot be reopened on one
//   (ENXIO), and programs log there (nginx's access.log is a link to it).
// Anonymous pipes and /dev/null are passed on as they are (what the container gets with
// --detach too): no copy, and the wait stays synchronous. That is what a shell capturing
// the output (`$(tsrun run ...)`) gives. Not a non-blocking pipe (a Node parent's
// inherited stdout, which libuv made so): the init clears O_NONBLOCK on the container's
// stdio, and on a pipe shared with the caller that would stay after tsrun is gone.
// As with runc, a piped stdin is read ahead of the container (in a `while read` loop,
// give it </dev/null, as to ssh -n), and the copies end when every writer is gone: a
// process the container leaves behind holding them is waited for.
//
// Node's streams on our terminal only read and write it (no mode is changed, and libuv
// opens a terminal anew for its own non-blocking use), and a file is written
// synchronously: a command may still end with _exit, and a terminal that hangs up
// costs nothing but the copy.
import { readLink, readText, statFd, statPath, type FileFacts } from '../host-files';
import type { Socket } from 'net';
import { native } from '../native';

export interface PipedStdio {
  /** What the init gets as fds 0, 1 and 2. */
  readonly stdio: [number, number, number];
  /** The copy runs on Node's event loop (a terminal's): the wait must not block it. */
  readonly needsEventLoop: boolean;
  /** Once the init is spawned: closes our copies of its ends and starts copying. */
  started(): void;
  /**
   * Once the container's process has exited: stops reading our stdin, and resolves when
   * everything it wrote has reached our terminal or file (the pipes' EOF, as runc waits for).
   */
  finish(): Promise<void>;
  /** On a failed start: drops everything, nothing waited for. */
  abandon(): void;
}

type Kind = 'terminal' | 'copied' | 'as is';

/**
 * undefined when each of fds 0-2 may go to the init as it is (above). A terminal's
 * copy runs on the event loop (Node's streams, job control); the others are copied
 * by a thread of the addon's while the wait blocks: a `run > log` costs
 * 1.5% more than when the file was handed over, against 13% with Node's streams.
 */
export function foregroundStdio(): PipedStdio | undefined {
  const kinds = [0, 1, 2].map(kindOf);
  if (kinds.every((k) => k === 'as is')) return undefined;
  return kinds.includes('terminal') ? new StreamedStdio(kinds) : new ThreadCopiedStdio(kinds);
}

function kindOf(fd: number): Kind {
  if (native().isatty(fd)) return 'terminal';
  let st: FileFacts | null;
  try {
    st = statFd(fd);
  } catch {
    st = null;
  }
  if (st === null) return 'as is'; // closed: the init finds it so too
  if (st.kind === 'file' || st.kind === 'dir' || st.kind === 'block' || st.kind === 'socket') return 'copied';
  try {
    if (st.kind === 'char') return st.rdev === statPath('/dev/null', true)?.rdev ? 'as is' : 'copied';
    // A named FIFO has a path; an anonymous pipe shows as pipe:[inode].
    if (st.kind === 'fifo') return readLink(`/proc/self/fd/${fd}`)?.startsWith('pipe:') && !nonBlocking(fd) ? 'as is' : 'copied';
  } catch {
    return 'copied'; // cannot tell: the safe side
  }
  // Anonymous inodes (an eventfd, say): no owner of their own to change, nothing to reopen.
  return 'as is';
}

/** O_NONBLOCK on the fd's open file description (its fdinfo's octal flags). */
function nonBlocking(fd: number): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(readText(`/proc/self/fdinfo/${fd}`))?.[1];
  return flags === undefined || (parseInt(flags, 8) & O_NONBLOCK) !== 0;
}

const O_NONBLOCK = 0o4000;

/** fds 1 and 2 are the same file (`> log 2>&1`): one pipe keeps the order of what is written to both. */
function sameFile(a: number, b: number): boolean {
  try {
    const [x, y] = [statFd(a), statFd(b)];
    return x !== null && y !== null && x.id === y.id;
  } catch {
    return false;
  }
}

/** A pipe for each of fds 0-2 that is not passed as it is. */
abstract class StdioPipes {
  readonly stdio: [number, number, number] = [0, 1, 2];
  /** The ends the init gets, closed here once it has them. */
  protected readonly childEnds: number[] = [];
  /** Our ends: the write end of the stdin pipe, the read ends of stdout and stderr. */
  protected stdinEnd: number | undefined;
  protected readonly outputEnds: [number, 1 | 2][] = [];

  constructor(kinds: Kind[]) {
    const nat = native();
    try {
      if (kinds[0] !== 'as is') {
        const [r, w] = nat.pipe();
        this.stdio[0] = r;
        this.childEnds.push(r);
        this.stdinEnd = w;
      }
      for (const fd of [1, 2] as const) {
        if (kinds[fd] === 'as is') continue;
        if (fd === 2 && kinds[1] === kinds[2] && sameFile(1, 2)) {
          this.stdio[2] = this.stdio[1];
          continue;
        }
        const [r, w] = nat.pipe();
        this.stdio[fd] = w;
        this.childEnds.push(w);
        this.outputEnds.push([r, fd]);
      }
    } catch (e) {
      this.closePipes();
      throw e;
    }
  }

  /** Closes every end still ours. */
  protected closePipes(): void {
    const nat = native();
    for (const fd of [...this.childEnds.splice(0), ...this.outputEnds.splice(0).map(([fd]) => fd)]) nat.closeFd(fd);
    if (this.stdinEnd !== undefined) nat.closeFd(this.stdinEnd);
    this.stdinEnd = undefined;
  }
}

/** Files, devices, sockets: copied by the addon's thread (addon/native/stdio-copy.cpp). */
class ThreadCopiedStdio extends StdioPipes implements PipedStdio {
  readonly needsEventLoop = false;
  private copying = false;

  started(): void {
    const nat = native();
    for (const fd of this.childEnds.splice(0)) nat.closeFd(fd);
    const from = (target: 1 | 2): number => this.outputEnds.find(([, t]) => t === target)?.[0] ?? -1;
    const ends: [number, number, number] = [this.stdinEnd ?? -1, from(1), from(2)];
    // The copier's from the call on, which closes them should it fail.
    this.stdinEnd = undefined;
    this.outputEnds.splice(0);
    nat.startStdioCopy(...ends);
    this.copying = true;
  }

  finish(): Promise<void> {
    if (this.copying) native().finishStdioCopy();
    this.copying = false;
    return Promise.resolve();
  }

  abandon(): void {
    if (this.copying) native().abandonStdioCopy();
    this.copying = false;
    this.closePipes();
  }
}

/** A terminal among them: Node's streams, on the event loop. */
class StreamedStdio extends StdioPipes implements PipedStdio {
  readonly needsEventLoop = true;
  private stdinSocket: Socket | undefined;
  private readonly sockets: Socket[] = [];
  private readonly drained: Promise<void>[] = [];
  /** Our stdin is a terminal (a background job must not read it). */
  private readonly stdinIsTerminal: boolean;

  constructor(kinds: Kind[]) {
    super(kinds);
    this.stdinIsTerminal = kinds[0] === 'terminal';
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
      // Our terminal gone (hung up: EIO), or a file that cannot take more (ENOSPC): the
      // copy ends, and the container's next write gets EPIPE, as with runc; the run
      // goes on to its status and its cleanup.
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
      if (this.stdinIsTerminal && !nat.inForeground(0)) {
        this.stdinEnd = undefined;
        nat.closeFd(fd);
        return;
      }
      const socket = new net.Socket({ fd, readable: false, writable: true });
      this.stdinEnd = undefined;
      this.stdinSocket = socket;
      // The container closed its stdin (EPIPE): what comes from then on is not its.
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
    this.closePipes();
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
