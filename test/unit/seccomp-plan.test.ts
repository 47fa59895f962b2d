import { defaultSpec } from '../../src/config/default-spec';
import { ConfigError } from '../../src/errors';
import { buildCreatePlan, type CreatePlanInput } from '../../src/linux/plan';
import { planSeccomp, SCMP_ACT, SECCOMP_FILTER_FLAG } from '../../src/linux/seccomp';

const none = () => undefined;

describe('seccomp planner', () => {
  test('actions map to libseccomp values; ERRNO and TRACE carry errnoRet (EPERM by default)', () => {
    const plan = planSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ALLOW' },
        { names: ['b'], action: 'SCMP_ACT_ERRNO' },
        { names: ['c'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        { names: ['d'], action: 'SCMP_ACT_KILL' },
        { names: ['e'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['f'], action: 'SCMP_ACT_TRAP' },
        { names: ['g'], action: 'SCMP_ACT_LOG' },
      ],
    }, none)!;
    expect(plan.filter.defaultAction).toBe(SCMP_ACT.ERRNO | 38);
    expect(plan.filter.rules.map((r) => [r.syscall, r.action])).toEqual([
      ['a', SCMP_ACT.ALLOW],
      ['b', SCMP_ACT.ERRNO | 1],
      ['c', SCMP_ACT.TRACE | 5],
      ['d', SCMP_ACT.KILL_THREAD],
      ['e', SCMP_ACT.KILL_PROCESS],
      ['f', SCMP_ACT.TRAP],
      ['g', SCMP_ACT.LOG],
    ]);
  });

  test('a rule with the default action is dropped', () => {
    const plan = planSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO' }] }, none)!;
    expect(plan.filter.rules).toEqual([]);
  });

  test('conditions on distinct arguments stay one rule; repeated arguments become one rule each (OR)', () => {
    const and = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 10, op: 'SCMP_CMP_EQ' }] }] }, none)!;
    expect(and.filter.rules).toHaveLength(1);
    expect(and.filter.rules[0]!.conditions).toEqual([{ arg: 0, op: 4, a: 1n, b: 0n }, { arg: 1, op: 4, a: 10n, b: 0n }]);
    const or = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality', 'x'], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 0xff, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] }] }, none)!;
    expect(or.filter.rules.map((r) => [r.syscall, r.conditions.length])).toEqual([['personality', 1], ['personality', 1], ['x', 1], ['x', 1]]);
    expect(or.filter.rules[1]!.conditions[0]).toEqual({ arg: 0, op: 7, a: 0xffn, b: 8n });
  });

  test('architectures are mapped to libseccomp names; flags to seccomp(2) flags', () => {
    const plan = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, none)!;
    expect(plan.filter.architectures).toEqual(['x86_64', 'x86']);
    expect(plan.flags).toBe(SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_LOG! | SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_SPEC_ALLOW!);
  });

  test('without a flags list, SPEC_ALLOW where the kernel takes it (runc 1.2, after the same probe); an empty list means none', () => {
    const spec = SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_SPEC_ALLOW!;
    const asked: number[] = [];
    const kernel = { kernelTakes: (flag: number): boolean => (asked.push(flag), true) };
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, none, kernel)!.flags).toBe(spec);
    expect(asked).toEqual([spec]);
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: null }, none, kernel)!.flags).toBe(spec);
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: [] }, none, kernel)!.flags).toBe(0);
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] }, none, kernel)!.flags).toBe(SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_LOG!);
    // Given flags are the profile's: the kernel is not asked about the default then.
    expect(asked).toEqual([spec, spec]);
    // A kernel (or sandbox) that refuses the flag: none, rather than a filter it refuses.
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, none, { kernelTakes: () => false })!.flags).toBe(0);
    expect(planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, none)!.flags).toBe(0);
    // With a listener too: NEW_LISTENER beside it.
    const notify = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, none, kernel)!;
    expect(notify.flags).toBe(spec | SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_NEW_LISTENER!);
  });

  test('NOTIFY asks for a listener fd; TSYNC then needs TSYNC_ESRCH', () => {
    const plan = planSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l.sock', flags: ['SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, none)!;
    expect(plan.flags).toBe(1 | 8 | 16);
    expect(plan.listenerPath).toBe('/l.sock');
  });

  test.each([
    [{ defaultAction: 'SCMP_ACT_NOPE' }, 'linux.seccomp.defaultAction'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PDP11'] }, 'linux.seccomp.architectures[0]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, 'linux.seccomp.flags[0]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, 'linux.seccomp.syscalls[0].action'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, 'linux.seccomp.syscalls[0].args[0].index'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath'],
    [{ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, 'linux.seccomp.defaultAction'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, 'linux.seccomp.flags'],
    // The spec: an errnoRet for an action that returns none MUST fail (runc 1.1 ignores it).
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_KILL_PROCESS', errnoRet: 1 }] }, 'linux.seccomp.syscalls[0].errnoRet'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 38 }, 'linux.seccomp.defaultErrnoRet'],
    [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_LOG', errnoRet: 0 }] }, 'linux.seccomp.syscalls[0].errnoRet'],
  ])('refuses %j naming %s', (config, field) => {
    let err: unknown;
    try {
      planSeccomp(config, none);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
  });
});

describe('where the plan loads the filter', () => {
  const input = (nnp: boolean, flags: number, listenerHandover?: 'pidfd' | 'sendmsg'): CreatePlanInput => {
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.process!.noNewPrivileges = nnp;
    return {
      spec, bundle: '/b', rootfs: '/b/rootfs', noPivot: false, preserveFds: 0, extraFds: 1, fifoFd: 5,
      host: { lastCap: 40, cgroupDirs: {}, cgroupV2: true }, warn: none,
      seccomp: { program: Buffer.alloc(8, 1), flags, ...(listenerHandover ? { listenerHandover } : {}) },
    };
  };
  const order = (i: CreatePlanInput) => buildCreatePlan(i).map((o) => o.op).filter((o) => ['seccomp', 'credentials', 'notify', 'waitFifo', 'exec'].includes(o));

  test('with no_new_privs: right before exec', () => {
    expect(order(input(true, 0))).toEqual(['credentials', 'notify', 'waitFifo', 'seccomp', 'exec']);
    const op = buildCreatePlan(input(true, 2)).find((o) => o.op === 'seccomp')!;
    expect(op.args).toEqual([2, '0101010101010101', 'sendmsg']);
    expect(buildCreatePlan(input(true, 2, 'pidfd')).find((o) => o.op === 'seccomp')?.args).toEqual([2, '0101010101010101', 'pidfd']);
  });
  test('without no_new_privs: before the capabilities are dropped', () => {
    expect(order(input(false, 0))).toEqual(['seccomp', 'credentials', 'notify', 'waitFifo', 'exec']);
  });
  test('with a listener: while the sync socket is still open', () => {
    expect(order(input(true, 8))).toEqual(['credentials', 'seccomp', 'notify', 'waitFifo', 'exec']);
  });
});

describe('how the init hands the listener fd over', () => {
  const notifying = (names: string[]) => ({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l', syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }] });
  test('as root: by pidfd_getfd, so only write is refused to NOTIFY (runc\'s rule)', () => {
    expect(planSeccomp(notifying(['sendmsg', 'mkdir']), () => undefined)?.listenerHandover).toBe('pidfd');
    expect(() => planSeccomp(notifying(['write']), () => undefined)).toThrow(/SCMP_ACT_NOTIFY cannot be used for the write syscall/);
  });
  test('unprivileged: by sendmsg, which is refused to NOTIFY too', () => {
    expect(planSeccomp(notifying(['mkdir']), () => undefined, { unprivileged: true })?.listenerHandover).toBe('sendmsg');
    expect(() => planSeccomp(notifying(['sendmsg']), () => undefined, { unprivileged: true })).toThrow(/SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall/);
  });
});
