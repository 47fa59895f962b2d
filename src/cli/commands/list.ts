import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { TsrunError } from '../../errors';
import type { OciState } from '../../state/types';
import { noArguments, type GlobalOptions } from './common';
import { writeStderr, writeStdout } from '../../output';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadQuery = (): typeof import('../../lifecycle/query') => require('../../lifecycle/query');

/**
 * Pads like Go's tabwriter(minwidth 12, padding 3), which is what runc prints. The
 * tabwriter counts a cell's width in code points (utf8.RuneCount), not in UTF-16
 * units: a bundle path with an emoji is as wide as its characters.
 */
export function table(rows: string[][]): string {
  // Spread only where a surrogate pair may be (a `list` of thousands pays nothing).
  const width = (cell: string): number => (/[\ud800-\udfff]/.test(cell) ? [...cell].length : cell.length);
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((r) => width(r[col] ?? '') + 3)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell + ' '.repeat(widths[col]! - width(cell)))).join('') + '\n').join('');
}

/** Names uids from /etc/passwd as runc does (read once); `#<uid>` for one not there. */
function ownerNames(): (uid: number) => string {
  const names = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] !== undefined && !names.has(f[2])) names.set(f[2], f[0] as string);
    }
  } catch {
    // no passwd: numbers only
  }
  return (uid) => names.get(String(uid)) ?? `#${uid}`;
}

/** runc's OWNER: who owns the container's own state directory. */
function ownerOf(root: string, id: string, name: (uid: number) => string): string {
  try {
    return name(fs.statSync(path.join(root, id)).uid);
  } catch {
    return name(process.getuid?.() ?? 0); // deleted meanwhile
  }
}

export const list: CommandModule<GlobalOptions, GlobalOptions & { format: string; quiet: boolean }> = {
  command: 'list',
  aliases: ['ps-list'],
  describe: 'lists containers started by tsrun with the given root',
  builder: (y) =>
    y
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'display only container IDs' }),
  handler: (argv) => {
    noArguments(argv, 'list');
    // As runc's list: --quiet prints the ids whatever --format says, so the format is
    // checked only where it is used (`list -q -f yaml` is status 0 under runc).
    if (!argv.quiet && argv.format !== 'table' && argv.format !== 'json') throw new TsrunError(`invalid format option "${argv.format}"`);
    // runc's list names each container directory's owner (its `state` leaves owner empty).
    const name = ownerNames();
    // A container whose state cannot be loaded: runc's plain line on stderr (never in
    // --log), and the others are listed.
    const unloadable = (id: string, reason: string): void => writeStderr(`load container ${id}: ${reason}\n`);
    const states: OciState[] = (fs.existsSync(argv.root) ? loadQuery().listContainers(argv.root, unloadable) : []).map((s) => ({ ...s, owner: ownerOf(argv.root, s.id, name) }));
    if (argv.quiet) {
      writeStdout(states.map((s) => s.id + '\n').join(''));
      return;
    }
    if (argv.format === 'json') {
      // runc prints Go's empty list, null, when there is no container.
      writeStdout((states.length === 0 ? 'null' : JSON.stringify(states)) + '\n');
      return;
    }
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
    for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
    writeStdout(table(rows));
  },
};
