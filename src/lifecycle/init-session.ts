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
}

/** Runs the conversation until the init says `notify ready`. */
export function converse(syncFd: number, handlers: SessionHandlers): void {
  const nat = native();
  for (;;) {
    const message = nat.syncRecv(syncFd);
    if (message === null) throw new InitError('container init exited before it was ready');
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
        let payload: string | void;
        try {
          payload = handlers.onSync(rest);
        } catch (e) {
          try {
            nat.syncSend(syncFd, 'abort');
          } catch {
            // the init may be gone already; the original error is what matters
          }
          throw e;
        }
        nat.syncSend(syncFd, payload ? `ack ${payload}` : 'ack');
        break;
      case 'seccomp':
        if (rest !== 'listener' || !handlers.onSeccompListener) throw new InitError(`unexpected message from init: ${message}`);
        try {
          handlers.onSeccompListener();
        } catch (e) {
          try {
            nat.syncSend(syncFd, 'abort');
          } catch {
            // the init may be gone already
          }
          throw e;
        }
        nat.syncSend(syncFd, 'ack');
        break;
      case 'notify':
        if (rest === 'ready') return;
        break;
      default:
        throw new InitError(`unexpected message from init: ${message}`);
    }
  }
}

/**
 * For plans that end in `exec` with the sync socket still open (exec): runs the
 * conversation until EOF, which means execve succeeded (the socket is
 * close-on-exec); an `error` (execve or any earlier op) is thrown.
 */
export function converseToExec(syncFd: number, handlers: SessionHandlers): void {
  const nat = native();
  for (;;) {
    const message = nat.syncRecv(syncFd);
    if (message === null) return;
    const space = message.indexOf(' ');
    const kind = space < 0 ? message : message.slice(0, space);
    const rest = space < 0 ? '' : message.slice(space + 1);
    if (kind === 'error') throw new InitError(rest);
    if (kind === 'pid') {
      handlers.onPid(Number(rest));
    } else if (kind === 'sync') {
      try {
        handlers.onSync(rest);
      } catch (e) {
        try {
          nat.syncSend(syncFd, 'abort');
        } catch {
          // the init may be gone already; the original error is what matters
        }
        throw e;
      }
      nat.syncSend(syncFd, 'ack');
    } else if (kind !== 'notify') {
      throw new InitError(`unexpected message from init: ${message}`);
    }
  }
}
