// The systemd cgroup driver's pure parts: the D-Bus wire format, unit naming from
// cgroupsPath, and the unit properties made of limits, device rules and annotations.
import { emulateDeviceCgroup } from '../../src/cgroups/device-cgroup-model';
import { deviceLines, effectiveDeviceRules } from '../../src/cgroups/devices';
import { systemdPlacements } from '../../src/cgroups/systemd';
import { annotationProperties, cpuMask, deviceProperties, expandSlice, systemdUnitOf, v1ResourceProperties, v2ResourceProperties } from '../../src/cgroups/systemd-unit';
import type { Hierarchy } from '../../src/cgroups/detect';
import { ConfigError } from '../../src/errors';
import { planCgroupJoin } from '../../src/linux/cgroup-join';
import { decodeMessage, encodeMethodCall, marshal, messageLength, splitSignature, unmarshal } from '../../src/systemd/dbus-wire';

describe('D-Bus wire format', () => {
  test('signatures split into complete types', () => {
    expect(splitSignature('ssa(sv)a(sa(sv))')).toEqual(['s', 's', 'a(sv)', 'a(sa(sv))']);
    expect(splitSignature('uoss')).toEqual(['u', 'o', 's', 's']);
    expect(() => splitSignature('a(s')).toThrow(/bad D-Bus signature/);
  });

  test('values are padded to their alignment, an array counts from its first element', () => {
    // "s" then "t": the string's length, bytes and NUL, padding to 8, then the uint64.
    expect([...marshal('st', ['ab', 5n])]).toEqual([2, 0, 0, 0, 0x61, 0x62, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]);
    // An array of structs: length 8 (one struct, after the padding to 8 that follows the length).
    expect([...marshal('a(y)', [[[7]]])]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 7]);
    // A variant: its signature, then the value aligned as its type wants.
    expect([...marshal('v', [{ sig: 'u', value: 3 }])]).toEqual([1, 0x75, 0, 0, 3, 0, 0, 0]);
  });

  test('what is written is read back, nested types included', () => {
    const values = ['tsrun-x.scope', 'replace', [['PIDs', { sig: 'au', value: [42] }], ['Delegate', { sig: 'b', value: true }], ['MemoryLimit', { sig: 't', value: 33554432n }], ['DeviceAllow', { sig: 'a(ss)', value: [['/dev/char/1:3', 'rwm']] }]], []];
    const sig = 'ssa(sv)a(sa(sv))';
    expect(unmarshal(sig, marshal(sig, values))).toEqual(values);
  });

  test('a value that does not fit its type is refused', () => {
    expect(() => marshal('u', ['x'])).toThrow(/does not fit type "u"/);
    expect(() => marshal('ss', ['only one'])).toThrow(/wants 2 values, got 1/);
  });

  test('a method call is a header (its fields 8-aligned) and the body; the length is known from 16 bytes', () => {
    const bytes = encodeMethodCall({ serial: 7, destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager', member: 'StopUnit', signature: 'ss', args: ['u.scope', 'replace'] });
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x6c, 1, 0, 1]));
    expect(messageLength(bytes.subarray(0, 16))).toBe(bytes.length);
    expect(messageLength(bytes.subarray(0, 15))).toBeUndefined();
    const msg = decodeMessage(bytes);
    expect({ type: msg.type, serial: msg.serial, path: msg.path, member: msg.member, destination: msg.destination, signature: msg.signature }).toEqual({ type: 1, serial: 7, path: '/org/freedesktop/systemd1', member: 'StopUnit', destination: 'org.freedesktop.systemd1', signature: 'ss' });
    expect(unmarshal(msg.signature, msg.body)).toEqual(['u.scope', 'replace']);
  });
});

describe('systemd unit of a container', () => {
  test('a slice name is its ancestry, dash by dash', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    for (const bad of ['a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice', 'a.scope', '.slice']) expect(() => expandSlice(bad)).toThrow(/invalid slice name/);
  });

  test('cgroupsPath "slice:prefix:name": the scope "<prefix>-<name>.scope" in the slice (system.slice when empty)', () => {
    expect(systemdUnitOf('machine.slice:docker:abc', 'id')).toEqual({ slice: 'machine.slice', name: 'docker-abc.scope', cgroup: '/machine.slice/docker-abc.scope' });
    expect(systemdUnitOf(':cri:abc', 'id')).toEqual({ slice: 'system.slice', name: 'cri-abc.scope', cgroup: '/system.slice/cri-abc.scope' });
    expect(systemdUnitOf('-.slice:p:n', 'id').cgroup).toBe('/p-n.scope');
    // No cgroupsPath: ":tsrun:<id>" (runc's is ":runc:<id>").
    expect(systemdUnitOf(undefined, 'c1').name).toBe('tsrun-c1.scope');
  });

  test('cgroupsPath of another form, or naming a slice, is refused with the field', () => {
    expect(() => systemdUnitOf('/abs/path', 'id')).toThrow(/expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/abs\/path" instead/);
    expect(() => systemdUnitOf('a:b', 'id')).toThrow(ConfigError);
    expect(() => systemdUnitOf('system.slice:p:pod.slice', 'id')).toThrow(/names a slice/);
    expect(() => systemdUnitOf('system.slice:p:', 'id')).toThrow(/unit name/);
  });

  test("the unit's dirs lie below PID 1's cgroup without its init.scope, in every hierarchy", () => {
    const h = (key: string, controllers: string[], kind: 'v1' | 'v2' = 'v1'): Hierarchy => ({ kind, key, mountPoint: `/sys/fs/cgroup/${key}`, mountRoot: '/', controllers });
    const hierarchies = [h('memory', ['memory']), h('systemd', ['name=systemd']), h('unified', [], 'v2')];
    const unit = systemdUnitOf('system.slice:p:n', 'id');
    const init = '9:name=systemd:/init.scope\n4:memory:/\n0::/init.scope\n';
    expect(systemdPlacements(hierarchies, unit, () => init).map((p) => p.dir)).toEqual([
      '/sys/fs/cgroup/memory/system.slice/p-n.scope',
      '/sys/fs/cgroup/systemd/system.slice/p-n.scope',
      '/sys/fs/cgroup/unified/system.slice/p-n.scope',
    ]);
  });

  test('the parent places the init in every hierarchy, the v1 pids one too, when systemd makes the dirs', () => {
    const dirs = { memory: '/m/u.scope', pids: '/p/u.scope', unified: '/u/u.scope' };
    expect(planCgroupJoin(dirs, true, true, true)).toEqual({ initOps: [], forkInto: false, parentDirs: ['/m/u.scope', '/p/u.scope', '/u/u.scope'] });
    expect(planCgroupJoin(dirs, true, true).pidsV1Dir).toBe('/p/u.scope');
  });
});

describe('unit properties', () => {
  const byName = (props: { name: string; value: { sig: string; value: unknown } }[]) => Object.fromEntries(props.map((p) => [p.name, p.value]));
  const MAX = (1n << 64n) - 1n;

  test('v1: runc\'s table, -1 as infinity; the quota rounded up to whole percents of a CPU', () => {
    const props = byName(v1ResourceProperties({ memory: { limit: 1 << 30 }, cpu: { shares: 512, quota: 12345, period: 100000, cpus: '0-1,3' }, blockIO: { weight: 300 }, pids: { limit: -1 } }, 252));
    expect(props).toEqual({
      MemoryLimit: { sig: 't', value: 1073741824n },
      CPUShares: { sig: 't', value: 512n },
      CPUQuotaPeriodUSec: { sig: 't', value: 100000n },
      CPUQuotaPerSecUSec: { sig: 't', value: 130000n },
      BlockIOWeight: { sig: 't', value: 300n },
      TasksMax: { sig: 't', value: MAX },
      AllowedCPUs: { sig: 'ay', value: [0b1011] },
    });
    // An older systemd lacks the period and the cpuset properties; a zero is "unset".
    expect(Object.keys(byName(v1ResourceProperties({ cpu: { quota: 50000, period: 100000, cpus: '0' }, pids: { limit: 0 } }, 241)))).toEqual(['CPUQuotaPerSecUSec']);
  });

  test('v2: MemoryMax, MemoryLow, MemorySwapMax (swap alone), CPUWeight from shares', () => {
    const props = byName(v2ResourceProperties({ memory: { limit: 100, reservation: 50, swap: 300 }, cpu: { shares: 1024 } }, 252));
    expect(props).toEqual({ MemoryMax: { sig: 't', value: 100n }, MemoryLow: { sig: 't', value: 50n }, MemorySwapMax: { sig: 't', value: 200n }, CPUWeight: { sig: 't', value: 100n } });
  });

  test('a CPU list as a bitmask, CPU 0 the low bit of the first byte', () => {
    expect(cpuMask('0', 'f')).toEqual([1]);
    expect(cpuMask('8-9,15', 'f')).toEqual([0, 0b10000011]);
  });

  test('device rules: a deny-by-default list is "strict" with one entry per exception, in systemd\'s words', () => {
    const state = emulateDeviceCgroup(deviceLines(effectiveDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }, { allow: true, type: 'c', minor: 4, access: 'r' }])));
    const procDevices = 'Character devices:\n  1 mem\n 10 misc\n136 pts\n\nBlock devices:\n  8 sd\n';
    const { properties, warnings } = deviceProperties(state, procDevices);
    const allow = byName(properties).DeviceAllow?.value as [string, string][];
    expect(byName(properties).DevicePolicy).toEqual({ sig: 's', value: 'strict' });
    expect(allow).toEqual(expect.arrayContaining([['char-misc', 'rw'], ['/dev/block/8:0', 'r'], ['char-pts', 'rwm'], ['/dev/char/1:3', 'rwm'], ['char-*', 'm'], ['block-*', 'm']]));
    expect(warnings).toEqual(['systemd has no device rule for c *:4: left to the cgroup files']);
  });

  test('device rules: allow-all is policy "auto"; allow by default with exceptions is deny-all there, with a warning', () => {
    const allowAll = emulateDeviceCgroup(deviceLines(effectiveDeviceRules([{ allow: true, access: 'rwm' }])));
    expect(byName(deviceProperties(allowAll, '').properties)).toEqual({ DevicePolicy: { sig: 's', value: 'auto' }, DeviceAllow: { sig: 'a(ss)', value: [] } });
    const blacklist = emulateDeviceCgroup(deviceLines([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }]));
    const r = deviceProperties(blacklist, '');
    expect(byName(r.properties).DevicePolicy).toEqual({ sig: 's', value: 'strict' });
    expect(r.warnings).toHaveLength(1);
  });

  test('a property named "...Sec" (after a lowercase letter) is its "...USec" one, the value seconds (runc\'s rule)', () => {
    expect(byName(annotationProperties({
      'org.systemd.property.TimeoutStopSec': 'uint64 7',
      'org.systemd.property.RuntimeMaxSec': '1.5',
      'org.systemd.property.RestartUSec': 'uint64 9',
    }))).toEqual({
      TimeoutStopUSec: { sig: 't', value: 7000000n },
      RuntimeMaxUSec: { sig: 't', value: 1500000n },
      RestartUSec: { sig: 't', value: 9n },
    });
    expect(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': "'7s'" })).toThrow(/a number of seconds is wanted/);
    expect(() => annotationProperties({ 'org.systemd.property.TimeoutStopSec': '-1' })).toThrow(/cannot be negative/);
  });

  test('a Slice annotation is refused by name before any unit starts: the slice is the cgroupsPath\'s', () => {
    expect(() => annotationProperties({ 'org.systemd.property.Slice': "'machine.slice'" })).toThrow(/org\.systemd\.property\.Slice.*linux\.cgroupsPath/);
  });

  test('org.systemd.property.* annotations in GVariant text', () => {
    const props = byName(annotationProperties({
      'org.systemd.property.TimeoutStopUSec': 'uint64 123456789',
      'org.systemd.property.CollectMode': "'inactive-or-failed'",
      'org.systemd.property.CPUWeight': '@t 50',
      'org.systemd.property.IgnoreOnIsolate': 'true',
      'org.systemd.property.Nice': '-5',
      'org.systemd.property.Wants': "['a.service', 'b.service']",
      'other.annotation': 'ignored',
    }));
    expect(props).toEqual({
      TimeoutStopUSec: { sig: 't', value: 123456789n },
      CollectMode: { sig: 's', value: 'inactive-or-failed' },
      CPUWeight: { sig: 't', value: 50n },
      IgnoreOnIsolate: { sig: 'b', value: true },
      Nice: { sig: 'i', value: -5 },
      Wants: { sig: 'as', value: ['a.service', 'b.service'] },
    });
    expect(() => annotationProperties({ 'org.systemd.property.Ab': '1' })).toThrow(/is not a systemd property name/);
    expect(() => annotationProperties({ 'org.systemd.property.CPU2': '1' })).toThrow(/is not a systemd property name/);
    expect(() => annotationProperties({ 'org.systemd.property.Nice': 'uint32 -1' })).toThrow(/out of range for uint32/);
    expect(() => annotationProperties({ 'org.systemd.property.Nice': '<1>' })).toThrow(ConfigError);
    expect(() => annotationProperties({ 'org.systemd.property.Wants': '[]' })).toThrow(/empty array/);
  });
});
