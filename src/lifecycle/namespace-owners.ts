// Which namespaces a user namespace does not own, asked of the kernel (NS_GET_USERNS).
// A namespace another user namespace owns (a network namespace the host's root made,
// as CNI does for a pod) must be joined before the container's user namespace:
// from inside it, the kernel refuses the setns (EPERM). See ownedOutsideUserFirst
// (src/linux/namespaces.ts).
import * as fs from 'fs';
import type { Namespace, NamespaceType } from '../config/types';
import { native } from '../native';

/**
 * Of the open namespaces, those the user namespace among them does not own (none
 * without one). A namespace whose owner we may not even see (EPERM: outside our own
 * user namespace) is not the container's either.
 */
export function namespacesOwnedOutsideUser(opened: ReadonlyArray<readonly [NamespaceType, number]>): Set<NamespaceType> {
  const outside = new Set<NamespaceType>();
  const user = opened.find(([type]) => type === 'user');
  if (user === undefined) return outside;
  const userNs = fs.fstatSync(user[1]);
  for (const [type, fd] of opened) {
    if (type === 'user') continue;
    let owner;
    try {
      owner = native().namespaceOwner(fd);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      outside.add(type);
      continue;
    }
    if (owner.dev !== userNs.dev || owner.ino !== userNs.ino) outside.add(type);
  }
  return outside;
}

/**
 * create: the namespaces the config joins by path that the user namespace it joins
 * by path does not own. Empty unless it joins a user namespace (a new one is made
 * after every join, while the init is still tsrun's).
 */
export function joinedNamespacesOwnedOutsideUser(joins: readonly Namespace[]): Set<NamespaceType> {
  if (!joins.some((n) => n.type === 'user' && n.path)) return new Set();
  const opened: [NamespaceType, number][] = [];
  try {
    for (const n of joins) {
      if (!n.path) continue;
      try {
        opened.push([n.type, fs.openSync(n.path, 'r')]);
      } catch {
        // The init's own setns of it fails, with the error create reports for any.
        continue;
      }
    }
    return namespacesOwnedOutsideUser(opened);
  } finally {
    for (const [, fd] of opened) fs.closeSync(fd);
  }
}
