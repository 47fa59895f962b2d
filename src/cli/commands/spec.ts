import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import type * as DefaultSpec from '../../config/default-spec';
import type * as RootlessSpec from '../../config/rootless-spec';
import { TsrunError } from '../../errors';
import { noArguments, type GlobalOptions } from './common';

export const spec: CommandModule<GlobalOptions, GlobalOptions & { bundle?: string; rootless: string | boolean }> = {
  command: 'spec',
  describe: 'create a new specification file (config.json)',
  builder: (y) =>
    y
      .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
      .option('rootless', { type: 'boolean', default: false, describe: 'generate a configuration for a rootless container' }) as never,
  handler: (argv) => {
    noArguments(argv, 'spec');
    const dir = path.resolve(argv.bundle ?? '.');
    const file = path.join(dir, 'config.json');
    if (fs.existsSync(file)) throw new TsrunError('File config.json exists. Remove it first');
    const config =
      String(argv.rootless) === 'true'
        ? (require('../../config/rootless-spec') as typeof RootlessSpec).rootlessSpec(process.geteuid?.() ?? 0, process.getegid?.() ?? 0)
        : (require('../../config/default-spec') as typeof DefaultSpec).defaultSpec();
    // Tab-indented and without a final newline: byte for byte what runc writes.
    fs.writeFileSync(file, JSON.stringify(config, null, '\t'), { mode: 0o666 });
  },
};
