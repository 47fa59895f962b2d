import type { CommandModule } from 'yargs';
import { features } from '../../lifecycle/features';
import type { GlobalOptions } from './common';

export const featuresCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'features',
  describe: 'show the enabled features (the runtime-spec features document, as JSON)',
  handler: () => {
    process.stdout.write(JSON.stringify(features(), null, 4) + '\n');
  },
};
