// The devices every container gets (the same set runc creates, in runc's order: in a
// user namespace they are bind mounts, and their order shows in /proc/self/mountinfo)
// and the /dev links.
import type { Device } from '../config/types';

export const DEFAULT_DEVICES: readonly Required<Device>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

/**
 * [target, link, replace] created in /dev when tsrun sets /dev up itself. An entry
 * already at a link is left as it is, but for /dev/ptmx, which replaces whatever the
 * image has there (runc's setupPtmx): a pty must come from the container's devpts.
 */
export const DEFAULT_DEV_LINKS: readonly (readonly [string, string, boolean])[] = [
  ['/proc/self/fd', '/dev/fd', false],
  ['/proc/self/fd/0', '/dev/stdin', false],
  ['/proc/self/fd/1', '/dev/stdout', false],
  ['/proc/self/fd/2', '/dev/stderr', false],
  ['pts/ptmx', '/dev/ptmx', true],
];
