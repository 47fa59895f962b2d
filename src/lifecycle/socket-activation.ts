// Socket activation as runc does it for create and run (not exec): when LISTEN_PID
// names this process, the LISTEN_FDS fds from 3 on go to the container at the same
// numbers, ahead of the --preserve-fds ones, and the container's environment gets
// LISTEN_FDS=<n> and LISTEN_PID=1 (its init is pid 1 of its namespace).
import * as fs from 'fs';
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';

/** The number of socket-activation fds handed to us, or 0 (systemd's sd_listen_fds rules). */
export function listenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number {
  if (!env.LISTEN_FDS || env.LISTEN_PID !== String(pid)) return 0;
  const n = Number(env.LISTEN_FDS);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The total count of fds passed at 3.. (LISTEN_FDS first, then --preserve-fds). */
export function passedFds(preserveFds: number, listen = listenFds()): number {
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new TsrunError(`invalid --preserve-fds ${preserveFds}`);
  return listen + preserveFds;
}

/**
 * The spec the init is planned from, its process's environment extended for socket
 * activation; the spec itself, which create records and exec takes its defaults
 * from, stays the bundle's (runc's exec gets no LISTEN_FDS either).
 */
export function withListenFds(spec: Spec, listen = listenFds()): Spec {
  if (listen === 0 || !spec.process) return spec;
  return { ...spec, process: { ...spec.process, env: [...(spec.process.env ?? []), `LISTEN_FDS=${listen}`, 'LISTEN_PID=1'] } };
}

/**
 * Node's own event-loop fds (epoll, eventfd, io_uring) take the lowest numbers free
 * at its start: asked to pass on more fds than it was given, tsrun would hand its own
 * over to the container (runc 1.1 hands over its own the same way). Node marks the
 * inherited fds close-on-exec too (libuv), so flags cannot tell them apart; these
 * kinds, which no caller passes to a container, can. Called before the command opens
 * any fd of its own; the two the addon's thread may have opened by then for the init
 * spawned ahead come after Node's (spawnInit also refuses that init's socket itself).
 */
export function checkPassedFds(count: number): void {
  for (let fd = 3; fd < 3 + count; fd++) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // not open: spawnInit says so, naming the fd
    }
    if (OWN_FD_KINDS.has(target)) {
      throw new TsrunError(`preserved fd ${fd} is ${target}, as tsrun's own event loop's fds are: the caller passed fewer fds than --preserve-fds (and LISTEN_FDS) ask for (tsrun never passes on an epoll, eventfd or io_uring fd)`);
    }
  }
}

const OWN_FD_KINDS = new Set(['anon_inode:[eventpoll]', 'anon_inode:[eventfd]', 'anon_inode:[io_uring]']);
