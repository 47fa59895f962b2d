// Which namespaces a user namespace does not own, asked of the kernel (NS_GET_USERNS,
// NS_GET_PARENT).
// A namespace another user namespace owns (a network namespace the host's root made,
// as CNI does for a pod) must be joined before the container's user namespace:
// from inside it, the kernel refuses the setns (EPERM). See ownedOutsideUserFirst
// (src/linux/namespaces.ts).
import * as fs from 'fs';
import type { Namespace, NamespaceType } from '../config/types';
import { native } from '../native';

/**
 * Of the open namespaces, those that neither the user namespace among them nor one
 * of its descendants owns (none without one): the container's root has no rights
 * over them. A namespace whose owner we may not even see (EPERM: outside our own
 * user namespace) is not the container's either. A file that is no namespace is
 * left where it was: the init's setns of it fails with the error it gives for any.
 */
export function namespacesOwnedOutsideUser(opened: ReadonlyArray<readonly [NamespaceType, number]>): Set<NamespaceType> {
  const outside = new Set<NamespaceType>();
  const user = opened.find(([type]) => type === 'user');
  if (user === undefined) return outside;
  for (const [type, fd] of opened) {
    if (type === 'user') continue;
    try {
      if (!native().namespaceOwnedWithin(fd, user[1])) outside.add(type);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') outside.add(type);
    }
  }
  return outside;
}

/**
 * create: the namespaces the config joins by path that neither the user namespace it
 * joins by path nor a descendant of it owns. Empty unless it joins a user namespace (a new one is made
 * after every join, while the init is still tsrun's).
 */
export function joinedNamespacesOwnedOutsideUser(joins: readonly Namespace[]): Set<NamespaceType> {
  if (!joins.some((n) => n.type === 'user' && n.path)) return new Set();
  const opened: [NamespaceType, number][] = [];
  try {
    for (const n of joins) {
      if (!n.path) continue;
      // Namespace files are regular files (nsfs); anything else (a FIFO would block
      // this open) is left to the init's setns, which fails with the error create
      // reports for any.
      try {
        if (!fs.statSync(n.path).isFile()) continue;
        opened.push([n.type, fs.openSync(n.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY)]);
      } catch {
        continue;
      }
    }
    return namespacesOwnedOutsideUser(opened);
  } finally {
    for (const [, fd] of opened) fs.closeSync(fd);
  }
}
