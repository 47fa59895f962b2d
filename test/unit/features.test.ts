import { checkSupported } from '../../src/config/support';
import type { Spec } from '../../src/config/types';
import { features } from '../../src/lifecycle/features';
import { parseMountOptions } from '../../src/linux/mount-options';
import { validateResources } from '../../src/cgroups/resources';

describe('features document', () => {
  // A library that builds for two architectures (and refuses the rest).
  const doc = features({ archs: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'], version: '2.5.4' }, '6.1.0-18-amd64');

  test('has the runtime-spec shape', () => {
    expect(Object.keys(doc)).toEqual(['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations', 'potentiallyUnsafeConfigAnnotations']);
    // Spec 1.2: the annotations tsrun acts on, a prefix ending in "." (the systemd driver's properties).
    expect(doc.potentiallyUnsafeConfigAnnotations).toEqual(['org.systemd.property.']);
    // netDevices and memoryPolicy below are spec 1.3's additions.
    expect([doc.ociVersionMin, doc.ociVersionMax]).toEqual(['1.0.0', '1.3.0']);
    expect(doc.linux.capabilities).toContain('CAP_SYS_ADMIN');
    expect(doc.linux.mountExtensions.idmap.enabled).toBe(true);
    // mount_setattr came with Linux 5.12.
    expect(features({ archs: [] }, '5.11.22').linux.mountExtensions.idmap.enabled).toBe(false);
    expect(features({ archs: [] }, '5.12.0').linux.mountExtensions.idmap.enabled).toBe(true);
    // Spec 1.3: after mountExtensions, as in the spec's features document.
    expect(Object.keys(doc.linux).slice(-2)).toEqual(['mountExtensions', 'netDevices']);
    expect(doc.linux.netDevices.enabled).toBe(true);
    expect(() => checkSupported({ ociVersion: '1.2.0', linux: { netDevices: { eth0: {} } } } as Spec)).not.toThrow();
    // Every mode and flag of the spec's schema is recognised.
    expect([...doc.linux.memoryPolicy.modes].sort()).toEqual(['MPOL_BIND', 'MPOL_DEFAULT', 'MPOL_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE']);
    expect(doc.linux.memoryPolicy.flags).toEqual(['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']);
    expect(() => checkSupported({ ociVersion: '1.2.0', linux: { memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' } } } as Spec)).not.toThrow();
  });

  test('a linux.resources field the spec does not define is returned to be ignored, not refused (spec: Extensibility); intelRdt is refused', () => {
    expect(checkSupported({ ociVersion: '1.2.0', linux: { resources: { memory: {}, futureController: { a: 1 } } } } as unknown as Spec)).toEqual(['linux.resources.futureController']);
    expect(() => checkSupported({ ociVersion: '1.2.0', linux: { intelRdt: { closID: 'x' } } } as unknown as Spec)).toThrow(/not supported yet: linux\.intelRdt/);
  });

  test('a member of linux.resources.memory, cpu, blockIO or pids the spec does not define is returned to be ignored, and the limits validate without it (runc skips it)', () => {
    const resources = { memory: { limit: 1 << 26, futureKnob: true }, cpu: { shares: 1024, futureKnob: 1 }, blockIO: { weight: 100, futureKnob: 1 }, pids: { limit: 33, futureKnob: 1 } };
    expect(checkSupported({ ociVersion: '1.2.0', linux: { resources } } as unknown as Spec)).toEqual([
      'linux.resources.memory.futureKnob', 'linux.resources.cpu.futureKnob', 'linux.resources.blockIO.futureKnob', 'linux.resources.pids.futureKnob',
    ]);
    expect(validateResources(resources).pids?.limit).toBe(33);
    // A misspelt member is one the spec does not define either: said, as a misspelt resource is.
    expect(checkSupported({ ociVersion: '1.2.0', linux: { resources: { memory: { limt: 1 } } } } as unknown as Spec)).toEqual(['linux.resources.memory.limt']);
    // One that differs from a known member only in case is refused: runc applies it (Go's decoder ignores case).
    expect(() => checkSupported({ ociVersion: '1.2.0', linux: { resources: { memory: { Limit: 1 << 26 } } } } as unknown as Spec)).toThrow(/linux\.resources\.memory\.Limit: .*runc reads it as limit/);
    // A resource itself too ("Pids": runc applies it as pids).
    expect(() => checkSupported({ ociVersion: '1.2.0', linux: { resources: { Pids: { limit: 7 } } } } as unknown as Spec)).toThrow(/linux\.resources\.Pids: .*runc reads it as pids/);
    // The known members are still checked.
    expect(() => validateResources({ pids: { limit: 1.5, futureKnob: 1 } })).toThrow(/linux\.resources\.pids\.limit/);
  });

  test('every reported mount option is parsed, none is refused', () => {
    for (const option of doc.mountOptions) expect(() => parseMountOptions([option])).not.toThrow();
    for (const o of ['tmpcopyup', 'rro', 'rnosymfollow', 'nosymfollow', 'acl', 'idmap', 'ridmap']) expect(doc.mountOptions).toContain(o);
  });

  test('reports a hook kind or namespace exactly when a config using it is accepted', () => {
    for (const kind of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
      const spec = { ociVersion: '1.2.0', hooks: { [kind]: [{ path: '/bin/true' }] } } as Spec;
      let accepted = true;
      try {
        checkSupported(spec);
      } catch {
        accepted = false;
      }
      expect(doc.hooks.includes(kind)).toBe(accepted);
    }
    for (const type of ['pid', 'mount', 'uts', 'ipc', 'network', 'cgroup', 'user']) expect(doc.linux.namespaces).toContain(type);
  });

  test('seccomp is reported as enabled only when a seccomp config is accepted', () => {
    let accepted = true;
    try {
      checkSupported({ ociVersion: '1.2.0', linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } } } as Spec);
    } catch {
      accepted = false;
    }
    expect(doc.linux.seccomp.enabled).toBe(accepted);
  });

  test('seccomp archs: those the library builds for (sorted), and its version among the annotations', () => {
    expect(doc.linux.seccomp.archs).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X86_64']);
    expect(doc.annotations['io.github.seccomp.libseccomp.version']).toBe('2.5.4');
    const without = features({ archs: [] }, '6.1.0');
    expect(without.linux.seccomp.archs).toEqual([]);
    expect(Object.keys(without.annotations)).toEqual(['org.opencontainers.tsrun.version']);
  });

  test('seccomp: every action and operator of the spec, and the flags a config may name', () => {
    const { actions, operators, knownFlags, supportedFlags } = doc.linux.seccomp;
    expect(actions).toEqual(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP']);
    expect(operators).toEqual(['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE']);
    expect(supportedFlags.every((f) => knownFlags.includes(f))).toBe(true);
    expect(supportedFlags).toEqual(expect.arrayContaining(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC']));
    // tsrun sets these itself (for a NOTIFY rule): a config may not name them.
    for (const own of ['SECCOMP_FILTER_FLAG_NEW_LISTENER', 'SECCOMP_FILTER_FLAG_TSYNC_ESRCH']) expect(knownFlags).not.toContain(own);
  });

  test('supportedFlags: the known flags this kernel takes, asked one by one (WAIT_KILLABLE_RECV beside NEW_LISTENER)', () => {
    const asked: number[] = [];
    // A kernel older than 5.19: no WAIT_KILLABLE_RECV (32).
    const older = features({ archs: [] }, '5.15.0', (flags) => (asked.push(flags), (flags & 32) === 0)).linux.seccomp;
    expect(older.knownFlags).toContain('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV');
    expect(older.supportedFlags).toEqual(older.knownFlags.filter((f) => f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'));
    expect(asked).toContain(32 | 8);
  });
});
