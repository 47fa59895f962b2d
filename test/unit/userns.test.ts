// User namespace and rootless planning, without root: how the id maps are written
// (runc's rules), `spec --rootless` (runc's ToRootless, byte for byte modulo
// hostname and version), and the default state root.
import { defaultSpec } from '../../src/config/default-spec';
import { rootlessSpec } from '../../src/config/rootless-spec';
import { hostIdOf, mapFileText, mapHelperArgs, planIdMappings } from '../../src/linux/id-mappings';
import { defaultStateRoot } from '../../src/state/default-root';
import { rootlessMode } from '../../src/lifecycle/rootless';

const self = (id: number) => [{ containerID: 0, hostID: id, size: 1 }];
const range = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];

describe('id map plan', () => {
  test('root writes both maps itself and leaves setgroups alone', () => {
    expect(planIdMappings(range, range, 0, 0)).toEqual({
      uid: { writer: 'direct', mappings: range },
      gid: { writer: 'direct', mappings: range },
      denySetgroups: false,
    });
  });

  test("an unprivileged caller mapping only its own ids writes directly, denying setgroups first", () => {
    const p = planIdMappings(self(1000), self(1000), 1000, 1000);
    expect([p.uid.writer, p.gid.writer, p.denySetgroups]).toEqual(['direct', 'direct', true]);
  });

  test('an unprivileged caller mapping more needs newuidmap/newgidmap, and setgroups stays allowed', () => {
    const p = planIdMappings(range, range, 1000, 1000);
    expect([p.uid.writer, p.gid.writer, p.denySetgroups]).toEqual(['helper', 'helper', false]);
    // someone else's id alone is "more" too
    expect(planIdMappings(self(0), self(1000), 1000, 1000).uid.writer).toBe('helper');
    expect(planIdMappings(self(1000), self(0), 1000, 1000)).toMatchObject({ gid: { writer: 'helper' }, denySetgroups: false });
  });

  test('map text and helper arguments', () => {
    expect(mapFileText(range)).toBe('0 1000 1\n1 100000 65536\n');
    expect(mapHelperArgs(range)).toEqual(['0', '1000', '1', '1', '100000', '65536']);
    expect([hostIdOf(range, 0), hostIdOf(range, 1), hostIdOf(range, 65536), hostIdOf(range, 65537)]).toEqual([1000, 100000, 165535, undefined]);
  });

  test('malformed mappings are refused naming the field', () => {
    expect(() => planIdMappings(undefined, range, 0, 0)).toThrow(/^linux.uidMappings: is required with a new user namespace$/);
    expect(() => planIdMappings(range, [], 0, 0)).toThrow(/^linux.gidMappings: is required/);
    expect(() => planIdMappings([{ containerID: 0, hostID: 0, size: 0 }], range, 0, 0)).toThrow(/^linux.uidMappings\[0\].size: must be at least 1$/);
    expect(() => planIdMappings([{ containerID: -1, hostID: 0, size: 1 }], range, 0, 0)).toThrow(/^linux.uidMappings\[0\].containerID: /);
    expect(() => planIdMappings(range, [{ containerID: 0, hostID: 2 ** 32 - 1, size: 2 }], 0, 0)).toThrow(/^linux.gidMappings\[0\]: range runs past/);
  });
});

describe('spec --rootless', () => {
  test("is runc's rootless transformation for the caller", () => {
    const s = rootlessSpec(1234, 5678);
    expect(s.linux?.uidMappings).toEqual(self(1234));
    expect(s.linux?.gidMappings).toEqual(self(5678));
    expect(s.linux?.namespaces?.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'user']);
    expect(s.linux?.resources).toBeUndefined();
    expect(s.mounts?.find((m) => m.destination === '/sys')).toEqual({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    expect(s.mounts?.find((m) => m.destination === '/dev/pts')?.options).toEqual(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
    // everything else is the default spec
    const d = defaultSpec();
    expect(s.process).toEqual(d.process);
    expect(s.mounts?.filter((m) => m.destination !== '/sys' && m.destination !== '/dev/pts')).toEqual(d.mounts?.filter((m) => m.destination !== '/sys' && m.destination !== '/dev/pts'));
  });
});

describe('rootless defaults', () => {
  test('state root: $XDG_RUNTIME_DIR/tsrun for a non-root user who has one, else /run/tsrun', () => {
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toBe('/run/user/1000/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000/' }, 1000)).toBe('/run/user/1000/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, 0)).toBe('/run/tsrun');
    expect(defaultStateRoot({}, 1000)).toBe('/run/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: 'relative' }, 1000)).toBe('/run/tsrun');
    // Root of a user namespace (rootless podman): its XDG dir, unless it calls itself USER=root (runc's rule).
    const inUserNs = () => true;
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 0, inUserNs)).toBe('/run/user/1000/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000', USER: 'alice' }, 0, inUserNs)).toBe('/run/user/1000/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000', USER: 'root' }, 0, inUserNs)).toBe('/run/tsrun');
    expect(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, 0, () => false)).toBe('/run/tsrun');
  });

  test('--rootless values', () => {
    expect(rootlessMode('true')).toBe(true);
    expect(rootlessMode('false')).toBe(false);
    expect(rootlessMode('auto')).toBe((process.geteuid?.() ?? 0) !== 0);
    expect(() => rootlessMode('maybe')).toThrow(/--rootless: invalid value "maybe"/);
    // runc parses it with strconv.ParseBool, and takes auto in any case.
    expect([rootlessMode('1'), rootlessMode('T'), rootlessMode('TRUE'), rootlessMode('0'), rootlessMode('False')]).toEqual([true, true, true, false, false]);
    expect(rootlessMode('AUTO')).toBe(rootlessMode('auto'));
    expect(() => rootlessMode('yes')).toThrow(/--rootless: invalid value "yes"/);
  });
});
