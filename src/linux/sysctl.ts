// Which sysctls a container may set: only those scoped to a namespace it owns
// (runc's rule, and its words), so a config can never change a host-wide kernel
// setting. "Owns" excludes a namespace joined by a path that is the runtime's own:
// a net.* sysctl there would change the host's network stack.
import type { NamespacePlan } from './namespaces';
import { ConfigError } from '../errors';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** Whether a network namespace path is the runtime's own (the host's, for a container). */
export type IsHostNetns = (path: string) => boolean;

export function checkSysctl(key: string, ns: NamespacePlan, isHostNetns: IsHostNetns): void {
  const field = `linux.sysctl "${key}"`;
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (!ns.has('ipc')) throw new ConfigError(field, 'is not allowed in the hosts ipc namespace');
    return;
  }
  if (key.startsWith('net.')) {
    const joined = ns.joins.find((n) => n.type === 'network')?.path;
    if (!ns.has('network') || (joined !== undefined && isHostNetns(joined))) throw new ConfigError(field, 'not allowed in host network namespace');
    return;
  }
  if (key === 'kernel.hostname') throw new ConfigError(field, 'is not allowed as it conflicts with the OCI "hostname" field');
  if (key === 'kernel.domainname' && ns.has('uts')) return;
  throw new ConfigError(field, 'is not in a separate kernel namespace');
}
