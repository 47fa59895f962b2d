// A mount destination written as a host path inside the rootfs
// ("/bundle/rootfs/mnt" for the container's /mnt). The spec calls a destination a
// path in the container, but runc has always taken one that begins with the
// rootfs's own path as that place (its own tests write them so), and joining it
// under the rootfs would mount it somewhere else without a word.
import * as path from 'path';
import type { Spec } from './types';

/** Rewrites such destinations to the container paths they name (rootfs: absolute, without symlinks). */
export function containerMountDestinations(spec: Spec, rootfs: string): void {
  const prefix = rootfs.endsWith('/') ? rootfs : `${rootfs}/`;
  for (const mount of spec.mounts ?? []) {
    // Compared cleaned, as runc cleans it ("//", "." and ".." taken lexically, Go's
    // filepath.Clean): "<rootfs>/../x" is the container's "<rootfs's parent>/x", not
    // its "/x"; "<rootfs>//mnt" is its "/mnt".
    if (!mount.destination.startsWith('/')) continue;
    const clean = path.posix.normalize(mount.destination);
    if (clean === rootfs || clean === prefix) mount.destination = '/';
    else if (clean.startsWith(prefix)) mount.destination = `/${clean.slice(prefix.length)}`;
  }
}
