// How a failed system call that reached the top unexplained is said: as runc (Go)
// says it, "mkdir /run/x: not a directory", where Node says "ENOTDIR: not a
// directory, mkdir '/run/x'". Callers read runc's messages, and a few match them.

/** Node's names that are no system call: the call Go would name. */
const GO_NAMES: Readonly<Record<string, string>> = { scandir: 'open' };

/** Go's shape for a Node system error with a path; undefined for any other error. */
export function systemErrorMessage(e: NodeJS.ErrnoException): string | undefined {
  if (!e.code || !e.syscall || e.path === undefined) return undefined;
  const prefix = `${e.code}: `;
  const cut = e.message.indexOf(`, ${e.syscall} `);
  if (!e.message.startsWith(prefix) || cut < 0) return undefined;
  // rename, link, symlink and copyfile name both paths, as Go's LinkError does.
  const dest = (e as { dest?: unknown }).dest;
  return `${GO_NAMES[e.syscall] ?? e.syscall} ${e.path}${typeof dest === 'string' ? ` ${dest}` : ''}: ${e.message.slice(prefix.length, cut)}`;
}
