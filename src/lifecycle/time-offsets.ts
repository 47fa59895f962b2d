// linux.timeOffsets of a new time namespace, written by the parent into
// /proc/<init>/timens_offsets while no process is in that namespace yet.
import * as fs from 'fs';
import { ConfigError, SyscallError } from '../errors';

export type TimeOffsets = Record<string, { secs?: number; nanosecs?: number }>;

/** The file's text: one "<clock> <secs> <nanosecs>" line per clock (kernel 5.6+ takes the names). */
export function timeOffsetsText(offsets: TimeOffsets): string {
  return Object.entries(offsets)
    .map(([clock, { secs = 0, nanosecs = 0 }]) => {
      if (clock !== 'monotonic' && clock !== 'boottime') throw new ConfigError(`linux.timeOffsets.${clock}`, 'must be monotonic or boottime');
      return `${clock} ${secs} ${nanosecs}\n`;
    })
    .join('');
}

export function writeTimeOffsets(pid: number, offsets: TimeOffsets): void {
  const file = `/proc/${pid}/timens_offsets`;
  try {
    // One write(2): the kernel takes the whole set at once.
    fs.writeFileSync(file, timeOffsetsText(offsets));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    // ERANGE: an offset would take its clock below zero or past the kernel's limit.
    const why = code === 'ERANGE' ? ' (an offset takes its clock out of range)' : '';
    throw new SyscallError('write', code, `linux.timeOffsets: write ${file}: ${code}${why}`);
  }
}
