// Which Linux security modules the host has enabled, for the LSM fields of the config.
import { readTextIfExists } from '../host-files';
import type { LsmFacts } from '../linux/process-attrs';

function read(file: string): string | undefined {
  // Most of these files are missing on a given host: no exception made for that.
  try {
    return readTextIfExists(file)?.trim();
  } catch {
    return undefined;
  }
}

export function hostLsm(): LsmFacts {
  // securityfs lists the active LSMs when it is mounted; otherwise fall back to the
  // places each LSM announces itself.
  const list = read('/sys/kernel/security/lsm');
  const active = list === undefined ? undefined : new Set(list.split(','));
  return {
    apparmor: active ? active.has('apparmor') : read('/sys/module/apparmor/parameters/enabled') === 'Y',
    selinux: active ? active.has('selinux') : read('/sys/fs/selinux/enforce') !== undefined,
  };
}
