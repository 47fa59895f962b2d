// runc's reading of a device rule's access (src/config/device-access.ts).
import { deviceAccessAsRuncReadsIt } from '../../src/config/device-access';
import type { Spec } from '../../src/config/types';

describe('deviceAccessAsRuncReadsIt', () => {
  test('letters other than r, w and m are dropped with a warning naming the rule; a rule of r, w and m only is left as written', () => {
    const accesses = ['rwa', 'rwm', 'mr', 'x', undefined];
    const spec = { ociVersion: '1.0.0', linux: { resources: { devices: accesses.map((access) => ({ allow: true, ...(access === undefined ? {} : { access }) })) } } } as Spec;
    const warnings: string[] = [];
    deviceAccessAsRuncReadsIt(spec, (m) => warnings.push(m));
    expect(spec.linux!.resources!.devices!.map((d) => d.access)).toEqual(['rw', 'rwm', 'mr', '', undefined]);
    expect(warnings).toEqual([
      'linux.resources.devices[0].access: "rwa" is read as "rw", as runc reads it (a device access is made of r, w and m)',
      'linux.resources.devices[3].access: "x" is read as "", as runc reads it (a device access is made of r, w and m)',
    ]);
  });
});
