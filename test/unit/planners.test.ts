import { capabilityMasks } from '../../src/linux/capabilities';
import { MOUNT_ATTR, MS, parseMountOptions, propagationArg, rootPropagationAfterPivot, rootPropagationFlags } from '../../src/linux/mount-options';
import { CLONE_FLAGS, planNamespaces } from '../../src/linux/namespaces';
import { checkSysctl } from '../../src/linux/sysctl';
import { decodePlan, encodePlan, op, type PlanOp } from '../../src/linux/plan-encoding';
import { native, type NativeAddon } from '../../src/native';
import { ConfigError } from '../../src/errors';
import { youngGrowthOf } from '../helpers/young-generation';

describe('mount options', () => {
  test('flags, clearing flags, propagation and data', () => {
    const p = parseMountOptions(['nosuid', 'noexec', 'ro', 'rw', 'strictatime', 'mode=755', 'size=65536k', 'rslave']);
    expect(p.flags).toBe(MS.NOSUID | MS.NOEXEC | MS.STRICTATIME);
    expect(p.propagation).toEqual([MS.SLAVE | MS.REC]);
    expect(p.data).toBe('mode=755,size=65536k');
  });
  test('propagation words are kept in their order, each applied in turn (runc)', () => {
    expect(parseMountOptions(['rbind', 'rprivate', 'rshared']).propagation).toEqual([MS.PRIVATE | MS.REC, MS.SHARED | MS.REC]);
    expect(propagationArg([])).toBe(0);
    expect(propagationArg([MS.SLAVE | MS.REC])).toBe(MS.SLAVE | MS.REC);
    expect(propagationArg([MS.PRIVATE | MS.REC, MS.SHARED | MS.REC])).toBe(`${MS.PRIVATE | MS.REC},${MS.SHARED | MS.REC}`);
  });
  test('rbind is a recursive bind', () => {
    expect(parseMountOptions(['rbind', 'ro']).flags).toBe(MS.BIND | MS.REC | MS.RDONLY);
  });
  test('idmap and ridmap are no flags and no data, but the mount\'s id-mapping', () => {
    expect(parseMountOptions(['rbind', 'idmap'])).toMatchObject({ flags: MS.BIND | MS.REC, data: '', idmap: 'flat' });
    expect(parseMountOptions(['bind', 'ridmap']).idmap).toBe('recursive');
    expect(parseMountOptions(['bind']).idmap).toBeUndefined();
  });
  test('recursive options become mount_setattr attributes to set and clear, not flags or data', () => {
    const p = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rdev', 'nosymfollow']);
    expect(p.flags).toBe(MS.BIND | MS.REC | MS.NOSYMFOLLOW);
    expect(p.data).toBe('');
    expect(p.recursive).toEqual({ set: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID, clear: MOUNT_ATTR.NODEV });
    // The later option wins, and never leaves a bit both set and cleared.
    expect(parseMountOptions(['rrw', 'rro']).recursive).toEqual({ set: MOUNT_ATTR.RDONLY, clear: 0 });
    expect(parseMountOptions(['rro', 'rrw']).recursive).toEqual({ set: 0, clear: MOUNT_ATTR.RDONLY });
    // An access time is a field: its value is set with the whole field cleared.
    expect(parseMountOptions(['rnoatime']).recursive).toEqual({ set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR.ATIME });
    expect(parseMountOptions(['rnoatime', 'rstrictatime']).recursive).toEqual({ set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR.ATIME });
    expect(parseMountOptions(['rrelatime']).recursive).toEqual({ set: 0, clear: MOUNT_ATTR.ATIME });
    expect(parseMountOptions(['nosuid']).recursive).toEqual({ set: 0, clear: 0 });
  });
  test('tmpcopyup is an extension: no flag, no data', () => {
    expect(parseMountOptions(['nosuid', 'tmpcopyup', 'size=1m'])).toEqual({ flags: MS.NOSUID, propagation: [], data: 'size=1m', copyUp: true, recursive: { set: 0, clear: 0 }, cleared: 0 });
    expect(parseMountOptions(['nosuid']).copyUp).toBe(false);
  });
  test('the flags an option clears by name, the last word for a flag deciding', () => {
    expect(parseMountOptions(['rbind', 'rw', 'exec']).cleared).toBe(MS.RDONLY | MS.NOEXEC);
    expect(parseMountOptions(['suid', 'nosuid', 'nodev', 'dev']).cleared).toBe(MS.NODEV);
    expect(parseMountOptions(['ro', 'nosuid']).cleared).toBe(0);
  });
  test('root propagation defaults to rslave like runc', () => {
    expect(rootPropagationFlags(undefined)).toBe(MS.SLAVE | MS.REC);
    expect(rootPropagationFlags('private')).toBe(MS.PRIVATE);
    expect(rootPropagationFlags('rshared')).toBe(MS.SHARED | MS.REC);
  });
  test('an unbindable root waits for the pivot, and a shared one is given again there, to the root mount alone', () => {
    expect(rootPropagationFlags('runbindable')).toBe(MS.SLAVE | MS.REC);
    expect(rootPropagationFlags('unbindable')).toBe(MS.SLAVE | MS.REC);
    expect(['shared', 'rshared', 'unbindable', 'runbindable', 'slave', 'rslave', 'private', 'rprivate', undefined].map(rootPropagationAfterPivot))
      .toEqual([MS.SHARED, MS.SHARED, MS.UNBINDABLE, MS.UNBINDABLE, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('capabilities', () => {
  test('masks per set; unknown names warned and never granted', () => {
    const warnings: string[] = [];
    const m = capabilityMasks({ bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_BOGUS'], effective: ['CAP_SYS_ADMIN'] }, 40, (w) => warnings.push(w));
    expect(m.bounding).toBe((1n << 0n) | (1n << 5n));
    expect(m.effective).toBe(1n << 21n);
    expect(m.ambient).toBe(0n);
    expect(warnings).toEqual(['unknown or unavailable capability "CAP_BOGUS" ignored']);
  });
  test('a capability above the kernel\'s last is not granted', () => {
    const warnings: string[] = [];
    const m = capabilityMasks({ permitted: ['CAP_CHECKPOINT_RESTORE'] }, 39, (w) => warnings.push(w));
    expect(m.permitted).toBe(0n);
    expect(warnings).toHaveLength(1);
  });
});

describe('namespaces', () => {
  test('new namespaces are unshared; pid needs a fork', () => {
    const p = planNamespaces([{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }]);
    expect(p.unshareFlags).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.mount | CLONE_FLAGS.uts);
    expect(p.needsFork).toBe(true);
    expect(p.newUser).toBe(false);
  });
  test('joins come user first and mount last', () => {
    const p = planNamespaces([
      { type: 'mount', path: '/m' },
      { type: 'network', path: '/n' },
      { type: 'user', path: '/u' },
    ]);
    expect(p.joins.map((j) => j.type)).toEqual(['user', 'network', 'mount']);
    expect(p.unshareFlags).toBe(0);
    expect(p.needsFork).toBe(false);
  });
  test('a new user namespace is not in the unshare flags of the others', () => {
    const p = planNamespaces([{ type: 'user' }, { type: 'ipc' }]);
    expect(p.newUser).toBe(true);
    expect(p.unshareFlags).toBe(CLONE_FLAGS.ipc);
  });
});

describe('sysctl', () => {
  const ns = planNamespaces([{ type: 'network' }, { type: 'ipc' }, { type: 'uts' }]);
  const notHost = (): boolean => false;
  test('namespaced keys are allowed when the container owns the namespace', () => {
    expect(() => checkSysctl('net.ipv4.ip_forward', ns, notHost)).not.toThrow();
    expect(() => checkSysctl('kernel.shmmax', ns, notHost)).not.toThrow();
    expect(() => checkSysctl('fs.mqueue.msg_max', ns, notHost)).not.toThrow();
    expect(() => checkSysctl('kernel.domainname', ns, notHost)).not.toThrow();
    // Joined by a path that is not the runtime's own: the container's.
    expect(() => checkSysctl('net.ipv4.ip_forward', planNamespaces([{ type: 'network', path: '/run/netns/c1' }]), notHost)).not.toThrow();
  });
  test("host-wide keys and keys of a shared namespace are refused, in runc's words", () => {
    expect(() => checkSysctl('kernel.panic', ns, notHost)).toThrow(/linux.sysctl "kernel.panic": is not in a separate kernel namespace/);
    expect(() => checkSysctl('kernel.domainname', planNamespaces([]), notHost)).toThrow(ConfigError);
    expect(() => checkSysctl('kernel.hostname', ns, notHost)).toThrow(/conflicts with the OCI "hostname" field/);
    expect(() => checkSysctl('kernel.shmmax', planNamespaces([]), notHost)).toThrow(/not allowed in the hosts ipc namespace/);
    expect(() => checkSysctl('net.core.somaxconn', planNamespaces([]), notHost)).toThrow(/not allowed in host network namespace/);
    // A network namespace joined by the path of the runtime's own is the host's.
    const joined = planNamespaces([{ type: 'network', path: '/proc/1/ns/net' }]);
    expect(() => checkSysctl('net.core.somaxconn', joined, (_t, p) => p === '/proc/1/ns/net')).toThrow(/not allowed in host network namespace/);
    // The same for IPC and UTS: the host's IPC limits and domain name stay the host's.
    const hostIpc = planNamespaces([{ type: 'ipc', path: '/proc/1/ns/ipc' }, { type: 'uts', path: '/proc/1/ns/uts' }]);
    const isHost = (type: string, p: string): boolean => p === `/proc/1/ns/${type}`;
    expect(() => checkSysctl('kernel.shmmni', hostIpc, isHost)).toThrow(/linux.sysctl "kernel.shmmni": is not allowed in the hosts ipc namespace/);
    expect(() => checkSysctl('fs.mqueue.msg_max', hostIpc, isHost)).toThrow(/not allowed in the hosts ipc namespace/);
    expect(() => checkSysctl('kernel.domainname', hostIpc, isHost)).toThrow(/is not in a separate kernel namespace/);
    expect(() => checkSysctl('kernel.shmmni', hostIpc, notHost)).not.toThrow();
  });
  test('user.* keys are allowed with a user namespace (its own limits; runc 1.5), refused without', () => {
    expect(() => checkSysctl('user.max_user_namespaces', planNamespaces([{ type: 'user' }]), notHost)).not.toThrow();
    expect(() => checkSysctl('user/max_ipc_namespaces', planNamespaces([{ type: 'user' }]), notHost)).not.toThrow();
    expect(() => checkSysctl('user.max_user_namespaces', ns, notHost)).toThrow(/linux.sysctl "user.max_user_namespaces": is not in a separate kernel namespace/);
  });
  test("the path form of a key is checked as the dotted one (runc's rule)", () => {
    expect(() => checkSysctl('net/ipv4/ip_forward', ns, notHost)).not.toThrow();
    expect(() => checkSysctl('kernel/shmmax', ns, notHost)).not.toThrow();
    expect(() => checkSysctl('kernel/panic', ns, notHost)).toThrow(/linux.sysctl "kernel\/panic": is not in a separate kernel namespace/);
    expect(() => checkSysctl('net/core/somaxconn', planNamespaces([]), notHost)).toThrow(/not allowed in host network namespace/);
  });
});

describe('plan encoding', () => {
  test('round trip with numbers, bigints and empty strings', () => {
    const ops = [op('fds', 0, 1), op('mount', 'proc', 'proc', 'proc', 14, 0, ''), op('credentials', 0, 0, (1n << 40n) - 1n)];
    expect(decodePlan(encodePlan(ops))).toEqual([
      { op: 'fds', args: ['0', '1'] },
      { op: 'mount', args: ['proc', 'proc', 'proc', '14', '0', ''] },
      { op: 'credentials', args: ['0', '0', '1099511627775'] },
    ]);
  });
  test('lengths count UTF-8 bytes, not characters', () => {
    const buf = encodePlan([op('env', 'GREETING=héllo ✓'), op('hostname', '')]);
    expect(buf.length).toBe(4 + 4 + 3 + 4 + Buffer.byteLength('GREETING=héllo ✓') + 4 + 4 + 8 + 4);
    expect(decodePlan(buf)).toEqual([
      { op: 'env', args: ['GREETING=héllo ✓'] },
      { op: 'hostname', args: [''] },
    ]);
  });
  test('a field beyond ASCII changes only its own bytes; long fields keep 32-bit lengths', () => {
    const long = 'x'.repeat(70000);
    const ascii = encodePlan([op('env', `A=${long}`), op('hostname', 'h')]);
    expect(ascii.readUInt32LE(0)).toBe(2);
    expect(ascii.readUInt32LE(4)).toBe(3);
    expect(ascii.toString('latin1', 8, 11)).toBe('env');
    expect(ascii.readUInt32LE(11)).toBe(70002);
    expect(decodePlan(ascii)).toEqual([{ op: 'env', args: [`A=${long}`] }, { op: 'hostname', args: ['h'] }]);
    // The same plan with one non-ASCII field differs only in that field's bytes.
    const utf8 = encodePlan([op('env', `A=${long}`), op('hostname', 'é')]);
    expect(utf8.subarray(0, ascii.length - 1)).toEqual(ascii.subarray(0, ascii.length - 1).fill(2, ascii.length - 5, ascii.length - 4));
    expect(decodePlan(utf8)[1]).toEqual({ op: 'hostname', args: ['é'] });
  });
  test("the addon's encoding of a run's plan leaves next to nothing in V8's young generation (skipped without the addon)", () => {
    let nat: NativeAddon;
    try {
      nat = native();
    } catch {
      return;
    }
    // The size of a default run's plan: ~80 ops, ~290 fields, ~3.7 KB. Strings and
    // joins once left ~100 KB here, enough to cost a run a scavenge.
    const ops = Array.from({ length: 80 }, (_, i) => op(i % 2 ? 'mount' : 'cgroup', `/sys/fs/cgroup/memory/tsrun-test/c${i}`, 'tmpfs', 'nosuid,nodev', i, 0n));
    expect(decodePlan(nat.encodePlan(ops))).toHaveLength(80);
    expect(youngGrowthOf(() => nat.encodePlan(ops))).toBeLessThan(16 * 1024);
  });
  test('a NUL byte cannot reach the init', () => {
    expect(() => encodePlan([op('env', 'A=\0')])).toThrow(/plan op env: argument contains a NUL byte/);
    // Also beside a character beyond ASCII, before or after it.
    expect(() => encodePlan([op('hostname', 'é'), op('env', 'A=\0')])).toThrow(/plan op env: argument contains a NUL byte/);
    expect(() => encodePlan([op('env', 'A=é\0')])).toThrow(/plan op env: argument contains a NUL byte/);
  });
  test('the addon\'s encoder (what the lifecycle uses) writes the very bytes of this one, and refuses what it refuses (skipped without the addon)', () => {
    let nat: NativeAddon;
    try {
      nat = native();
    } catch {
      return;
    }
    const long = 'ab'.repeat(10000);
    const plans: PlanOp[][] = [
      [],
      [op('fds', 0, 1), op('mount', 'proc', 'proc', 'proc', 14, 0, ''), op('credentials', 0, 0, (1n << 40n) - 1n, -1, 1.5, 1e21)],
      [op('env', 'GREETING=héllo ✓'), op('hostname', ''), op('env', 'X=\ud800'), op('env', `A=${long}`), op('env', `B=${long}é`)],
      Array.from({ length: 80 }, (_, i) => op(i % 2 ? 'mount' : 'cgroup', `/sys/fs/cgroup/memory/tsrun-test/c${i}`, 'tmpfs', 'nosuid,nodev', i, 0n)),
      [op('nameless')],
    ];
    for (const plan of plans) expect(nat.encodePlan(plan).equals(encodePlan(plan))).toBe(true);
    for (const bad of [[op('env', 'A=\0')], [op('hostname', 'é'), op('env', `${long}\0`)], [op('a\0b')]]) {
      expect(() => encodePlan(bad)).toThrow(/argument contains a NUL byte/);
      expect(() => nat.encodePlan(bad)).toThrow((() => {
        try {
          encodePlan(bad);
        } catch (e) {
          return (e as Error).message;
        }
        return 'unreachable';
      })());
    }
  });
  test('a long field is checked as a short one: NUL refused, beyond ASCII written as UTF-8', () => {
    for (const length of [63, 64, 65, 20000]) {
      const hex = 'ab'.repeat(length).slice(0, length);
      expect(decodePlan(encodePlan([op('seccomp', 0, hex, 'pidfd')]))).toEqual([{ op: 'seccomp', args: ['0', hex, 'pidfd'] }]);
      expect(() => encodePlan([op('env', `${hex}\0`)])).toThrow(/plan op env: argument contains a NUL byte/);
      expect(() => encodePlan([op('env', `\0${hex}`)])).toThrow(/plan op env: argument contains a NUL byte/);
      for (const other of ['é', '✓', '\ud800']) {
        const text = `${hex}${other}`;
        const buf = encodePlan([op('env', text), op('hostname', 'h')]);
        expect(buf.readUInt32LE(11)).toBe(Buffer.byteLength(text, 'utf8'));
        expect(decodePlan(buf)).toEqual([{ op: 'env', args: [Buffer.from(text, 'utf8').toString('utf8')] }, { op: 'hostname', args: ['h'] }]);
      }
    }
  });
});

import { timeOffsetsText } from '../../src/lifecycle/time-offsets';

describe('time namespace offsets', () => {
  test('one line per clock, missing fields are 0', () => {
    expect(timeOffsetsText({ monotonic: { secs: 10, nanosecs: 5 }, boottime: { secs: -3 } })).toBe('monotonic 10 5\nboottime -3 0\n');
  });
  test('an unknown clock is refused naming it', () => {
    expect(() => timeOffsetsText({ realtime: { secs: 1 } })).toThrow(/linux.timeOffsets.realtime/);
  });
});
