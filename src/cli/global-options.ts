// runc's global flags, declared once: read by the fast parser and by yargs for --help.
import type { Argv } from 'yargs';
import type { GlobalOptions } from './commands/common';
import { defaultStateRoot } from '../state/default-root';

export function globalOptions(y: Argv): Argv<GlobalOptions> {
  return y
    .option('root', { type: 'string', default: defaultStateRoot(), describe: 'root directory for storage of container state (this should be located in tmpfs)' })
    .option('log', { type: 'string', describe: "set the log file to write tsrun logs to (default is '/dev/stderr')" })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'], describe: "set the log format ('text' or 'json')" })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', { type: 'boolean', default: false, describe: 'enable systemd cgroup support (cgroupsPath of the form "slice:prefix:name")' })
    .option('criu', { type: 'string', hidden: true, describe: 'accepted for compatibility; checkpoint/restore is not supported' })
    .option('rootless', { type: 'string', default: 'auto', describe: "ignore cgroup permission errors ('true', 'false', or 'auto')" })
    .option('version', { alias: 'v', type: 'boolean', describe: 'print the version' })
    .option('help', { alias: 'h', type: 'boolean', describe: 'show help' }) as unknown as Argv<GlobalOptions>;
}
