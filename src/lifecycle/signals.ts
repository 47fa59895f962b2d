// Signal names as runc accepts them: "KILL", "SIGKILL", "kill" or "9".
import { ConfigError } from '../errors';

export function parseSignal(value: string | number | undefined, fallback = 'SIGTERM'): number {
  // As runc: an empty signal is the default one, and spaces are not trimmed (" 9" is no signal).
  const text = value === undefined || value === '' ? fallback : String(value);
  // A number as Go's strconv.Atoi reads it, a '+' sign included ("+15", runc).
  if (/^\+?\d+$/.test(text)) {
    const n = Number(text);
    // 0 signals nothing: a check that the process is there (runc takes it too).
    if (n > 64) throw new ConfigError('signal', `invalid signal ${text}`);
    return n;
  }
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const offset = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + offset : 64 - offset;
    if (n >= 34 && n <= 64) return n;
  }
  // The os module only here: delete (and so run) imports this file too.
  const n = ((require('os') as typeof import('os')).constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new ConfigError('signal', `unknown signal "${text}"`);
  return n;
}
