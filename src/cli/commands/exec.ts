import type { Argv, CommandModule } from 'yargs';
import { CommandFailure, TsrunError } from '../../errors';
import { EMPTY_ID, type GlobalOptions } from './common';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadExec = (): typeof import('../../lifecycle/exec') => require('../../lifecycle/exec');

interface ExecCliFlags extends GlobalOptions {
  'console-socket'?: string;
  'pidfd-socket'?: string;
  cwd?: string;
  env?: string | string[];
  tty: boolean;
  user?: string;
  'additional-gids'?: string | string[];
  process?: string;
  detach: boolean;
  'pid-file'?: string;
  'process-label'?: string;
  apparmor?: string;
  'no-new-privs'?: boolean;
  cap?: string | string[];
  'preserve-fds': number;
  cgroup?: string | string[];
  'ignore-paused': boolean;
}

/** Flags of exec (and global flags) that take a value: the word after them is not the id. */
const VALUE_FLAGS = new Set([
  'root', 'log', 'log-format', 'criu', 'rootless',
  'console-socket', 'pidfd-socket', 'cwd', 'env', 'e', 'user', 'u', 'additional-gids', 'g', 'process', 'p', 'pid-file',
  'process-label', 'apparmor', 'cap', 'c', 'preserve-fds', 'cgroup',
]);

/**
 * `exec ID sh -c x`: everything after the container id belongs to the command, even
 * words that look like exec's own flags (`-c`). runc's CLI stops parsing at the
 * first word that is not a flag; yargs does not, so a `--` is put after the id.
 */
export function separateExecCommand(args: readonly string[]): string[] {
  let i = 0;
  let seenExec = false;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return [...args];
    if (a.startsWith('-') && a.length > 1) {
      const name = a.slice(a.startsWith('--') ? 2 : 1);
      if (!name.includes('=') && VALUE_FLAGS.has(name)) i++;
      continue;
    }
    if (!seenExec) {
      if (a !== 'exec') return [...args];
      seenExec = true;
      continue;
    }
    // a is the container id; `ID -- cmd` (runc's documented form) already separates.
    if (args[i + 1] === '--') return [...args];
    return [...args.slice(0, i + 1), '--', ...args.slice(i + 1)];
  }
  return [...args];
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export const exec: CommandModule<GlobalOptions, ExecCliFlags> = {
  command: 'exec [container-id]',
  describe: 'execute new process inside the container',
  builder: (y) =>
    (y as Argv<GlobalOptions>)
      .positional('container-id', { type: 'string', describe: 'the container id' })
      .option('console-socket', { type: 'string', describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" })
      .option('cwd', { type: 'string', describe: 'current working directory in the container' })
      .option('env', { alias: 'e', type: 'string', array: true, describe: 'set environment variables' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'allocate a pseudo-TTY' })
      .option('user', { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' })
      .option('additional-gids', { alias: 'g', type: 'string', array: true, describe: 'additional gids' })
      .option('process', { alias: 'p', type: 'string', describe: 'path to the process.json' })
      .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
      .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
      .option('pidfd-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process (a pidfd)' })
      .option('process-label', { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' })
      .option('apparmor', { type: 'string', describe: 'set the apparmor profile for the process' })
      .option('no-new-privs', { type: 'boolean', describe: 'set the no new privileges value for the process' })
      .option('cap', { alias: 'c', type: 'string', array: true, describe: 'add a capability to the bounding set for the process' })
      .option('preserve-fds', { type: 'number', default: 0, describe: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)' })
      .option('cgroup', { type: 'string', array: true, describe: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.' })
      .option('ignore-paused', { type: 'boolean', default: false, describe: 'allow exec in a paused container' }) as unknown as Argv<ExecCliFlags>,
  handler: async (argv) => {
    const words = (argv._ as (string | number)[]).slice(1).map(String);
    const idArg = argv['container-id'];
    const all = idArg === undefined ? words : [String(idArg), ...words];
    const id = all[0];
    if (id === undefined) throw new TsrunError('"exec" requires a minimum of 1 argument(s)');
    // runc's: an empty id is an exec that failed (255), a missing one a usage error.
    if (id === '') throw new CommandFailure('exec failed', new TsrunError(EMPTY_ID), 255);
    const command = all.slice(1);
    const preserveFds = argv['preserve-fds'];
    if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new TsrunError(`invalid --preserve-fds ${preserveFds}`);
    const gids = list(argv['additional-gids']).map((g) => {
      if (!/^-?\d+$/.test(g)) throw new TsrunError(`invalid value "${g}" for flag -additional-gids`);
      return Number(g);
    });
    // From here on a failure is runc's `exec failed: ...` with 255, which callers tell
    // from the exec'd process's own exit status 1.
    try {
      if (!argv.process && command.length === 0) throw new TsrunError('process args cannot be empty');
      process.exitCode = await execFromFlags(argv, id, command, gids, preserveFds);
    } catch (e) {
      throw new CommandFailure('exec failed', e, 255);
    }
  },
};

/** The lifecycle's exec, with what the flags say. */
function execFromFlags(argv: ExecCliFlags, id: string, command: string[], gids: number[], preserveFds: number): Promise<number> {
  return loadExec().execInContainer({
    root: argv.root,
    id,
    processFile: argv.process,
    flags: {
      args: command,
      env: list(argv.env),
      cwd: argv.cwd,
      user: argv.user,
      additionalGids: gids,
      caps: list(argv.cap),
      noNewPrivs: argv['no-new-privs'],
      tty: argv.tty,
      apparmor: argv.apparmor,
      processLabel: argv['process-label'],
    },
    detach: argv.detach,
    pidFile: argv['pid-file'],
    consoleSocket: argv['console-socket'],
    pidfdSocket: argv['pidfd-socket'],
    preserveFds,
    cgroups: list(argv.cgroup),
    ignorePaused: argv['ignore-paused'],
  });
}
