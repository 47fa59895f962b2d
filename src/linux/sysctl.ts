// Which sysctls a container may set: only those scoped to a namespace it owns
// (runc's rule, and its words), so a config can never change a host-wide kernel
// setting. "Owns" excludes a namespace joined by a path that is the runtime's own:
// a net.* sysctl there would change the host's network stack, an IPC one the host's
// IPC limits.
import { ownsNamespace, type HostSharedNamespace, type IsHostNamespace, type NamespacePlan } from './namespaces';
import { ConfigError } from '../errors';

const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function checkSysctl(key: string, ns: NamespacePlan, isHostNamespace: IsHostNamespace): void {
  const field = `linux.sysctl "${key}"`;
  // runc takes the path form too (net/ipv4/ip_forward); the init writes either.
  const name = key.replace(/\//g, '.');
  const owns = (type: HostSharedNamespace): boolean => ownsNamespace(ns, type, isHostNamespace);
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) {
    if (!owns('ipc')) throw new ConfigError(field, 'is not allowed in the hosts ipc namespace');
    return;
  }
  if (name.startsWith('net.')) {
    if (!owns('network')) throw new ConfigError(field, 'not allowed in host network namespace');
    return;
  }
  if (name === 'kernel.hostname') throw new ConfigError(field, 'is not allowed as it conflicts with the OCI "hostname" field');
  if (name === 'kernel.domainname' && owns('uts')) return;
  // The user.max_*_namespaces limits belong to a user namespace (runc 1.5 allows them
  // the same way): the container's own, written from inside it.
  if (name.startsWith('user.') && ns.has('user')) return;
  throw new ConfigError(field, 'is not in a separate kernel namespace');
}
