// --help, rendered by yargs from the same command modules the fast parser reads.
// Loaded only when help is asked for: yargs is the slowest module tsrun could load.
import yargs = require('yargs');
import { commands } from './commands';
import { globalOptions } from './global-options';
import { noteStdioStreams, StdoutClosed } from '../output';

export async function showHelp(args: readonly string[]): Promise<number> {
  noteStdioStreams(); // yargs prints through process.stdout
  // ...with console.log, which swallows a failed write: a reader of stdout that has
  // gone is seen here, and help then ends as any other output does (StdoutClosed).
  let readerGone = false;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') readerGone = true;
  });
  // yargs's own --version off before the global options declare tsrun's (else yargs
  // warns that "version" is a reserved word).
  let parser = globalOptions(yargs([...args]).version(false))
    .scriptName('tsrun')
    .usage('Usage: tsrun [global options] <command> [command options] <container-id>\n\nAn OCI container runtime (runc-compatible).')
    .help('help')
    .alias('help', 'h')
    .parserConfiguration({ 'boolean-negation': false, 'parse-positional-numbers': false })
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 100));
  for (const command of commands) parser = parser.command({ ...command, handler: () => undefined });
  if (!args.includes('--help') && !args.includes('-h')) parser = parser.showHelpOnFail(false);
  await parser.parseAsync(args.length === 0 ? ['--help'] : args);
  // The stream reports a failed write after the write call has returned.
  await new Promise((resolve) => setImmediate(resolve));
  if (readerGone) throw new StdoutClosed();
  return 0;
}
