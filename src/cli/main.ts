// tsrun's command line: runc's global flags and commands. This module only parses
// and dispatches; each command lives in cli/commands/ and calls lifecycle/.
import { CommandFailure, TsrunError } from '../errors';
import { configureLog, log, type LogFormat } from '../log';
import { normalizeArgv } from './argv';
import { commands } from './commands';
import { separateExecCommand } from './commands/exec';
import { versionText } from './commands/version';
import { assignPositionals, commandNames, commandSpec, parseFlags, recordBuilder, type ParsedArgv } from './fast-parse';
import { globalOptions } from './global-options';
import { StdoutClosed, writeStdout } from '../output';
import { systemErrorMessage } from './system-error';

/** How bin/tsrun ends the process once main() has answered (src/native.ts). */
export { exitProcess } from '../native';

export async function main(argv: readonly string[]): Promise<number> {
  const args = separateExecCommand(normalizeArgv(argv));
  const out: ParsedArgv = { _: [], $0: 'tsrun' };
  try {
    const rest = parseFlags(args, recordBuilder((y) => globalOptions(y)), out, { stopAtPositional: true });
    if (out['version']) {
      writeStdout(versionText());
      return 0;
    }
    const [name, ...commandArgs] = rest;
    await refuseUndecodablePaths(argv, out);
    configureLog({ file: out['log'] as string | undefined, format: out['log-format'] as LogFormat, debug: Boolean(out['debug']) });
    // runc's `help [command]` (or `h`) is `[command] --help`.
    if (name === 'help' || name === 'h') {
      const topic = commandArgs[0];
      if (topic !== undefined && !findCommand(topic)) return noHelpTopic(topic);
      return await (await import('./help')).showHelp([...commandArgs.slice(0, 1), '--help']);
    }
    if (out['help']) return await (await import('./help')).showHelp(args);
    // Global options and no command: the help, as runc prints it.
    if (name === undefined) return await (await import('./help')).showHelp([...args, '--help']);
    const module = findCommand(name);
    if (!module) return noHelpTopic(name);
    const spec = commandSpec(module);
    out._ = [name];
    const helpFlag = { name: 'help', aliases: ['h'], type: 'boolean' as const };
    const variadic = spec.positionals.some((p) => p.variadic);
    const words = parseFlags(commandArgs, [...spec.flags, helpFlag], out, { stopAtPositional: variadic });
    if (out['help']) return await (await import('./help')).showHelp(args);
    await refuseUndecodablePaths(argv, out);
    assignPositionals(spec, words, out);
    await module.handler(out as never);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof StdoutClosed) return e.exitStatus;
    if (e instanceof CommandFailure) {
      log.fatal(`${e.prefix}: ${errorMessage(e.inner)}`);
      return e.exitStatus;
    }
    log.fatal(errorMessage(e));
    return 1;
  }
}

/**
 * A path flag (--root, --log, --pid-file, ...) whose bytes are not UTF-8 is refused
 * (src/cli/raw-paths.ts). Looked at only when a word was decoded with a replacement
 * character: /proc/self/cmdline tells a name that holds U+FFFD from one Node could not
 * decode.
 */
async function refuseUndecodablePaths(argv: readonly string[], out: ParsedArgv): Promise<void> {
  if (!argv.some((a) => a.includes('\uFFFD'))) return;
  const { pathFlagNotUtf8, rawArguments } = await import('./raw-paths');
  const flag = pathFlagNotUtf8(out, rawArguments(argv.length));
  if (flag !== undefined) throw new TsrunError(`--${flag} ${JSON.stringify(out[flag])}: not valid UTF-8 as given (a byte of it was read as U+FFFD), so tsrun cannot name that path`);
}

function findCommand(name: string): (typeof commands)[number] | undefined {
  return commands.find((c) => commandNames(c).includes(name));
}

/** runc (urfave/cli) answers an unknown command, or help about one, so: exit status 3. */
function noHelpTopic(name: string): number {
  log.fatal(`No help topic for '${name}'`);
  return 3;
}

/** The message as it is: log.fatal keeps it on one line (Go quoting, JSON or \\n). */
function errorMessage(e: unknown): string {
  if (e instanceof TsrunError) return e.message;
  if (e instanceof Error) {
    const errno = e as NodeJS.ErrnoException;
    const system = systemErrorMessage(errno);
    if (system !== undefined) return system;
    return errno.code && !e.message.includes(errno.code) ? `${e.message} (${errno.code})` : e.message;
  }
  return String(e);
}
