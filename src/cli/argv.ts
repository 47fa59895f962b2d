// Engines call runtimes with Go-style flags (urfave/cli): `-root X`, `-no-subreaper`,
// `--log=x`. yargs speaks GNU style, so single-dash long flags that tsrun knows are
// rewritten to their double-dash form first. Unknown words are left alone: a
// container id or a signal such as "-9"... is never a known flag name.

const LONG_FLAGS = new Set([
  'root', 'log', 'log-format', 'debug', 'systemd-cgroup', 'criu', 'rootless', 'help', 'version',
  'bundle', 'console-socket', 'pid-file', 'no-pivot', 'no-new-keyring', 'preserve-fds', 'detach', 'keep',
  'no-subreaper', 'force', 'all', 'format', 'quiet', 'process', 'cwd', 'env', 'tty', 'user',
  'additional-gids', 'process-label', 'apparmor', 'no-new-privs', 'cap', 'cgroup', 'ignore-paused',
  'resources', 'stats', 'interval',
]);

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(arg);
    if (m && LONG_FLAGS.has(m[1] as string)) {
      out.push(`--${m[1]}${m[2] ?? ''}`);
      continue;
    }
    out.push(arg);
  }
  return out;
}
