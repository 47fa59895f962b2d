// A mount destination written as a host path inside the rootfs
// ("/bundle/rootfs/mnt" for the container's /mnt). The spec calls a destination a
// path in the container, but runc has always taken one that begins with the
// rootfs's own path as that place (its own tests write them so), and joining it
// under the rootfs would mount it somewhere else without a word.
import type { Spec } from './types';

/** Rewrites such destinations to the container paths they name (rootfs: absolute, without symlinks). */
export function containerMountDestinations(spec: Spec, rootfs: string): void {
  const prefix = rootfs.endsWith('/') ? rootfs : `${rootfs}/`;
  for (const mount of spec.mounts ?? []) {
    if (mount.destination === rootfs) mount.destination = '/';
    else if (mount.destination.startsWith(prefix)) mount.destination = `/${mount.destination.slice(prefix.length)}`;
  }
}
