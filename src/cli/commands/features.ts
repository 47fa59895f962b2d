import type { CommandModule } from 'yargs';
import { noArguments, type GlobalOptions } from './common';
import { writeStdout } from '../../output';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadFeatures = (): typeof import('../../lifecycle/features') => require('../../lifecycle/features');

export const featuresCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'features',
  describe: 'show the enabled features (the runtime-spec features document, as JSON)',
  handler: (argv) => {
    noArguments(argv, 'features');
    writeStdout(JSON.stringify(loadFeatures().hostFeatures(), null, 4) + '\n');
  },
};
