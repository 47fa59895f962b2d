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
});
