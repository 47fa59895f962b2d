import type { Argv, CommandModule } from 'yargs';
import { containerId, type GlobalOptions } from './common';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadCreate = (): typeof import('../../lifecycle/create') => require('../../lifecycle/create');
const loadSignals = (): typeof import('../../lifecycle/signal-forwarding') => require('../../lifecycle/signal-forwarding');

export interface CreateFlags extends GlobalOptions {
  bundle: string;
  'console-socket'?: string;
  'pidfd-socket'?: string;
  'pid-file'?: string;
  'no-pivot': boolean;
  'no-new-keyring': boolean;
  'preserve-fds': number;
}

export function createFlags<T>(y: Argv<T>): Argv<T & CreateFlags> {
  return y
    .positional('container-id', { type: 'string', describe: 'unique name of the container on this host' })
    .option('bundle', { alias: 'b', type: 'string', default: '.', describe: 'path to the root of the bundle directory' })
    .option('console-socket', { type: 'string', describe: 'path to an AF_UNIX socket which will receive the master end of the console' })
    .option('pidfd-socket', { type: 'string', describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the container's process (a pidfd)" })
    .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
    .option('no-pivot', { type: 'boolean', default: false, describe: 'do not use pivot_root to jail the process inside the rootfs' })
    .option('no-new-keyring', { type: 'boolean', default: false, describe: 'do not create a new session keyring for the container' })
    .option('preserve-fds', { type: 'number', default: 0, describe: 'pass N additional file descriptors to the container' }) as unknown as Argv<T & CreateFlags>;
}

export function createOptions(argv: CreateFlags & { _: (string | number)[] }, id: string) {
  return {
    root: argv.root,
    id,
    bundle: argv.bundle,
    pidFile: argv['pid-file'],
    consoleSocket: argv['console-socket'],
    pidfdSocket: argv['pidfd-socket'],
    noPivot: argv['no-pivot'],
    noNewKeyring: argv['no-new-keyring'],
    preserveFds: argv['preserve-fds'],
    rootless: argv.rootless,
    systemdCgroup: argv['systemd-cgroup'],
  };
}

export const create: CommandModule<GlobalOptions, CreateFlags> = {
  command: 'create [container-id]',
  describe: 'create a container',
  builder: (y) => createFlags(y),
  handler: (argv) => {
    const opts = createOptions(argv, containerId(argv, 'create'));
    const lifecycle = loadCreate();
    const bundle = lifecycle.loadCreateBundle(opts);
    loadSignals().withSignalsIgnored(() => lifecycle.createContainer(opts, bundle));
  },
};
