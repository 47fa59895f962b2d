// Namespace types -> clone flags, and the order in which the init joins or creates them.
import type { Namespace, NamespaceType } from '../config/types';

export const CLONE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

export interface NamespacePlan {
  /** Namespaces joined by path, user first and mount last (after setns into a mount
   *  namespace the host's paths are gone). */
  joins: Namespace[];
  /** True when a new user namespace is created (maps are written by the parent). */
  newUser: boolean;
  /** Flags of the other namespaces created with unshare, after the user namespace. */
  unshareFlags: number;
  /** pid and time namespaces only apply to children: the init must fork. */
  needsFork: boolean;
  has: (type: NamespaceType) => boolean;
}

export const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'time', 'cgroup', 'mount'];

/**
 * Namespaces to join, in JOIN_ORDER, except that those the joined user namespace
 * does not own (`ownedOutsideUser`) come before it: from inside it the kernel
 * refuses them, while the init still has tsrun's privileges over them before. The
 * mount namespace stays last whoever owns it: create's later paths would be looked
 * up in its view (a container's /proc) instead of the host's.
 */
export function ownedOutsideUserFirst<T extends { type: NamespaceType }>(joins: readonly T[], ownedOutsideUser: ReadonlySet<NamespaceType> = new Set()): T[] {
  const first = (n: T): boolean => n.type !== 'user' && n.type !== 'mount' && ownedOutsideUser.has(n.type);
  return [...joins.filter(first), ...joins.filter((n) => !first(n))];
}

/** The namespace types whose host copy a config may name by path and then change (sysctls, hostname). */
export type HostSharedNamespace = 'network' | 'ipc' | 'uts';

/** Whether a namespace path is the runtime's own of that type (the host's, for a container). */
export type IsHostNamespace = (type: HostSharedNamespace, path: string) => boolean;

/**
 * The container has a namespace of that type to itself: a new one, or one joined by
 * a path that is not the runtime's own (which would be the host's).
 */
export function ownsNamespace(plan: NamespacePlan, type: HostSharedNamespace, isHostNamespace: IsHostNamespace): boolean {
  const joined = plan.joins.find((n) => n.type === type)?.path;
  return plan.has(type) && (joined === undefined || !isHostNamespace(type, joined));
}

export function planNamespaces(namespaces: readonly Namespace[] = []): NamespacePlan {
  const byType = new Map(namespaces.map((ns) => [ns.type, ns]));
  const joins = JOIN_ORDER.flatMap((type) => {
    const ns = byType.get(type);
    return ns?.path ? [ns] : [];
  });
  let unshareFlags = 0;
  for (const ns of namespaces) {
    if (!ns.path && ns.type !== 'user') unshareFlags |= CLONE_FLAGS[ns.type];
  }
  const newUser = byType.has('user') && !byType.get('user')?.path;
  const needsFork = byType.has('pid') || (byType.has('time') && !byType.get('time')?.path);
  return { joins, newUser, unshareFlags, needsFork, has: (type) => byType.has(type) };
}
