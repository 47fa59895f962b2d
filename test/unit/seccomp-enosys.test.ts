import { nativeSeccompArch, planEnosys, planSeccomp, RET_ERRNO_ENOSYS, SCMP_ACT, SECCOMP_ARCHES } from '../../src/linux/seccomp';
import { AUDIT_ARCH, BPF, enosysStub, X32_SYSCALL_BIT, type HighestSyscall } from '../../src/linux/seccomp-enosys';

const none = () => undefined;

/** What the stub hands on to: libseccomp's program, here one `ret` of this mark. */
const FILTER = 0x7ffc1234;

/**
 * A classic BPF interpreter for the instructions the stub uses, over struct
 * seccomp_data's nr (offset 0) and arch (offset 4), with the "filter" after it.
 */
function verdict(stub: Buffer, arch: number, nr: number): number {
  const filter = Buffer.alloc(8);
  filter.writeUInt16LE(BPF.RET_K, 0);
  filter.writeUInt32LE(FILTER, 4);
  const prog = Buffer.concat([stub, filter]);
  let pc = 0;
  let a = 0;
  for (let steps = 0; steps < prog.length / 8; steps++) {
    const at = pc * 8;
    if (at >= prog.length) throw new Error(`fell off the program at ${pc}`);
    const code = prog.readUInt16LE(at);
    const jt = prog[at + 2]!;
    const jf = prog[at + 3]!;
    const k = prog.readUInt32LE(at + 4);
    switch (code) {
      case BPF.LD_W_ABS:
        if (k !== 0 && k !== 4) throw new Error(`load of offset ${k}`);
        a = k === 0 ? nr >>> 0 : arch >>> 0;
        pc++;
        break;
      case BPF.JMP_JEQ_K:
        pc += 1 + (a === k ? jt : jf);
        break;
      case BPF.JMP_JGT_K:
        pc += 1 + (a > k ? jt : jf);
        break;
      case BPF.JMP_JSET_K:
        pc += 1 + ((a & k) >>> 0 !== 0 ? jt : jf);
        break;
      case BPF.JMP_JA:
        pc += 1 + k;
        break;
      case BPF.RET_K:
        return k;
      default:
        throw new Error(`unexpected opcode ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('no verdict (a loop?)');
}

const stubOf = (highest: HighestSyscall[]) => enosysStub(highest, none);
const X86_64 = AUDIT_ARCH['x86_64']!;
const I386 = AUDIT_ARCH['x86']!;
const x32 = (nr: number) => (nr | X32_SYSCALL_BIT) >>> 0;

describe('the ENOSYS stub', () => {
  test('x86_64: above the highest number ENOSYS, the rest (x32 calls, other architectures) to the filter', () => {
    const stub = stubOf([{ arch: 'x86_64', nr: 439 }]);
    expect(verdict(stub, X86_64, 440)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, X86_64, 1000)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, X86_64, 0x3fffffff)).toBe(RET_ERRNO_ENOSYS);
    // -1 has bit 30 set: an x32 number, not bounded by x86_64's (as in runc).
    expect(verdict(stub, X86_64, -1)).toBe(FILTER);
    // Unsigned, as the kernel compares: -1 is above i386's bound.
    expect(verdict(stubOf([{ arch: 'x86', nr: 439 }]), I386, -1)).toBe(RET_ERRNO_ENOSYS);
    for (const nr of [0, 1, 400, 439]) expect(verdict(stub, X86_64, nr)).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(1000))).toBe(FILTER);
    expect(verdict(stub, I386, 1000)).toBe(FILTER);
  });

  test('x86_64 with x32: each bounded by its own numbers (x32 told apart by bit 30)', () => {
    const stub = stubOf([{ arch: 'x86_64', nr: 439 }, { arch: 'x32', nr: x32(530) }]);
    expect(verdict(stub, X86_64, 449)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, X86_64, 439)).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(449))).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(530))).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(531))).toBe(RET_ERRNO_ENOSYS);
  });

  test('x32 alone: native x86_64 calls are left to the filter', () => {
    const stub = stubOf([{ arch: 'x32', nr: x32(530) }]);
    expect(verdict(stub, X86_64, 1000)).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(1000))).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, X86_64, x32(7))).toBe(FILTER);
  });

  test('several architectures, each with its bound', () => {
    const stub = stubOf([{ arch: 'x86_64', nr: 300 }, { arch: 'x86', nr: 439 }, { arch: 'aarch64', nr: 200 }]);
    expect(verdict(stub, X86_64, 301)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, I386, 301)).toBe(FILTER);
    expect(verdict(stub, I386, 440)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, AUDIT_ARCH['aarch64']!, 201)).toBe(RET_ERRNO_ENOSYS);
    expect(verdict(stub, AUDIT_ARCH['aarch64']!, 200)).toBe(FILTER);
    expect(verdict(stub, AUDIT_ARCH['riscv64']!, 1000)).toBe(FILTER);
  });

  test('s390 and s390x: number 0 (what the kernel leaves an unknown call) is ENOSYS too', () => {
    for (const arch of ['s390', 's390x']) {
      const stub = stubOf([{ arch, nr: 439 }]);
      expect(verdict(stub, AUDIT_ARCH[arch]!, 0)).toBe(RET_ERRNO_ENOSYS);
      expect(verdict(stub, AUDIT_ARCH[arch]!, 1)).toBe(FILTER);
      expect(verdict(stub, AUDIT_ARCH[arch]!, 440)).toBe(RET_ERRNO_ENOSYS);
    }
    expect(verdict(stubOf([{ arch: 'x86_64', nr: 439 }]), X86_64, 0)).toBe(FILTER);
  });

  test('an architecture with no number above 0 gets no bound, with a warning (runc)', () => {
    const warnings: string[] = [];
    const stub = enosysStub([{ arch: 'x86_64', nr: 0 }, { arch: 'x86', nr: -1 }, { arch: 'x32', nr: x32(12) }], (m) => warnings.push(m));
    expect(warnings).toEqual([
      'seccomp: the profile names no syscall numbered above 0 on SCMP_ARCH_X86_64: no ENOSYS stub for it',
      'seccomp: the profile names no syscall numbered above 0 on SCMP_ARCH_X86: no ENOSYS stub for it',
    ]);
    expect(verdict(stub, X86_64, 1000)).toBe(FILTER);
    expect(verdict(stub, X86_64, x32(13))).toBe(RET_ERRNO_ENOSYS);
    expect(enosysStub([{ arch: 'x86_64', nr: -1 }], none).length).toBe(0);
  });

  test('every architecture the planner knows has its AUDIT_ARCH; all of them fit one stub', () => {
    const arches = Object.values(SECCOMP_ARCHES);
    expect(arches.filter((a) => AUDIT_ARCH[a] === undefined)).toEqual([]);
    // As in linux/audit.h (and libseccomp's tokens, x32's aside).
    expect([AUDIT_ARCH['x86_64'], AUDIT_ARCH['x86'], AUDIT_ARCH['aarch64'], AUDIT_ARCH['s390x'], AUDIT_ARCH['mipsel64n32'], AUDIT_ARCH['riscv64']]).toEqual([
      0xc000003e, 0x40000003, 0xc00000b7, 0x80000016, 0xe0000008, 0xc00000f3,
    ]);
    const stub = stubOf(arches.map((arch, i) => ({ arch, nr: arch === 'x32' ? x32(100 + i) : 100 + i })));
    arches.forEach((arch, i) => {
      if (arch === 'x32' || arch === 'x86_64') return;
      expect(verdict(stub, AUDIT_ARCH[arch]!, 100 + i)).toBe(FILTER);
      expect(verdict(stub, AUDIT_ARCH[arch]!, 101 + i)).toBe(RET_ERRNO_ENOSYS);
    });
  });

  test('struct sock_filter in the requested byte order', () => {
    const le = enosysStub([{ arch: 'x86_64', nr: 439 }], none, true);
    const be = enosysStub([{ arch: 'x86_64', nr: 439 }], none, false);
    expect(le.length).toBe(be.length);
    expect(le.subarray(0, 8)).toEqual(Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0]));
    expect(be.subarray(0, 8)).toEqual(Buffer.from([0, 0x20, 0, 0, 0, 0, 0, 4]));
  });
});

describe('which profiles get the stub (runc 1.1, and 1.1.15 for the native architecture)', () => {
  const profile = (over: Record<string, unknown>) => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'clone3'], action: 'SCMP_ACT_ALLOW' },
      // The default action: no rule, but its names still count for the bound.
      { names: ['futex_waitv', 'read'], action: 'SCMP_ACT_ERRNO' },
    ],
    ...over,
  });

  test('a refusing default with architectures: every name of every rule bounds it', () => {
    for (const defaultAction of ['SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
      const plan = planSeccomp(profile({ defaultAction }), none)!;
      expect(plan.enosys).toEqual({ architectures: ['x86_64', 'x32'], syscalls: ['read', 'clone3', 'futex_waitv'] });
    }
    expect(planSeccomp(profile({ defaultErrnoRet: 1 }), none)!.enosys).toBeDefined();
  });

  test.each([
    ['allow', { defaultAction: 'SCMP_ACT_ALLOW' }],
    ['log', { defaultAction: 'SCMP_ACT_LOG' }],
    ['trace', { defaultAction: 'SCMP_ACT_TRACE' }],
    ['trace with an errno', { defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 1 }],
    ['ENOSYS already the default', { defaultErrnoRet: 38 }],
  ])('none: %s', (_what, over) => {
    expect(planSeccomp(profile(over), none)!.enosys).toBeUndefined();
  });

  test('the native architecture is always stubbed, as every filter has it (runc 1.1.15, 1.2): also without architectures', () => {
    const here = nativeSeccompArch();
    expect(here).toBeDefined();
    for (const architectures of [[], undefined]) {
      expect(planSeccomp(profile({ architectures }), none)!.enosys).toEqual({ architectures: [here], syscalls: ['read', 'clone3', 'futex_waitv'] });
    }
    const errno = SCMP_ACT.ERRNO | 1;
    expect(planEnosys(errno, [], ['read'], 'aarch64')).toEqual({ architectures: ['aarch64'], syscalls: ['read'] });
    // Listed or not, once: after those the profile lists.
    expect(planEnosys(errno, ['x32'], ['read'], 'x86_64')).toEqual({ architectures: ['x32', 'x86_64'], syscalls: ['read'] });
    expect(planEnosys(errno, ['x86_64', 'x32'], ['read'], 'x86_64')).toEqual({ architectures: ['x86_64', 'x32'], syscalls: ['read'] });
    // An architecture tsrun cannot name: the profile's alone, none without them.
    expect(planEnosys(errno, [], ['read'], null)).toBeUndefined();
  });

  test("Node's architecture names become libseccomp's", () => {
    expect(nativeSeccompArch('x64')).toBe('x86_64');
    expect(nativeSeccompArch('arm64')).toBe('aarch64');
    expect(nativeSeccompArch('ppc64', true)).toBe('ppc64le');
    expect(nativeSeccompArch('ppc64', false)).toBe('ppc64');
    expect(nativeSeccompArch('loong64')).toBeUndefined();
  });

  test('its answer is SCMP_ACT_ERRNO(ENOSYS)', () => {
    expect(RET_ERRNO_ENOSYS).toBe((SCMP_ACT.ERRNO | 38) >>> 0);
    expect(RET_ERRNO_ENOSYS).toBe(0x00050026);
  });
});
