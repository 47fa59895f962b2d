// runc's checkpoint and restore, which need CRIU: tsrun has no CRIU support. The
// commands exist with runc's flags so that a caller (containerd's shim for
// `ctr c checkpoint`, podman's `container checkpoint`) gets that answer, exit
// status 1 as for any failed command, rather than an unknown command (status 3).
import type { Arguments, Argv, CommandModule } from 'yargs';
import { NotSupportedError } from '../../errors';
import { containerId, type GlobalOptions } from './common';

/** runc's usage errors first (a missing id), then the answer. */
function refuse(command: string): (argv: Arguments) => never {
  return (argv) => {
    containerId(argv, command);
    throw new NotSupportedError('checkpoint and restore (tsrun has no CRIU support)');
  };
}

/** The flags both commands take, as runc 1.1 names them. */
function criuFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .positional('container-id', { type: 'string' })
    .option('image-path', { type: 'string', describe: 'path for the criu image files' })
    .option('work-path', { type: 'string', describe: 'path for saving work files and logs' })
    .option('tcp-established', { type: 'boolean', describe: 'allow open tcp connections' })
    .option('ext-unix-sk', { type: 'boolean', describe: 'allow external unix sockets' })
    .option('shell-job', { type: 'boolean', describe: 'allow shell jobs' })
    .option('lazy-pages', { type: 'boolean', describe: 'use userfaultfd to lazily restore memory pages' })
    .option('file-locks', { type: 'boolean', describe: 'handle file locks, for safety' })
    .option('manage-cgroups-mode', { type: 'string', describe: "cgroups mode: 'soft' (default), 'full' and 'strict'" })
    .option('empty-ns', { type: 'string', array: true, describe: "create a namespace, but don't restore its properties" })
    .option('auto-dedup', { type: 'boolean', describe: 'enable auto deduplication of memory images' }) as unknown as Argv<T>;
}

export const checkpoint: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'checkpoint [container-id]',
  describe: 'checkpoint a running container (not supported by tsrun: no CRIU)',
  builder: (y) =>
    criuFlags(y)
      .option('parent-path', { type: 'string', describe: 'path for previous criu image files in pre-dump' })
      .option('leave-running', { type: 'boolean', describe: 'leave the process running after checkpointing' })
      .option('status-fd', { type: 'string', describe: 'criu writes \\0 to this FD once lazy-pages is ready' })
      .option('page-server', { type: 'string', describe: 'ADDRESS:PORT of the page server' })
      .option('pre-dump', { type: 'boolean', describe: "dump container's memory information only, leave the container running after this" }) as never,
  handler: refuse('checkpoint'),
};

export const restore: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'restore [container-id]',
  describe: 'restore a container from a previous checkpoint (not supported by tsrun: no CRIU)',
  builder: (y) =>
    criuFlags(y)
      .option('console-socket', { type: 'string', describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" })
      .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
      .option('detach', { alias: 'd', type: 'boolean', describe: "detach from the container's process" })
      .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
      .option('no-subreaper', { type: 'boolean', describe: 'disable the use of the subreaper used to reap reparented processes' })
      .option('no-pivot', { type: 'boolean', describe: 'do not use pivot root to jail process inside rootfs' })
      .option('lsm-profile', { type: 'string', describe: 'an LSM profile to be used during restore, as TYPE:NAME' })
      .option('lsm-mount-context', { type: 'string', describe: 'an LSM mount context to be used during restore' }) as never,
  handler: refuse('restore'),
};
