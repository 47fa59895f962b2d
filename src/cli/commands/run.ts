import type { CommandModule } from 'yargs';
import { containerId, type GlobalOptions } from './common';
import { createFlags, createOptions, type CreateFlags } from './create';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadRun = (): typeof import('../../lifecycle/run') => require('../../lifecycle/run');

interface RunFlags extends CreateFlags {
  detach: boolean;
  keep: boolean;
  'no-subreaper': boolean;
}

export const run: CommandModule<GlobalOptions, RunFlags> = {
  command: 'run [container-id]',
  describe: 'create and run a container',
  builder: (y) =>
    createFlags(y)
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
      .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' })
      .option('no-subreaper', { type: 'boolean', default: false, describe: 'disable the use of the subreaper used to reap reparented processes' }),
  handler: async (argv) => {
    const code = await loadRun().runContainer({
      ...createOptions(argv, containerId(argv, 'run')),
      detach: argv.detach,
      keep: argv.keep,
      noSubreaper: argv['no-subreaper'],
    });
    process.exitCode = code;
  },
};
