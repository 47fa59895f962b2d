// runc-compatible logging: `--log FILE` and `--log-format text|json`. Engines read
// the last "level":"error" JSON line and show its msg, so every error goes here as
// well as to stderr (when the log is a file).
import * as fs from 'fs';
import { SyscallError } from './errors';
import { writeAll, writeStderr } from './output';
import { openFile } from './host-files';
import { logLine, terminalLine, type LogFormat, type LogLevel } from './logrus';

export type { LogFormat, LogLevel } from './logrus';

interface LogSettings {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const settings: LogSettings = { format: 'text', debug: false };
/** The --log file, opened once (for appending) when the command starts, as runc does. */
let logFd: number | undefined;

/**
 * Takes the global flags. A --log file that cannot be opened fails the command before
 * it does anything, as with runc: the engine that named it reads its errors there, and
 * a command going on without it could fail where nobody looks.
 */
export function configureLog(next: Partial<LogSettings>): void {
  // An empty --log is no file: stderr, as with runc.
  if (next.file === '') next = { ...next, file: undefined };
  if (next.file !== undefined && next.file !== settings.file) {
    try {
      logFd = openFile(next.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      Object.assign(settings, { ...next, file: undefined });
      const reason = err.message.replace(/^\w+: /, '').replace(/, open .*$/, '');
      throw new SyscallError('open', err.code ?? '', `open ${next.file}: ${reason}`);
    }
  }
  Object.assign(settings, next);
}

function write(level: LogLevel, msg: string): void {
  if (level === 'debug' && !settings.debug) return;
  // Debug lines carry the time since the process started: phases can be timed from a log.
  if (level === 'debug') msg = `[+${performance.now().toFixed(1)}ms] ${msg}`;
  if (logFd !== undefined) {
    try {
      writeAll(logFd, logLine(settings.format, level, msg));
      return;
    } catch {
      // An unwritable log must not hide the message: fall through to stderr.
    }
  }
  toStderr(stderrLine(level, msg));
}

/** As logrus writes to stderr: its short coloured form on a terminal (text format only). */
function stderrLine(level: LogLevel, msg: string): string {
  return settings.format === 'text' && stderrIsTerminal() ? terminalLine(level, msg, process.uptime()) : logLine(settings.format, level, msg);
}

/**
 * Node's tty module pulls in net and streams (2 ms of compiling builtins): loaded
 * only when something is written to stderr, never on a command's quiet path.
 */
function stderrIsTerminal(): boolean {
  return (require('tty') as typeof import('tty')).isatty(2);
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
      toStderr(stderrLine('error', msg));
    }
  },
};
