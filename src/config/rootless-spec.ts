// `tsrun spec --rootless`: runc's ToRootless transformation of the default spec, for
// the calling user. A rootless user cannot create a network namespace worth having
// (no device to put in it) nor mount sysfs outside one it owns, so: no network
// namespace, /sys bind-mounted from the host, a user namespace mapping root in the
// container to the caller's own uid and gid, no device cgroup rules (no cgroup may be
// writable), and devpts without gid=5 (that group is not mapped).
import type { Mount, Spec } from './types';
import { defaultSpec } from './default-spec';

export function rootlessSpec(euid: number, egid: number): Spec {
  const spec = defaultSpec();
  const linux = spec.linux ?? {};
  linux.namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  linux.namespaces.push({ type: 'user' });
  delete linux.resources;
  // The mappings first, as runc writes them (its Linux struct declares them first):
  // `runc spec --rootless` and `tsrun spec --rootless` then differ only in ociVersion
  // and hostname, as the default specs do.
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: euid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: egid, size: 1 }],
    ...linux,
  };
  spec.mounts = (spec.mounts ?? []).map((m): Mount => {
    if (m.type === 'sysfs') return { destination: m.destination, type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    if (m.type === 'devpts') return { ...m, options: (m.options ?? []).filter((o) => !o.startsWith('gid=')) };
    return m;
  });
  return spec;
}
