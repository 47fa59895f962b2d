// runc's log line formats, which are logrus's: the text form (`time="..."
// level=error msg="..."`, Go quoting), the JSON form, and the short coloured form
// logrus writes to a terminal.
import { formatRfc3339 } from './time/rfc3339';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogFormat = 'text' | 'json';

/** runc's log lines (logrus): whole seconds, local time. */
export function logLine(format: LogFormat, level: LogLevel, msg: string): string {
  const now = new Date();
  const time = formatRfc3339(Math.floor(now.getTime() / 1000), -now.getTimezoneOffset());
  if (format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
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
  return `"${goEscape(text, true)}"`;
}

/** The inside of goQuote; with `quoted` false, `"` and `\\` are left as they are. */
function goEscape(text: string, quoted: boolean): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    const named = quoted || (ch !== '"' && ch !== '\\') ? GO_ESCAPES[ch] : undefined;
    if (named !== undefined) out += named;
    else if (c < 0x80 ? c >= 0x20 && c < 0x7f : printable().test(ch)) out += ch;
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out;
}

let printableRegExp: RegExp | undefined;

/**
 * Go's unicode.IsPrint beyond ASCII. Built on first use: V8 parses the Unicode
 * property classes into large tables when the RegExp is made (0.5 ms here), which
 * every command paid when this was a module-level literal.
 */
function printable(): RegExp {
  printableRegExp ??= new RegExp('^[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}]$', 'u');
  return printableRegExp;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

/** logrus's four-letter level and its colour (ANSI) on a terminal. */
const TERMINAL_LEVELS: Readonly<Record<LogLevel, [string, number]>> = {
  debug: ['DEBU', 37],
  info: ['INFO', 36],
  warning: ['WARN', 33],
  error: ['ERRO', 31],
};

/**
 * What logrus writes when stderr is a terminal: `ERRO[0000] message`, the level in
 * colour, the seconds since start, the message padded to 44. Unlike logrus, the
 * message is escaped as Go would quote it (without the quotes): a config path must
 * not move the cursor or write escape sequences to the user's terminal.
 */
export function terminalLine(level: LogLevel, msg: string, uptimeSeconds: number): string {
  const [text, colour] = TERMINAL_LEVELS[level];
  const seconds = String(Math.floor(uptimeSeconds)).padStart(4, '0');
  return `\x1b[${colour}m${text}\x1b[0m[${seconds}] ${goEscape(msg, false).padEnd(44)} \n`;
}
