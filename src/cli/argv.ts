// Engines call runtimes with Go-style flags (urfave/cli): `-root X`, `-no-subreaper`,
// `--log=x`. yargs speaks GNU style, so single-dash long flags that tsrun knows are
// rewritten to their double-dash form first. Unknown words are left alone: a
// container id or a signal such as "-9"... is never a known flag name.

const LONG_FLAGS = new Set([
  'root', 'log', 'log-format', 'debug', 'systemd-cgroup', 'criu', 'rootless', 'help', 'version',
  'bundle', 'console-socket', 'pidfd-socket', 'pid-file', 'no-pivot', 'no-new-keyring', 'preserve-fds', 'detach', 'keep',
  'no-subreaper', 'force', 'all', 'format', 'quiet', 'process', 'cwd', 'env', 'tty', 'user',
  'additional-gids', 'process-label', 'apparmor', 'no-new-privs', 'cap', 'cgroup', 'ignore-paused',
  'resources', 'stats', 'interval',
  // update
  'memory', 'memory-swap', 'memory-reservation', 'kernel-memory', 'kernel-memory-tcp', 'cpu-share', 'cpu-shares', 'cpu-burst', 'cpu-idle',
  'cpu-quota', 'cpu-period', 'cpu-rt-runtime', 'cpu-rt-period', 'cpuset-cpus', 'cpuset-mems', 'pids-limit',
  'blkio-weight', 'l3-cache-schema', 'mem-bw-schema',
]);

/** Global flags that take a value (their value is not the command word). */
const GLOBAL_VALUE_FLAGS = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

/**
 * `ps <id> [ps-args...]`: everything after the container id belongs to ps(1)
 * (`-o pid,comm`, `-ef`), so a `--` is put after the id to keep yargs off it.
 */
function separatePsArgs(args: string[]): string[] {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    if (args[i] === '--') return args;
    i += GLOBAL_VALUE_FLAGS.has(args[i]!) ? 2 : 1;
  }
  if (args[i] !== 'ps') return args;
  for (let j = i + 1; j < args.length; j++) {
    const a = args[j]!;
    if (a === '--') return args;
    if (a === '--format' || a === '-f') {
      j++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return args[j + 1] === undefined || args[j + 1] === '--' ? args : [...args.slice(0, j + 1), '--', ...args.slice(j + 1)];
  }
  return args;
}

// No RegExp on this path, nor in fast-parse.ts: every command parses its argv, and
// V8 compiles each regular expression at its first uses (tens of microseconds each).

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    // `-name` or `-name=value`, name a known long flag: given its `--` spelling.
    if (arg.startsWith('-') && !arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (LONG_FLAGS.has(eq < 0 ? arg.slice(1) : arg.slice(1, eq))) {
        out.push(`-${arg}`);
        continue;
      }
    }
    out.push(arg);
  }
  return separatePsArgs(out);
}
