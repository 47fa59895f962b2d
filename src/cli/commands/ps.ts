import type { CommandModule } from 'yargs';
import { TsrunError } from '../../errors';
import { EMPTY_ID, type GlobalOptions } from './common';
import { writeStdout } from '../../output';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadPs = (): typeof import('../../lifecycle/ps') => require('../../lifecycle/ps');

export const ps: CommandModule<GlobalOptions, GlobalOptions & { format: string }> = {
  command: 'ps [container-id]',
  describe: 'ps displays the processes running inside a container (extra arguments go to ps(1), default -ef)',
  builder: (y) =>
    y
      .positional('container-id', { type: 'string', describe: 'the container id' })
      .option('format', { alias: 'f', type: 'string', default: 'table', describe: 'select one of: table or json' }),
  handler: (argv) => {
    const id = argv['container-id'];
    if (id === undefined) throw new TsrunError('"ps" requires a minimum of 1 argument(s)');
    if (id === '') throw new TsrunError(EMPTY_ID);
    const psArgs = (argv._ as (string | number)[]).slice(1).map(String);
    if (argv.format === 'json') {
      const pids = loadPs().containerPids(argv.root, String(id));
      // runc 1.1.5 encodes an empty (nil) Go slice: `null`, not `[]`.
      writeStdout((pids.length === 0 ? 'null' : JSON.stringify(pids)) + '\n');
      return;
    }
    if (argv.format !== 'table') throw new TsrunError(`invalid format option`);
    writeStdout(loadPs().containerPsTable(argv.root, String(id), psArgs));
  },
};
