import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { defaultSpec } from '../../config/default-spec';
import { NotSupportedError, TsrunError } from '../../errors';
import type { GlobalOptions } from './common';

export const spec: CommandModule<GlobalOptions, GlobalOptions & { bundle?: string; rootless: string | boolean }> = {
  command: 'spec',
  describe: 'create a new specification file (config.json)',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
      .option('rootless', { type: 'boolean', default: false, describe: 'generate a configuration for a rootless container' }) as never,
  handler: (argv) => {
    if (String(argv.rootless) === 'true') throw new NotSupportedError('spec --rootless');
    const dir = path.resolve(argv.bundle ?? '.');
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) throw new TsrunError('File config.json exists. Remove it first');
    fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, '\t') + '\n', { mode: 0o666 });
  },
};
