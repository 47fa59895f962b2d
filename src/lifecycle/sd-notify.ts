// NOTIFY_SOCKET: systemd's readiness protocol (sd_notify) through the runtime, as
// runc relays it. A caller that sets NOTIFY_SOCKET (a systemd unit of Type=notify
// that runs the runtime) learns that the container is ready when the container's
// process says so, not when its process starts. (podman 4.3's --sdnotify=container
// does not go through the runtime: it gives the runtime no NOTIFY_SOCKET.)
//
// create and run give the container a read-only bind of <state dir>/notify at
// /run/notify and NOTIFY_SOCKET=/run/notify/notify.sock. The command that starts the
// container (start, or run) binds that socket before the container's process may run,
// waits for a READY= line on it, passes it on to the caller's socket followed by
// MAINPID=<the container's pid> (so systemd watches the container's process, not the
// runtime), and ends; or ends quietly when the process exits without one.
//
// Unlike runc 1.1.5: a foreground `run` passes signals on and ends with its container
// while it waits (runc waits for READY first, forever if none comes); a `start` of a
// container created without NOTIFY_SOCKET does not fail (there is nothing to relay);
// and --root may be longer than a socket address (the socket is bound through an fd
// of its directory).
import * as fs from 'fs';
import * as path from 'path';
import type { Spec } from '../config/types';
import { native } from '../native';

/** The dir bound at /run/notify in the container, and the socket's path there (runc's). */
export const NOTIFY_DIR_IN_CONTAINER = '/run/notify';
export const NOTIFY_SOCKET_IN_CONTAINER = `${NOTIFY_DIR_IN_CONTAINER}/notify.sock`;

/** The caller's notify socket, if it gave one (an empty NOTIFY_SOCKET is none). */
export function callerNotifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const target = env.NOTIFY_SOCKET;
  return target ? target : undefined;
}

/** The state dir's notify dir: where the socket is bound, and what the container sees. */
export function notifyDir(containerDir: string): string {
  return path.join(containerDir, 'notify');
}

/**
 * The config as the container is made from it with a notify socket: the notify dir
 * bound read-only (and nosuid, nodev, noexec) at /run/notify, and NOTIFY_SOCKET in the
 * process's environment, after the config's own. A copy: the config recorded in
 * state.json (exec's defaults) stays the bundle's, as runc's exec reads the bundle's.
 */
export function withNotifySocket(spec: Spec, dir: string): Spec {
  const mount = { destination: NOTIFY_DIR_IN_CONTAINER, type: 'bind', source: dir, options: ['bind', 'nosuid', 'noexec', 'nodev', 'ro'] };
  const out: Spec = { ...spec, mounts: [...(spec.mounts ?? []), mount] };
  if (spec.process) out.process = { ...spec.process, env: [...(spec.process.env ?? []), `NOTIFY_SOCKET=${NOTIFY_SOCKET_IN_CONTAINER}`] };
  return out;
}

/** Made by create, before the init mounts it; readable by the container's users. */
export function makeNotifyDir(dir: string): void {
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chmodSync(dir, 0o755);
}

/**
 * The socket the container reports on, bound in its notify dir; undefined when the
 * container has none (created without NOTIFY_SOCKET).
 */
export function listenIfPrepared(dir: string): number | undefined {
  if (!fs.existsSync(dir)) return undefined;
  return native().notifyListen(dir);
}

// The pid to wait for: none when the state records the process as gone (a `run`
// whose process exited before its start time was read).
const waitedPid = (pid: number, startTime: string): number => (startTime === '' ? 0 : pid);

/** What the caller's socket gets once the container is ready: its line, then MAINPID. */
export function readyMessages(ready: string, pid: number): string[] {
  return [`${ready}\n`, `MAINPID=${pid}\n`];
}

/**
 * Waits (blocking) for the container's READY= and passes it on; nothing when the
 * process `pid` ends first. The socket fd is closed either way.
 */
export function relayReady(fd: number, target: string, pid: number, startTime: string): void {
  const nat = native();
  try {
    const ready = nat.notifyAwaitReady(fd, waitedPid(pid, startTime), startTime);
    if (ready !== null) nat.notifySend(target, readyMessages(ready, pid));
  } finally {
    nat.closeFd(fd);
  }
}

/** relayReady with the wait on a worker thread: the event loop goes on meanwhile. */
export async function relayReadyAsync(fd: number, target: string, pid: number, startTime: string): Promise<void> {
  const nat = native();
  try {
    const ready = await nat.notifyAwaitReadyAsync(fd, waitedPid(pid, startTime), startTime);
    if (ready !== null) nat.notifySend(target, readyMessages(ready, pid));
  } finally {
    nat.closeFd(fd);
  }
}
