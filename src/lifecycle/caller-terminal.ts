// The terminal tsrun was called from, as a foreground `run -t` or `exec -t` sizes the
// container's pty by it: the first of fds 0-2 that is one (runc's console.Current
// looks the same way), so that `run -t ... > file` still gets the window's size; with
// all three redirected, the controlling terminal (/dev/tty), as runc's does.
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { native } from '../native';

/** The first of fds 0, 1, 2 that is a terminal, if any. */
function callerTerminal(): number | undefined {
  const nat = native();
  return [0, 1, 2].find((fd) => nat.isatty(fd));
}

/** /dev/tty once opened by relayTerminal: the proxy resizes by the same fd later. */
let controllingTerminal: number | undefined;

/**
 * The terminal a pty that tsrun relays (foreground -t, no console socket) is sized by.
 * None at all is refused before anything is made, as runc refuses it ("open /dev/tty:
 * no such device or address"): the relay would have no window, and a process reading
 * its terminal would wait forever for input that no one can type.
 */
export function relayTerminal(): number {
  const stdio = callerTerminal();
  if (stdio !== undefined) return stdio;
  if (controllingTerminal === undefined) {
    try {
      controllingTerminal = fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // Node's message starts "ENXIO: no such device or address, open ...".
      const words = /^[A-Z0-9]+: ([^,]+)/.exec(err.message)?.[1];
      const why = `${err.code ?? 'error'}${words ? ` (${words})` : ''}`;
      throw new TsrunError(`process.terminal without --console-socket needs a terminal to relay: none of stdin, stdout and stderr is one, and open /dev/tty: ${why}`);
    }
  }
  return controllingTerminal;
}

/** The relay terminal's size as process.consoleSize says it, or undefined (a terminal of size 0x0). */
export function relayTerminalSize(): { height: number; width: number } | undefined {
  const { rows, cols } = native().getWindowSize(relayTerminal());
  return rows > 0 && cols > 0 ? { height: rows, width: cols } : undefined;
}
