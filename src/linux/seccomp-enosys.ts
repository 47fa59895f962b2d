// The ENOSYS stub runc 1.1 puts in front of a seccomp filter
// (libcontainer/seccomp/patchbpf): a syscall numbered above the highest one the
// profile names on its architecture fails with ENOSYS instead of the default
// action. A profile written before a syscall existed then reads to the program as
// an older kernel, and libc falls back (glibc tries clone3, faccessat2 or
// close_range and uses the old call on ENOSYS; EPERM would be a hard failure).
//
// The planner (planEnosys in seccomp.ts) decides whether a profile gets the stub;
// this module writes it: classic BPF over struct seccomp_data, placed before
// libseccomp's program, whose own architecture checks then apply to whatever the
// stub lets through. Pure: the highest number per architecture comes from
// libseccomp through the addon.
import { ConfigError } from '../errors';
import { RET_ERRNO_ENOSYS, SECCOMP_ARCHES } from './seccomp';

// AUDIT_ARCH_* (linux/audit.h), by libseccomp name: what seccomp_data.arch holds. x32
// shares x86_64's and is told apart by a bit of the syscall number.
const EM = { I386: 3, MIPS: 8, PARISC: 15, PPC: 20, PPC64: 21, S390: 22, ARM: 40, SH: 42, X86_64: 62, AARCH64: 183, RISCV: 243, LOONGARCH: 258, M68K: 4 };
const BIT64 = 0x80000000;
const LE = 0x40000000;
const MIPS64_N32 = 0x20000000;
const audit = (...parts: number[]): number => parts.reduce((a, b) => (a | b) >>> 0, 0);
export const AUDIT_ARCH: Readonly<Record<string, number>> = {
  x86: audit(EM.I386, LE),
  x86_64: audit(EM.X86_64, BIT64, LE),
  x32: audit(EM.X86_64, BIT64, LE),
  arm: audit(EM.ARM, LE),
  aarch64: audit(EM.AARCH64, BIT64, LE),
  mips: audit(EM.MIPS),
  mips64: audit(EM.MIPS, BIT64),
  mips64n32: audit(EM.MIPS, BIT64, MIPS64_N32),
  mipsel: audit(EM.MIPS, LE),
  mipsel64: audit(EM.MIPS, BIT64, LE),
  mipsel64n32: audit(EM.MIPS, BIT64, LE, MIPS64_N32),
  ppc: audit(EM.PPC),
  ppc64: audit(EM.PPC64, BIT64),
  ppc64le: audit(EM.PPC64, BIT64, LE),
  s390: audit(EM.S390),
  s390x: audit(EM.S390, BIT64),
  parisc: audit(EM.PARISC),
  parisc64: audit(EM.PARISC, BIT64),
  riscv64: audit(EM.RISCV, BIT64, LE),
  loongarch64: audit(EM.LOONGARCH, BIT64, LE),
  m68k: audit(EM.M68K),
  sh: audit(EM.SH, LE),
  sheb: audit(EM.SH),
};

/** __X32_SYSCALL_BIT: an x32 call is an x86_64 one with this bit in its number. */
export const X32_SYSCALL_BIT = 0x40000000;

// Classic BPF (linux/filter.h) and struct seccomp_data offsets.
export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
/** BPF_MAXINSNS: the kernel refuses a longer filter. */
export const BPF_MAXINSNS = 4096;

/** The filter is in the host's byte order (told without loading Node's `os` on create's path). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const FILTER = 'filter';
const ENOSYS_LABEL = 'enosys';
const NEXT = 'next';

interface Insn {
  code: number;
  k: number;
  /** Where a conditional jump goes when true / false (labels; NEXT: the next one). */
  jt?: string;
  jf?: string;
  /** The target of an unconditional jump. */
  to?: string;
  label?: string;
}

/** The highest syscall number a profile names on one architecture (-1: none). */
export interface HighestSyscall {
  /** libseccomp name */
  arch: string;
  nr: number;
}

/** The spec's name of a libseccomp architecture name, for messages. */
function specName(arch: string): string {
  return Object.keys(SECCOMP_ARCHES).find((k) => SECCOMP_ARCHES[k] === arch) ?? arch;
}

/**
 * The stub for these architectures, as struct sock_filter[] in the host's byte order,
 * to be put before libseccomp's program; empty when no architecture has a bound.
 * Like runc, an architecture whose highest number is 0 or none gets no bound (a
 * warning says so): the profile names nothing there to measure new calls against.
 */
export function enosysStub(highest: readonly HighestSyscall[], warn: (message: string) => void, littleEndian = HOST_LITTLE_ENDIAN): Buffer {
  // One section per seccomp_data.arch value; x86_64 and x32 share one.
  const groups = new Map<number, Map<string, number>>();
  for (const { arch, nr } of highest) {
    const auditArch = AUDIT_ARCH[arch];
    if (auditArch === undefined) throw new ConfigError('linux.seccomp.architectures', `no AUDIT_ARCH is known for ${specName(arch)}`);
    if (nr <= 0) {
      warn(`seccomp: the profile names no syscall numbered above 0 on ${specName(arch)}: no ENOSYS stub for it`);
      continue;
    }
    const group = groups.get(auditArch) ?? new Map<string, number>();
    group.set(arch, nr);
    groups.set(auditArch, group);
  }
  if (groups.size === 0) return Buffer.alloc(0);

  const ld = (offset: number, label?: string): Insn => ({ code: BPF.LD_W_ABS, k: offset, label });
  const above = (nr: number, label?: string): Insn => ({ code: BPF.JMP_JGT_K, k: nr >>> 0, jt: ENOSYS_LABEL, jf: FILTER, label });
  const insns: Insn[] = [ld(SECCOMP_DATA_ARCH)];
  for (const auditArch of groups.keys()) insns.push({ code: BPF.JMP_JEQ_K, k: auditArch, jt: `arch-${auditArch}`, jf: NEXT });
  // Any other architecture: libseccomp's program decides.
  insns.push({ code: BPF.JMP_JA, k: 0, to: FILTER });
  for (const [auditArch, group] of groups) {
    insns.push(ld(SECCOMP_DATA_NR, `arch-${auditArch}`));
    const native = group.get('x86_64');
    const x32 = group.get('x32');
    if (native !== undefined && x32 !== undefined) {
      insns.push({ code: BPF.JMP_JSET_K, k: X32_SYSCALL_BIT, jt: 'x32', jf: NEXT }, above(native), above(x32, 'x32'));
    } else if (native !== undefined) {
      // x32 calls are not bounded by x86_64's numbers: the filter decides.
      insns.push({ code: BPF.JMP_JSET_K, k: X32_SYSCALL_BIT, jt: FILTER, jf: NEXT }, above(native));
    } else if (x32 !== undefined) {
      insns.push({ code: BPF.JMP_JSET_K, k: X32_SYSCALL_BIT, jt: NEXT, jf: FILTER }, above(x32));
    } else {
      const [[arch, nr]] = [...group] as [[string, number]];
      // On s390, a call the kernel does not know keeps number 0 (setup, multiplexing
      // calls past the old table): unknown means ENOSYS there too.
      if (arch === 's390' || arch === 's390x') insns.push({ code: BPF.JMP_JEQ_K, k: 0, jt: ENOSYS_LABEL, jf: NEXT });
      insns.push(above(nr));
    }
  }
  insns.push({ code: BPF.RET_K, k: RET_ERRNO_ENOSYS, label: ENOSYS_LABEL });
  return assemble(insns, littleEndian);
}

/** Resolves labels (FILTER: right after the stub) and writes struct sock_filter[]. */
function assemble(insns: readonly Insn[], littleEndian: boolean): Buffer {
  const at = new Map<string, number>([[FILTER, insns.length]]);
  insns.forEach((insn, i) => insn.label && at.set(insn.label, i));
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined || label === NEXT) return 0;
    const to = at.get(label);
    if (to === undefined || to <= from) throw new Error(`internal: ENOSYS stub jumps to ${label}, which does not follow`);
    return to - from - 1;
  };
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    const jt = offset(i, insn.jt);
    const jf = offset(i, insn.jf);
    // Conditional jumps reach 255 instructions; a stub of 23 architectures is ~120.
    if (jt > 255 || jf > 255) throw new Error('internal: ENOSYS stub too long for its jumps');
    const k = insn.to !== undefined ? offset(i, insn.to) : insn.k;
    if (littleEndian) {
      out.writeUInt16LE(insn.code, i * 8);
      out.writeUInt32LE(k >>> 0, i * 8 + 4);
    } else {
      out.writeUInt16BE(insn.code, i * 8);
      out.writeUInt32BE(k >>> 0, i * 8 + 4);
    }
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
  });
  return out;
}
