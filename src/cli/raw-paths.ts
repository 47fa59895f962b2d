// Node decodes its argv as UTF-8 and turns every byte that is not UTF-8 into
// U+FFFD: a --pid-file, --log, --root, --bundle, --console-socket, --pidfd-socket,
// --process or --resources whose name holds such a byte (a Linux name may) would be
// written, read or created under another name (".../pid\xff" as ".../pid\xef\xbf\xbd", and
// "\xfe" as the same), where runc uses the very bytes it was given. Such a path
// is refused, naming the flag, rather than taken for another file.

/** The flags whose value names a host file or directory. */
const PATH_FLAGS = ['root', 'log', 'bundle', 'pid-file', 'console-socket', 'pidfd-socket', 'process', 'resources'];

/**
 * The first path flag whose value came from an argument that is not valid UTF-8
 * (rawArgs: the arguments as the kernel holds them, /proc/self/cmdline).
 */
export function pathFlagNotUtf8(parsed: Record<string, unknown>, rawArgs: readonly Buffer[]): string | undefined {
  const invalid = rawArgs.map((raw) => raw.toString('utf8')).filter((text, i) => !Buffer.from(text, 'utf8').equals(rawArgs[i]!));
  if (invalid.length === 0) return undefined;
  return PATH_FLAGS.find((flag) => {
    const value = parsed[flag];
    return typeof value === 'string' && value.includes('\uFFFD') && invalid.some((text) => text.includes(value));
  });
}

/** The caller's arguments as bytes: the last `count` words of /proc/self/cmdline. */
export function rawArguments(count: number): Buffer[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('fs') as typeof import('fs');
  const words: Buffer[] = [];
  const text = fs.readFileSync('/proc/self/cmdline');
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf(0, at);
    words.push(text.subarray(at, end === -1 ? text.length : end));
    at = end === -1 ? text.length : end + 1;
  }
  return words.slice(Math.max(0, words.length - count));
}
