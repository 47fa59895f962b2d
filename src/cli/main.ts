// tsrun's command line: runc's global flags and commands. This module only parses
// and dispatches; each command lives in cli/commands/ and calls lifecycle/.
import yargs, { type Argv } from 'yargs';
import { TsrunError } from '../errors';
import { configureLog, log, type LogFormat } from '../log';
import { normalizeArgv } from './argv';
import { commands } from './commands';
import { separateExecCommand } from './commands/exec';
import type { GlobalOptions } from './commands/common';
import { versionText } from './commands/version';

function globalOptions(y: Argv): Argv<GlobalOptions> {
  return y
    .option('root', { type: 'string', default: '/run/tsrun', describe: 'root directory for storage of container state (this should be located in tmpfs)' })
    .option('log', { type: 'string', describe: "set the log file to write tsrun logs to (default is '/dev/stderr')" })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'], describe: "set the log format ('text' or 'json')" })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'enable systemd cgroup support (cgroupsPath of the form "slice:prefix:name")' })
    .option('criu', { type: 'string', hidden: true, describe: 'accepted for compatibility; checkpoint/restore is not supported' })
    .option('rootless', { type: 'string', default: 'auto', describe: "ignore cgroup permission errors ('true', 'false', or 'auto')" }) as unknown as Argv<GlobalOptions>;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = separateExecCommand(normalizeArgv(argv));
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(versionText());
    return 0;
  }
  let exitCode = 0;
  let parser = globalOptions(yargs(args))
    .scriptName('tsrun')
    .usage('tsrun [global options] <command> [command options] <container-id>\n\nAn OCI container runtime (runc-compatible).')
    .version(false)
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .help('help')
    .alias('help', 'h')
    .strictCommands()
    .strictOptions()
    .demandCommand(1, 'a command is required (see --help)')
    .parserConfiguration({ 'camel-case-expansion': true, 'boolean-negation': false, 'parse-positional-numbers': false })
    .middleware((opts) => {
      configureLog({ file: opts.log as string | undefined, format: opts['log-format'] as LogFormat, debug: Boolean(opts.debug) });
    })
    .fail((msg, err) => {
      throw err ?? new TsrunError(msg);
    })
    .wrap(Math.min(120, process.stdout.columns || 100));
  for (const command of commands) parser = parser.command(command);
  try {
    const parsed = await parser.parseAsync();
    if (parsed.version) process.stdout.write(versionText());
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    log.fatal(errorMessage(e));
    return 1;
  }
  return exitCode;
}

function errorMessage(e: unknown): string {
  if (e instanceof TsrunError) return e.message;
  if (e instanceof Error) {
    const errno = e as NodeJS.ErrnoException;
    return errno.code && !e.message.includes(errno.code) ? `${e.message} (${errno.code})` : e.message;
  }
  return String(e);
}
