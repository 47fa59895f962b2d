// The fds the init is handed besides its stdio (PROTOCOL.md): the preserved ones
// (--preserve-fds) from 3, then the plan and the sync socket, then the extra fds in
// the order they were given. create and exec name extra fds in their plans by the
// number each gets there.

/** The number `fd`, one of `extraFds`, has in the init; undefined for none. */
export function initFdNumber(preserveFds: number, extraFds: readonly number[], fd: number | undefined): number | undefined {
  if (fd === undefined) return undefined;
  const at = extraFds.indexOf(fd);
  return at < 0 ? undefined : 3 + preserveFds + 2 + at;
}
