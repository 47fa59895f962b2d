// runc-compatible logging: `--log FILE` and `--log-format text|json`. Engines read
// the last "level":"error" JSON line and show its msg, so every error goes here as
// well as to stderr (when the log is a file).
import * as fs from 'fs';
import { writeStderr } from './output';

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

function line(level: LogLevel, msg: string): string {
  const time = new Date().toISOString();
  if (settings.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

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
  /** The command failed: log it, and say it once on stderr when the log is a file. */
  fatal(msg: string): void {
    if (settings.file) {
      write('error', msg);
      toStderr(msg + '\n');
    } else if (settings.format === 'json') {
      toStderr(line('error', msg));
    } else {
      toStderr(msg + '\n');
    }
  },
};
