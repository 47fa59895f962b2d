// The AF_UNIX sockets a caller names on the command line (--console-socket,
// --pidfd-socket): connected by tsrun, handed to the init, which sends an fd there.
import * as path from 'path';
import { TsrunError } from '../errors';
import { native } from '../native';

/**
 * Connects to the socket given with `flag`; a failure names the flag and the path.
 * A relative path is the bundle's, as runc's (it dials from the bundle it has made
 * its working directory; exec from the container's bundle).
 */
export function connectCallerSocket(flag: string, socketPath: string, bundleDir: string): number {
  try {
    return native().connectUnix(path.resolve(bundleDir, socketPath));
  } catch (e) {
    throw new TsrunError(`${flag} ${socketPath}: ${(e as Error).message}`);
  }
}

/** --pidfd-socket connected (its fd then goes to the init), or undefined without one. */
export function connectPidfdSocket(socketPath: string | undefined, bundleDir: string): number | undefined {
  return socketPath === undefined ? undefined : connectCallerSocket('--pidfd-socket', socketPath, bundleDir);
}
