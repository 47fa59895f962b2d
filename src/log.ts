// runc-compatible logging: `--log FILE` and `--log-format text|json`. Engines read
// the last "level":"error" JSON line and show its msg, so every error goes here as
// well as to stderr (when the log is a file).
import * as fs from 'fs';
import { writeStderr } from './output';
import { formatRfc3339 } from './time/rfc3339';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';

interface LogSettings {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const settings: LogSettings = { format: 'text', debug: false };

export function configureLog(next: Partial<LogSettings>): void {
  Object.assign(settings, next);
}

/** runc's log lines (logrus): whole seconds, local time. */
function line(level: LogLevel, msg: string): string {
  const now = new Date();
  const time = formatRfc3339(Math.floor(now.getTime() / 1000), -now.getTimezoneOffset());
  if (settings.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time=${logrusValue(time)} level=${level} msg=${logrusValue(msg)}\n`;
}

/** logrus's text format: a value is bare unless a character outside [A-Za-z0-9-._/@^+] asks for Go quoting. */
export function logrusValue(text: string): string {
  return /^[A-Za-z0-9\-._/@^+]*$/.test(text) ? text : goQuote(text);
}

/**
 * Go's %q of a string (strconv.Quote): C escapes, \xNN below 0x80, and \uNNNN or
 * \UNNNNNNNN for every other rune Go does not count as printable (unicode.IsPrint:
 * letters, marks, numbers, punctuation, symbols and the ASCII space). So bidi
 * controls and zero-width or other spaces from a config reach no terminal raw.
 */
function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    const named = GO_ESCAPES[ch];
    if (named !== undefined) out += named;
    else if (c === 0x20 || PRINTABLE.test(ch)) out += ch;
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

function write(level: LogLevel, msg: string): void {
  if (level === 'debug' && !settings.debug) return;
  // Debug lines carry the time since the process started: phases can be timed from a log.
  if (level === 'debug') msg = `[+${performance.now().toFixed(1)}ms] ${msg}`;
  const text = line(level, msg);
  if (settings.file) {
    try {
      fs.appendFileSync(settings.file, text);
      return;
    } catch {
      // An unwritable log must not hide the message: fall through to stderr.
    }
  }
  toStderr(text);
}

/**
 * A log line never fails a command: with the reader of stderr gone (EPIPE), a
 * container half made or a `run` that stops waiting for its container would be far
 * worse than a lost line.
 */
function toStderr(text: string): void {
  try {
    writeStderr(text);
  } catch {
    // nowhere left to say it
  }
}

export const log = {
  debug: (msg: string): void => write('debug', msg),
  info: (msg: string): void => write('info', msg),
  warn: (msg: string): void => write('warning', msg),
  /**
   * The command failed: log it. As runc: with the log in a file, stderr also gets
   * the bare message; without, stderr gets the log line itself.
   */
  fatal(msg: string): void {
    if (settings.file) {
      write('error', msg);
      // One line, whatever the message quotes (a path from config.json may hold a newline).
      toStderr(msg.replace(/\r?\n/g, '\\n') + '\n');
    } else {
      toStderr(line('error', msg));
    }
  },
};
