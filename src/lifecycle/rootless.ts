// Running tsrun as an unprivileged user, runc's way: `--rootless auto` (the default)
// means rootless when the effective uid is not 0, or is the root of a user
// namespace. A rootless create uses the cgroup when it may (a delegated subtree),
// and otherwise runs without one of its own instead of failing -- unless the config
// asks for limits only a cgroup can enforce.
import * as fs from 'fs';
import type { Spec } from '../config/types';
import { CgroupError, ConfigError, TsrunError } from '../errors';
import { detectCgroupLayout, hostCgroupRoot } from '../cgroups/detect';
import { parseProcCgroup, ownCgroupDir } from '../cgroups/path';
import { inUserNamespace } from './host-facts';
import { parseGoBool } from '../config/go-bool';

/**
 * runc's --rootless: a boolean (Go's words for one: 1, t, TRUE, ...) or 'auto' (in
 * any case, as is ''): rootless when not running as root, or as root of a user
 * namespace (rootless podman runs the runtime so), whose root has no privilege over
 * the host's cgroups.
 */
export function rootlessMode(flag: string | undefined): boolean {
  if (flag === undefined || flag === '' || flag.toLowerCase() === 'auto') return (process.geteuid?.() ?? 0) !== 0 || inUserNamespace();
  const value = parseGoBool(flag);
  if (value !== undefined) return value;
  throw new ConfigError('--rootless', `invalid value ${JSON.stringify(flag)} (want true, false or auto)`);
}

/** The cgroup could not be made for lack of permission (not for any other reason). */
export function isCgroupPermissionError(e: unknown): boolean {
  return e instanceof CgroupError && /: (EACCES|EPERM|EROFS)$/.test(e.message);
}

/**
 * Without a cgroup of its own a container cannot be limited: refuse a config that
 * asks for limits (runc: "rootless needs no limits"), naming the first one. Device
 * rules are exempt: in a user namespace devices are host nodes bind-mounted, and the
 * kernel already keeps the container from using more than its user may.
 */
export function checkNoLimitsWithoutCgroup(spec: Spec, why: string): void {
  for (const [key, value] of Object.entries(spec.linux?.resources ?? {})) {
    if (key === 'devices' || !asksForSomething(value)) continue;
    // `why` names the dir refused: with only some v1 hierarchies delegated, the one
    // of the limit may be writable and another is not.
    throw new TsrunError(`linux.resources.${key}: rootless container without a writable cgroup cannot set limits (${why}; delegate the cgroup to this user in every hierarchy, or remove the limit)`);
  }
}

/**
 * Whether a resources value sets anything: zeros, empty strings, false and empty
 * lists and objects set nothing (runc takes `shares: 0` or `cpus: ""` without a cgroup).
 */
function asksForSomething(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value as object).some(asksForSomething);
  return true;
}

/**
 * Where the container's /sys/fs/cgroup binds come from when it has no cgroup of its
 * own: the cgroups it inherits, ours (runc binds the init's own cgroups the same way).
 */
export function ownCgroupDirs(): Record<string, string> {
  const info = detectCgroupLayout(hostCgroupRoot());
  const own = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const out: Record<string, string> = {};
  for (const h of info.hierarchies) {
    try {
      out[h.key] = ownCgroupDir(h, own);
    } catch {
      // a hierarchy we are in no reachable cgroup of: the container gets no bind for it
    }
  }
  return out;
}
