// runc's rule for mounts in and on /proc (its fix of CVE-2019-16884): a mount over
// a file of /proc could hide what the runtime writes there (an LSM label, a sysctl)
// or what the container reads. tsrun also checks, when it writes a /proc file, that
// the file is on procfs (the init's WriteProcFile); this refuses the config itself,
// naming the field, as runc does. A destination a symlink in the rootfs leads into
// /proc is judged by the init, where it resolves (addon/init/mounts.cpp).
import * as path from 'path';
import { ConfigError } from '../errors';

/**
 * Files of /proc that may be covered: those lxcfs emulates per container (so that
 * top and free show the container's figures), the pid counter CRIU restores through,
 * and the FIPS switch.
 */
const COVERABLE = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime', '/proc/loadavg',
  '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
]);

/** Filesystems runc mounts without this check: they are mounted by type, not from a source path. */
const UNCHECKED_TYPES = new Set(['proc', 'sysfs', 'mqueue', 'tmpfs', 'cgroup', 'cgroup2']);

export interface ProcMountCandidate {
  destination: string;
  type?: string;
  bind: boolean;
  /** The source as the host sees it (a bind's source resolved against the bundle). */
  source: string;
}

/**
 * Throws for a mount inside /proc other than the coverable files, and for a mount
 * on /proc itself that is not a procfs (a bind is one when its source is on procfs,
 * as `isProcfs` tells).
 */
export function checkProcMount(mount: ProcMountCandidate, field: string, isProcfs: (hostPath: string) => boolean): void {
  if (!mount.bind && UNCHECKED_TYPES.has(mount.type ?? '')) return;
  const dest = path.posix.normalize(`/${mount.destination}`).replace(/(.)\/+$/, '$1');
  if (dest === '/proc') {
    if (mount.bind && isProcfs(mount.source)) return;
    throw new ConfigError(`${field}.destination`, `"${dest}" cannot be mounted because it is not of type proc`);
  }
  if (dest.startsWith('/proc/') && !COVERABLE.has(dest)) {
    throw new ConfigError(`${field}.destination`, `"${dest}" cannot be mounted because it is inside /proc`);
  }
}
