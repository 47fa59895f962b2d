// Which sysctls a container may set: only those scoped to a namespace it owns
// (runc's rule), so a config can never change a host-wide kernel setting.
import type { NamespacePlan } from './namespaces';
import { ConfigError } from '../errors';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function checkSysctl(key: string, ns: NamespacePlan): void {
  const field = `linux.sysctl "${key}"`;
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (!ns.has('ipc')) throw new ConfigError(field, 'requires a private ipc namespace');
    return;
  }
  if (key.startsWith('net.')) {
    if (!ns.has('network')) throw new ConfigError(field, 'requires a private network namespace');
    return;
  }
  if (key === 'kernel.hostname' || key === 'kernel.domainname') {
    if (!ns.has('uts')) throw new ConfigError(field, 'requires a private uts namespace');
    return;
  }
  throw new ConfigError(field, 'is not in a namespace the container owns');
}
