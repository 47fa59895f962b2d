// The AF_UNIX sockets a caller names on the command line (--console-socket,
// --pidfd-socket): connected by tsrun, handed to the init, which sends an fd there.
import * as path from 'path';
import { TsrunError } from '../errors';
import { native } from '../native';

/**
 * Connects to the socket given with `flag`; a failure names the flag and the path.
 * "@name" is in the abstract namespace (as Go's dialer reads it for runc). A relative
 * path is the bundle's, as runc's (it dials from the bundle it has made its working
 * directory; exec from the container's bundle), and is reached through an fd of the
 * bundle: a name a caller gives relative because the whole path would not fit in
 * sun_path (108 bytes) still fits, as it does for runc.
 */
export function connectCallerSocket(flag: string, socketPath: string, bundleDir: string): number {
  const nat = native();
  try {
    if (socketPath.startsWith('@') || path.isAbsolute(socketPath)) return nat.connectUnix(socketPath);
    const bundleFd = nat.openPath(bundleDir);
    const viaFd = `/proc/self/fd/${bundleFd}/`;
    try {
      return nat.connectUnix(viaFd + socketPath);
    } catch (e) {
      // The message names the socket by the bundle's path, not the fd's.
      throw new Error((e as Error).message.split(viaFd).join(`${bundleDir}/`));
    } finally {
      nat.closeFd(bundleFd);
    }
  } catch (e) {
    throw new TsrunError(`${flag} ${socketPath}: ${(e as Error).message}`);
  }
}

/** --pidfd-socket connected (its fd then goes to the init), or undefined without one. */
export function connectPidfdSocket(socketPath: string | undefined, bundleDir: string): number | undefined {
  return socketPath === undefined ? undefined : connectCallerSocket('--pidfd-socket', socketPath, bundleDir);
}
