// The parent's side of the sync protocol (addon/PROTOCOL.md): reads the init's
// messages, lets the caller act at each sync point, and turns an init failure into
// one InitError carrying the init's own precise message.
import { InitError } from '../errors';
import { native } from '../native';

export interface SessionHandlers {
  /**
   * Called at each `sync <tag>`; throwing aborts the init. A returned string is sent
   * with the answer (`ack <payload>`, e.g. the state JSON for the init's hooks).
   */
  onSync(tag: string): string | void;
  /** The container's pid, once the init has forked into its pid namespace. */
  onPid(pid: number): void;
  /**
   * `seccomp listener <fd>`: the notify fd's number in the process that loaded the
   * filter, for the handler to copy (pidfd_getfd); `seccomp listener` alone: the next
   * packet carries the fd. The init waits for ack.
   */
  onSeccompListener?(fd: number | undefined): void;
  /** `netns`: the next packet carries the init's network namespace; the init waits for ack. */
  onNetns?(): void;
  /** `netlink socket`: the next packet carries a netlink socket (a helper init's); it waits for ack. */
  onNetlinkSocket?(): void;
}

/** Runs `act` and answers the init: `ack [payload]`, or `abort` and rethrow. */
function answer(syncFd: number, act: () => string | void): void {
  const nat = native();
  let payload: string | void;
  try {
    payload = act();
  } catch (e) {
    try {
      nat.syncSend(syncFd, 'abort');
    } catch {
      // the init may be gone already; the original error is what matters
    }
    throw e;
  }
  nat.syncSend(syncFd, payload ? `ack ${payload}` : 'ack');
}

/** The handler of a message announcing an fd (PROTOCOL.md), if the caller expects it. */
function fdAnnouncementHandler(handlers: SessionHandlers, message: string): (() => void) | undefined {
  const listener = /^seccomp listener(?: (\d+))?$/.exec(message);
  if (listener) return handlers.onSeccompListener && (() => handlers.onSeccompListener?.(listener[1] === undefined ? undefined : Number(listener[1])));
  if (message === 'netns') return handlers.onNetns;
  if (message === 'netlink socket') return handlers.onNetlinkSocket;
  return undefined;
}

/** What ends a conversation (PROTOCOL.md). */
type Until =
  /** create: `notify ready`; EOF before it is a failure. */
  | { kind: 'ready' }
  /**
   * A plan ending in `exec` with the sync socket still open (run, exec): EOF after
   * `notify exec` is the execve (the socket is close-on-exec); EOF before it an init
   * that died, `diedMessage`, or, with `readyFirst` (run), before `notify ready` the
   * message of create.
   */
  | { kind: 'exec'; readyFirst: boolean; diedMessage: string }
  /** A helper's plan ending in `exit`: EOF is its end, whatever it sent. */
  | { kind: 'exit' };

const NOT_READY = 'container init exited before it was ready';

export { CONTAINER_INIT_DIED } from './start-report';
/** exec: the init ended before its execve (the container killed or deleted meanwhile). */
export const EXEC_INIT_DIED = 'the init exited before it executed the process';

/**
 * The next message, null at EOF. ECONNRESET is EOF too: the init died with an answer
 * of ours unread (killed between our `ack` and its receive).
 */
function receive(syncFd: number): string | null {
  try {
    return native().syncRecv(syncFd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') return null;
    throw e;
  }
}

function run(syncFd: number, handlers: SessionHandlers, until: Until): void {
  let ready = false;
  let execing = false;
  for (;;) {
    const message = receive(syncFd);
    if (message === null) {
      if (until.kind === 'exit') return;
      if (until.kind === 'ready' || (until.readyFirst && !ready)) throw new InitError(NOT_READY);
      if (execing) return;
      throw new InitError(until.diedMessage);
    }
    const space = message.indexOf(' ');
    const kind = space < 0 ? message : message.slice(0, space);
    const rest = space < 0 ? '' : message.slice(space + 1);
    switch (kind) {
      case 'error':
        // Also after `notify exec`: the execve itself failed.
        throw new InitError(rest);
      case 'pid':
        handlers.onPid(Number(rest));
        break;
      case 'sync':
        answer(syncFd, () => handlers.onSync(rest));
        break;
      case 'seccomp':
      case 'netns':
      case 'netlink': {
        // Each announces an fd (in a packet of its own, or the seccomp listener by its
        // number), which its handler takes before the answer.
        const receiveFd = fdAnnouncementHandler(handlers, message);
        if (!receiveFd) throw new InitError(`unexpected message from init: ${message}`);
        answer(syncFd, () => receiveFd());
        break;
      }
      case 'notify':
        if (rest === 'ready') {
          if (until.kind === 'ready') return;
          ready = true;
        } else if (rest === 'exec') {
          execing = true;
        }
        break;
      default:
        throw new InitError(`unexpected message from init: ${message}`);
    }
  }
}

/** Runs the conversation until the init says `notify ready`. */
export function converse(syncFd: number, handlers: SessionHandlers): void {
  run(syncFd, handlers, { kind: 'ready' });
}

/**
 * Runs the conversation of a plan ending in `exec` until the init has exec'd (EOF
 * after `notify exec`). `readyFirst`: the plan sends `notify ready` first (run).
 */
export function converseToExec(syncFd: number, handlers: SessionHandlers, opts: { readyFirst: boolean; diedMessage: string }): void {
  run(syncFd, handlers, { kind: 'exec', ...opts });
}

/** Runs the conversation of a helper whose plan ends in `exit` until its EOF. */
export function converseToExit(syncFd: number, handlers: SessionHandlers): void {
  run(syncFd, handlers, { kind: 'exit' });
}
