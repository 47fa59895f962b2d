// The seccomp planner: linux.seccomp of config.json -> a filter description the
// addon turns into BPF with libseccomp, plus the seccomp(2) flags and the place in
// the plan where the init loads it. Pure: names are validated and mapped here,
// syscall names are resolved by libseccomp (it knows every architecture's table).
import { ConfigError } from '../errors';

/** libseccomp's action values (seccomp.h, SCMP_ACT_*); the low 16 bits carry data. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** enum scmp_compare of libseccomp. */
export const SCMP_CMP: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** seccomp(2) SECCOMP_FILTER_FLAG_* */
export const SECCOMP_FILTER_FLAG: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_NEW_LISTENER: 8,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/** The spec's architecture names -> libseccomp's (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
};

const EPERM = 1;
const ENOSYS = 38;
/** SCMP_ACT_ERRNO(ENOSYS): also the answer of the ENOSYS stub (SECCOMP_RET_ERRNO | ENOSYS). */
export const RET_ERRNO_ENOSYS = (SCMP_ACT.ERRNO | ENOSYS) >>> 0;

export interface SeccompCondition {
  /** Argument index, 0..5. */
  arg: number;
  /** enum scmp_compare */
  op: number;
  a: bigint;
  b: bigint;
}

export interface SeccompRule {
  syscall: string;
  action: number;
  /** All must match (AND); empty: the syscall always matches. */
  conditions: SeccompCondition[];
}

/** What the addon builds with libseccomp and exports as BPF. */
export interface SeccompFilter {
  defaultAction: number;
  /** libseccomp names of the architectures besides the native one. */
  architectures: string[];
  rules: SeccompRule[];
}

/**
 * runc's ENOSYS stub (src/linux/seccomp-enosys.ts writes it): what bounds it. Absent
 * when the profile gets none.
 */
export interface EnosysPlan {
  /** libseccomp names of linux.seccomp.architectures, as listed. */
  architectures: string[];
  /** Every name of every rule, whatever its action (runc counts them all). */
  syscalls: string[];
}

export interface SeccompPlan {
  filter: SeccompFilter;
  enosys?: EnosysPlan;
  /** seccomp(2) flags the init loads the program with. */
  flags: number;
  /** The filter has NOTIFY rules: the init gets a listener fd and the parent sends it here. */
  listenerPath?: string;
  listenerMetadata: string;
  /** How the init hands the listener fd over (ListenerHandover). */
  listenerHandover: ListenerHandover;
}

/**
 * `pidfd`: the init names the fd and tsrun copies it (pidfd_getfd), as runc does; the
 * init makes no sendmsg, so a rule may NOTIFY it. `sendmsg`: the init sends the fd,
 * for an unprivileged tsrun, which may not reach into an init that turned
 * non-dumpable (an exec'd process whose uid changed); NOTIFY on sendmsg is refused then.
 */
export type ListenerHandover = 'pidfd' | 'sendmsg';

/** A compiled filter as the plan carries it to the init's `seccomp` op. */
export interface SeccompProgram {
  /** Raw BPF (struct sock_filter[]), as seccomp_export_bpf wrote it. */
  program: Buffer;
  flags: number;
  /** For the `seccomp` op (absent: `sendmsg`). */
  listenerHandover?: ListenerHandover;
}

/** linux.seccomp as the spec defines it (the schema has checked the shapes). */
interface SeccompConfig {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: {
    names: string[];
    action: string;
    errnoRet?: number;
    args?: { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }[];
  }[];
}

// The syscalls the init itself makes after loading a filter to hand the listener fd
// to tsrun: notifying one would wait for a listener that can never get the fd. As
// runc's, the init writes the fd's number and tsrun copies the fd (pidfd_getfd);
// the fd itself goes by sendmsg only from an unprivileged tsrun (ListenerHandover).
const NOTIFY_REFUSED: Record<ListenerHandover, readonly string[]> = { pidfd: ['write'], sendmsg: ['write', 'sendmsg'] };

/**
 * The action's value. `errnoField` names where its errnoRet came from: the spec says a
 * runtime MUST fail on an errnoRet given to an action that returns no errno (runc 1.1
 * ignores it), so a profile never does less than its author believes.
 */
function action(name: string, errnoRet: number | undefined, field: string, errnoField: string): number {
  const ret = (fallback: number): number => {
    const value = errnoRet ?? fallback;
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new ConfigError(field, `errnoRet ${value} is out of range (0-65535)`);
    return value;
  };
  if (errnoRet !== undefined && name !== 'SCMP_ACT_ERRNO' && name !== 'SCMP_ACT_TRACE') {
    throw new ConfigError(errnoField, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not ${name}`);
  }
  switch (name) {
    case 'SCMP_ACT_ALLOW':
      return SCMP_ACT.ALLOW;
    case 'SCMP_ACT_ERRNO':
      return (SCMP_ACT.ERRNO | ret(EPERM)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (SCMP_ACT.TRACE | ret(EPERM)) >>> 0;
    // SCMP_ACT_KILL is libseccomp's old name of KILL_THREAD.
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SCMP_ACT.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SCMP_ACT.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SCMP_ACT.TRAP;
    case 'SCMP_ACT_LOG':
      return SCMP_ACT.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SCMP_ACT.NOTIFY;
    default:
      throw new ConfigError(field, `unknown seccomp action "${name}"`);
  }
}

function toBigInt(value: number | bigint | undefined, field: string): bigint {
  if (value === undefined) return 0n;
  const v = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value) : NaN;
  if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new ConfigError(field, `${String(value)} is not a 64-bit unsigned value`);
  return v;
}

function conditionsOf(call: NonNullable<SeccompConfig['syscalls']>[number], field: string): SeccompCondition[][] {
  const conditions = (call.args ?? []).map((arg, j) => {
    const f = `${field}.args[${j}]`;
    const op = SCMP_CMP[arg.op];
    if (op === undefined) throw new ConfigError(`${f}.op`, `unknown seccomp operator "${arg.op}"`);
    if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) throw new ConfigError(`${f}.index`, `${arg.index} is not a syscall argument index (0-5)`);
    // libseccomp's MASKED_EQ takes (mask, value); the spec's `value` is the mask and
    // `valueTwo` the value it must equal after masking, as runc passes them.
    return { arg: arg.index, op, a: toBigInt(arg.value, `${f}.value`), b: toBigInt(arg.valueTwo, `${f}.valueTwo`) };
  });
  if (conditions.length === 0) return [[]];
  // libseccomp refuses two comparisons of one argument in one rule. Like runc, such a
  // list becomes one rule per condition: the syscall matches when any of them does.
  const perArg = new Set(conditions.map((c) => c.arg));
  if (perArg.size < conditions.length) return conditions.map((c) => [c]);
  return [conditions];
}

/** What an action is, without the data in its low 16 bits. */
const actionKind = (action: number): number => (action & 0xffff0000) >>> 0;

/** Node's process.arch -> libseccomp's name of the architecture it runs on (the init's too). */
const NODE_ARCHES: Record<string, string> = { x64: 'x86_64', ia32: 'x86', arm64: 'aarch64', arm: 'arm', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsel', mips64el: 'mipsel64' };

/** libseccomp's name of this host's architecture; undefined where tsrun does not know it. */
export function nativeSeccompArch(arch: string = process.arch, littleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1): string | undefined {
  if (arch === 'ppc64') return littleEndian ? 'ppc64le' : 'ppc64';
  return NODE_ARCHES[arch];
}

/**
 * runc's rule for the ENOSYS stub: only when the default action refuses (allow,
 * log and trace hand a call to the kernel or a tracer, which answer ENOSYS
 * themselves), and not when the default is ENOSYS already (the stub would change
 * nothing; runc means to skip it then too). The stub is per architecture: those the
 * profile lists and always the native one, which every filter has (libseccomp's
 * default), as runc 1.1.15 and 1.2 do: a profile without `architectures` (Docker's
 * on some hosts) would otherwise give a newer syscall EPERM, and libc would not try
 * its older one (clone3 -> clone).
 */
export function planEnosys(defaultAction: number, architectures: string[], syscalls: string[], native: string | null = nativeSeccompArch() ?? null): EnosysPlan | undefined {
  const permissive: number[] = [SCMP_ACT.ALLOW, SCMP_ACT.LOG, SCMP_ACT.TRACE];
  if (permissive.includes(actionKind(defaultAction))) return undefined;
  const stubbed = native === null || architectures.includes(native) ? architectures : [...architectures, native];
  if (defaultAction === RET_ERRNO_ENOSYS || stubbed.length === 0) return undefined;
  return { architectures: stubbed, syscalls };
}

/**
 * What the planner is told of its caller: `unprivileged` (tsrun not root: the listener
 * handover by sendmsg), and `kernelTakes`, whether this kernel takes a filter flag
 * (asked only for the default SPEC_ALLOW; without it, none is assumed).
 */
export interface SeccompCaller {
  unprivileged?: boolean;
  kernelTakes?: (flag: number) => boolean;
}

/** Whether the planner chooses the flags of this linux.seccomp (it has no `flags` list), asking the kernel whether it takes SPEC_ALLOW. */
export function defaultFlagsAsked(config: unknown): boolean {
  const flags = (config as SeccompConfig).flags;
  return flags === undefined || flags === null;
}

/** Returns undefined when the config has no seccomp section. */
export function planSeccomp(config: unknown, warn: (message: string) => void, caller: SeccompCaller = {}): SeccompPlan | undefined {
  if (config === undefined || config === null) return undefined;
  const sc = config as SeccompConfig;
  const field = 'linux.seccomp';
  const listenerHandover: ListenerHandover = caller.unprivileged ? 'sendmsg' : 'pidfd';
  if (sc.defaultAction === 'SCMP_ACT_NOTIFY') throw new ConfigError(`${field}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be used as default action');
  const defaultAction = action(sc.defaultAction, sc.defaultErrnoRet, `${field}.defaultAction`, `${field}.defaultErrnoRet`);

  const architectures: string[] = [];
  (sc.architectures ?? []).forEach((arch, i) => {
    const name = SECCOMP_ARCHES[arch];
    if (name === undefined) throw new ConfigError(`${field}.architectures[${i}]`, `unknown seccomp architecture "${arch}"`);
    if (!architectures.includes(name)) architectures.push(name);
  });

  // Without a `flags` list, SPEC_ALLOW where the kernel takes it, as runc 1.2 sets it
  // (after the same probe): a kernel that forces the speculative store bypass
  // mitigation on every seccomp filter (mitigation mode "seccomp", the default before
  // Linux 5.16) would otherwise slow every container down; a profile that wants the
  // mitigation says "flags": [].
  const specAllow = SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_SPEC_ALLOW!;
  let flags = defaultFlagsAsked(sc) && caller.kernelTakes?.(specAllow) ? specAllow : 0;
  (sc.flags ?? []).forEach((flag, i) => {
    const value = SECCOMP_FILTER_FLAG[flag];
    if (value === undefined || flag === 'SECCOMP_FILTER_FLAG_NEW_LISTENER' || flag === 'SECCOMP_FILTER_FLAG_TSYNC_ESRCH') {
      throw new ConfigError(`${field}.flags[${i}]`, `unknown seccomp flag "${flag}"`);
    }
    flags |= value;
  });

  const rules: SeccompRule[] = [];
  const names = new Set<string>();
  let notify = false;
  (sc.syscalls ?? []).forEach((call, i) => {
    const f = `${field}.syscalls[${i}]`;
    for (const name of call.names) names.add(name);
    const act = action(call.action, call.errnoRet, `${f}.action`, `${f}.errnoRet`);
    const groups = conditionsOf(call, f);
    if (call.action === 'SCMP_ACT_NOTIFY') {
      const refused = call.names.find((n) => NOTIFY_REFUSED[listenerHandover].includes(n));
      if (refused) throw new ConfigError(`${f}.names`, `SCMP_ACT_NOTIFY cannot be used for the ${refused} syscall`);
    }
    // libseccomp refuses a rule whose action is the default one; it would change
    // nothing anyway (runc skips it too).
    if (act === defaultAction) return;
    if (call.action === 'SCMP_ACT_NOTIFY') notify = true;
    for (const name of call.names) {
      if (!name) throw new ConfigError(`${f}.names`, 'a syscall name must not be empty');
      for (const conditions of groups) rules.push({ syscall: name, action: act, conditions });
    }
  });

  if (notify) {
    if (!sc.listenerPath) throw new ConfigError(`${field}.listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
    flags |= SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_NEW_LISTENER!;
    // TSYNC and NEW_LISTENER together are refused by the kernel unless TSYNC_ESRCH says
    // how to report a failed sync; the init is single-threaded, so nothing can fail.
    if (flags & SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_TSYNC!) flags |= SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_TSYNC_ESRCH!;
  } else if (flags & SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV!) {
    throw new ConfigError(`${field}.flags`, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY');
  }
  const enosys = planEnosys(defaultAction, architectures, [...names]);
  return {
    filter: { defaultAction, architectures, rules },
    ...(enosys ? { enosys } : {}),
    flags,
    ...(notify ? { listenerPath: sc.listenerPath } : {}),
    listenerMetadata: sc.listenerMetadata ?? '',
    listenerHandover,
  };
}
