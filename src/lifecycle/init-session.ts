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
  /** `seccomp listener`: the next packet carries the notify fd; the init waits for ack. */
  onSeccompListener?(): void;
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
  if (message === 'seccomp listener') return handlers.onSeccompListener;
  if (message === 'netns') return handlers.onNetns;
  if (message === 'netlink socket') return handlers.onNetlinkSocket;
  return undefined;
}

/**
 * Reads messages until `notify ready` (create) or, with `untilExec`, until EOF:
 * for plans that end in `exec` with the sync socket still open (exec, and run past
 * its `ready`), EOF means execve succeeded (the socket is close-on-exec).
 */
function run(syncFd: number, handlers: SessionHandlers, untilExec: boolean): void {
  const nat = native();
  for (;;) {
    const message = nat.syncRecv(syncFd);
    if (message === null) {
      if (untilExec) return;
      throw new InitError('container init exited before it was ready');
    }
    const space = message.indexOf(' ');
    const kind = space < 0 ? message : message.slice(0, space);
    const rest = space < 0 ? '' : message.slice(space + 1);
    switch (kind) {
      case 'error':
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
        // Each announces a packet with an fd, which its handler receives before the answer.
        const receive = fdAnnouncementHandler(handlers, message);
        if (!receive) throw new InitError(`unexpected message from init: ${message}`);
        answer(syncFd, () => receive());
        break;
      }
      case 'notify':
        if (rest === 'ready' && !untilExec) return;
        break;
      default:
        throw new InitError(`unexpected message from init: ${message}`);
    }
  }
}

/** Runs the conversation until the init says `notify ready`. */
export function converse(syncFd: number, handlers: SessionHandlers): void {
  run(syncFd, handlers, false);
}

/** Runs the conversation of an exec plan until the init has exec'd (EOF). */
export function converseToExec(syncFd: number, handlers: SessionHandlers): void {
  run(syncFd, handlers, true);
}
