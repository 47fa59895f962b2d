// --help, rendered by yargs from the same command modules the fast parser reads.
// Loaded only when help is asked for: yargs is the slowest module tsrun could load.
import yargs = require('yargs');
import { commands } from './commands';
import { globalOptions } from './global-options';
import { noteStdioStreams } from '../output';

export async function showHelp(args: readonly string[]): Promise<number> {
  noteStdioStreams(); // yargs prints through process.stdout
  let parser = globalOptions(yargs([...args]))
    .scriptName('tsrun')
    .usage('tsrun [global options] <command> [command options] <container-id>\n\nAn OCI container runtime (runc-compatible).')
    .version(false)
    .help('help')
    .alias('help', 'h')
    .parserConfiguration({ 'boolean-negation': false, 'parse-positional-numbers': false })
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 100));
  for (const command of commands) parser = parser.command({ ...command, handler: () => undefined });
  if (!args.includes('--help') && !args.includes('-h')) parser = parser.showHelpOnFail(false);
  await parser.parseAsync(args.length === 0 ? ['--help'] : args);
  return 0;
}
