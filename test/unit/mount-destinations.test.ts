// runc's reading of a mount destination written as a host path in the rootfs (src/config/mount-destinations.ts).
import { containerMountDestinations } from '../../src/config/mount-destinations';
import type { Spec } from '../../src/config/types';

describe('containerMountDestinations', () => {
  test('a destination under the rootfs\'s own path names that place in the container; others stay as written', () => {
    const destinations = ['/b/rootfs/mnt/x', '/b/rootfs', '/b/rootfsx/mnt', '/mnt', 'relative/b/rootfs/y', '/b/rootfs/'];
    const spec = { ociVersion: '1.0.0', mounts: destinations.map((destination) => ({ destination })) } as Spec;
    containerMountDestinations(spec, '/b/rootfs');
    expect(spec.mounts!.map((m) => m.destination)).toEqual(['/mnt/x', '/', '/b/rootfsx/mnt', '/mnt', 'relative/b/rootfs/y', '/']);
  });

  test('a destination is compared cleaned, as runc cleans it: ".." can lead out of the rootfs\'s path, "//" and "." do not', () => {
    const destinations = ['/b/rootfs/../rootfsx/mnt', '/b//rootfs/./mnt', '/b/rootfs/a/../mnt', '/b/rootfs/..', '/b/./rootfs'];
    const spec = { ociVersion: '1.0.0', mounts: destinations.map((destination) => ({ destination })) } as Spec;
    containerMountDestinations(spec, '/b/rootfs');
    expect(spec.mounts!.map((m) => m.destination)).toEqual(['/b/rootfs/../rootfsx/mnt', '/mnt', '/mnt', '/b/rootfs/..', '/']);
  });
});
