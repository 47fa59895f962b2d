// The terminal tsrun was called from, as a foreground `run -t` or `exec -t` sizes the
// container's pty by it: the first of fds 0-2 that is one (runc's console.Current
// looks the same way), so that `run -t ... > file` still gets the window's size.
import { native } from '../native';

/** The first of fds 0, 1, 2 that is a terminal, if any. */
export function callerTerminal(): number | undefined {
  const nat = native();
  return [0, 1, 2].find((fd) => nat.isatty(fd));
}

/** Its size as process.consoleSize says it, or undefined (no terminal, or one of size 0x0). */
export function callerTerminalSize(): { height: number; width: number } | undefined {
  const fd = callerTerminal();
  if (fd === undefined) return undefined;
  const { rows, cols } = native().getWindowSize(fd);
  return rows > 0 && cols > 0 ? { height: rows, width: cols } : undefined;
}
