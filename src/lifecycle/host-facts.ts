// Facts about the host that the planners take as input (they read nothing themselves).
import * as fs from 'fs';
import { readText } from '../host-files';
import { pidsAtOnceFor } from '../linux/cgroup-join';
import { hostIdOf } from '../linux/id-mappings';
import type { IdMapping } from '../config/types';

/** /proc/sys/kernel/cap_last_cap: capabilities above it do not exist on this kernel. */
export function lastCapability(): number {
  try {
    return Number(readText('/proc/sys/kernel/cap_last_cap').trim());
  } catch {
    return 40;
  }
}

const PROC_SUPER_MAGIC = 0x9fa0;

/** Whether a host path is on a procfs: a bind onto /proc must bring one (src/linux/proc-mounts.ts). */
export function isProcfs(hostPath: string): boolean {
  try {
    return fs.statfsSync(hostPath).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** The /proc/self/ns entry of each namespace type whose host copy a config may name by path. */
const OWN_NAMESPACE = { network: 'net', ipc: 'ipc', uts: 'uts' } as const;

/** Whether a namespace path is tsrun's own of that type: the container would share the host's. */
export function isHostNamespace(type: keyof typeof OWN_NAMESPACE, nsPath: string): boolean {
  try {
    const own = fs.statSync(`/proc/self/ns/${OWN_NAMESPACE[type]}`);
    const other = fs.statSync(nsPath);
    return own.dev === other.dev && own.ino === other.ino;
  } catch {
    return false;
  }
}

/**
 * tsrun itself runs in a user namespace, not the initial one (rootless podman runs the
 * runtime as root of its own): the initial one maps every id onto itself.
 */
export function inUserNamespace(): boolean {
  // Asked more than once per command (rootless mode, the planner's facts, the
  // default root); a process never changes its user namespace here.
  if (inUserNs === undefined) {
    try {
      inUserNs = !/^\s*0\s+0\s+4294967295\s*$/.test(readText('/proc/self/uid_map'));
    } catch {
      inUserNs = false;
    }
  }
  return inUserNs;
}

let inUserNs: boolean | undefined;

/**
 * Whether the init joins the v1 pids hierarchy before its fork (pidsAtOnceFor in
 * src/linux/cgroup-join.ts), by this caller's credentials: create and exec alike.
 * uidMappings: the container's user namespace's, where the config gives them.
 */
export function joinsPidsAtOnce(hasUserNs: boolean, uidMappings: readonly IdMapping[] | undefined): boolean {
  const euid = process.geteuid?.() ?? 0;
  return pidsAtOnceFor(hasUserNs, euid === 0 && !inUserNamespace(), euid, hostIdOf(uidMappings, 0));
}
