// Socket activation as runc does it for create and run (not exec): when LISTEN_PID
// names this process, the LISTEN_FDS fds from 3 on go to the container at the same
// numbers, ahead of the --preserve-fds ones, and the container's environment gets
// LISTEN_FDS=<n> and LISTEN_PID=1 (its init is pid 1 of its namespace).
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';

/** The number of socket-activation fds handed to us, or 0 (systemd's sd_listen_fds rules). */
export function listenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number {
  if (!env.LISTEN_FDS || env.LISTEN_PID !== String(pid)) return 0;
  const n = Number(env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The total count of fds passed at 3.. (LISTEN_FDS first, then --preserve-fds), and
 * the container's environment extended for socket activation.
 */
export function passedFds(spec: Spec, preserveFds: number, listen = listenFds()): number {
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new TsrunError(`invalid --preserve-fds ${preserveFds}`);
  if (listen > 0 && spec.process) {
    spec.process.env = [...(spec.process.env ?? []), `LISTEN_FDS=${listen}`, 'LISTEN_PID=1'];
  }
  return listen + preserveFds;
}
