// Side effects of seccomp around the pure planner (src/linux/seccomp.ts): compile the
// planned filter into BPF through the addon (libseccomp, loaded at run time), and give
// a notify fd the init hands over to the listener the config names.
import { ConfigError, SyscallError, TsrunError } from '../errors';
import { defaultFlagsAsked, planSeccomp, SCMP_ACT, SECCOMP_ARCHES, SECCOMP_FILTER_FLAG, type SeccompPlan, type SeccompProgram } from '../linux/seccomp';
import type * as Enosys from '../linux/seccomp-enosys';
import { log } from '../log';
import { native } from '../native';
import { buildIdentity } from './build-identity';
import { cachedCompiledProfile, type CompiledProfile, type LibseccompIdentity } from './seccomp-cache';

// Loaded by a profile that gets the stub: its tables are young garbage to every other
// create, run and exec (plan-encoding.ts says why that matters).
const loadEnosys = (): typeof Enosys => require('../linux/seccomp-enosys');

/** Debian's libseccomp2: present on every Debian system, needed only when seccomp is asked for. */
export const LIBSECCOMP_SONAME = 'libseccomp.so.2';

/** Where the notify fd of a profile with SCMP_ACT_NOTIFY rules goes (forwardSeccompListener). */
export interface SeccompListener {
  listenerPath?: string;
  listenerMetadata: string;
}

/** A container's linux.seccomp as a process gets it. */
export interface ContainerSeccomp {
  program: SeccompProgram;
  listener: SeccompListener;
}

/**
 * A container's linux.seccomp planned for this caller and kernel and compiled
 * (undefined without one): create does it, and exec again for every exec'd process,
 * the same way. With `cacheRoot` (the --root), the compiled profile is kept there and
 * taken again for the same profile, planner and all (src/lifecycle/seccomp-cache.ts).
 */
export function containerSeccomp(profile: unknown, unprivileged: boolean, cacheRoot?: string, soname = LIBSECCOMP_SONAME): ContainerSeccomp | undefined {
  if (profile === undefined || profile === null) return undefined;
  const nat = native();
  // The kernel is asked what the planner would ask it, before planning: the answer is
  // part of what a kept entry was made from. A probe that fails is reported where
  // the planner asks, after the profile's own errors, and nothing is kept.
  const specAllow = SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_SPEC_ALLOW!;
  let takesSpecAllow: boolean | Error;
  try {
    takesSpecAllow = defaultFlagsAsked(profile) && nat.seccompFilterFlagsSupported(specAllow);
  } catch (e) {
    takesSpecAllow = e as Error;
  }
  const build = (): CompiledProfile => {
    const warnings: string[] = [];
    const warn = (message: string): void => void warnings.push(message);
    const kernelTakes = (flag: number): boolean => {
      if (flag !== specAllow) return nat.seccompFilterFlagsSupported(flag);
      if (takesSpecAllow instanceof Error) throw takesSpecAllow;
      return takesSpecAllow;
    };
    try {
      // Not undefined: there is a profile.
      const plan = planSeccomp(profile, warn, { unprivileged, kernelTakes })!;
      return { ...compileSeccomp(plan, warn, soname), warnings };
    } catch (e) {
      // What was said before the error (the stub's warnings before its size check).
      for (const message of warnings) log.warn(message);
      throw e;
    }
  };
  let library: LibseccompIdentity | undefined;
  try {
    if (cacheRoot !== undefined) library = nat.seccompLibrary(soname);
  } catch {
    // No library: the build says so, after any error of the profile itself.
  }
  // Kept only where the library's file, the kernel's answer and this build of tsrun
  // can all be told: an entry is taken again only by the same.
  let compiled: CompiledProfile | undefined;
  if (cacheRoot !== undefined && library !== undefined && typeof takesSpecAllow === 'boolean') {
    const code = buildIdentity();
    if (code !== undefined) compiled = cachedCompiledProfile(cacheRoot, { profile, unprivileged, takesSpecAllow, soname, code }, library, build);
  }
  compiled ??= build();
  // Debug, as runc logs it: Docker's and podman's profiles name syscalls newer than
  // many a libseccomp, and a warning each would fill every foreground run's stderr.
  for (const name of compiled.unknownSyscalls) log.debug(`seccomp: syscall "${name}" is unknown to libseccomp ${compiled.version}: rule ignored`);
  for (const message of compiled.warnings) log.warn(message);
  const { program, flags, listenerHandover, listenerPath, listenerMetadata } = compiled;
  return { program: { program, flags, listenerHandover }, listener: { ...(listenerPath !== undefined ? { listenerPath } : {}), listenerMetadata } };
}

/** The plan's BPF program, built by libseccomp, with runc's ENOSYS stub first when the plan asks for one. */
export function compileSeccomp(plan: SeccompPlan, warn: (message: string) => void, soname = LIBSECCOMP_SONAME): Omit<CompiledProfile, 'warnings'> {
  const filter = {
    defaultAction: plan.filter.defaultAction,
    architectures: plan.filter.architectures,
    rules: plan.filter.rules.map((r) => ({
      syscall: r.syscall,
      action: r.action,
      conditions: r.conditions.map((c) => ({ arg: c.arg, op: c.op, a: c.a.toString(), b: c.b.toString() })),
    })),
  };
  const enosys = plan.enosys;
  let built: { bpf: Buffer; unknownSyscalls: string[]; version: string };
  let highest: number[] = [];
  try {
    built = native().seccompCompile(filter, soname);
    if (enosys) highest = native().seccompHighestSyscalls(enosys.architectures, enosys.syscalls, soname);
  } catch (e) {
    const err = e as Error & { code?: string; syscall?: string };
    if (err.code === 'ELIBSECCOMP') throw new TsrunError(err.message);
    if (err.code === 'EARCH') throw new ConfigError('linux.seccomp.architectures', err.message);
    if (err.syscall) throw new SyscallError(err.syscall, err.code ?? '', `seccomp: ${err.message}`);
    throw e;
  }
  const compiled = {
    program: built.bpf,
    flags: plan.flags,
    listenerHandover: plan.listenerHandover,
    ...(plan.listenerPath !== undefined ? { listenerPath: plan.listenerPath } : {}),
    listenerMetadata: plan.listenerMetadata,
    unknownSyscalls: built.unknownSyscalls,
    version: built.version,
  };
  if (!enosys) return compiled;
  // runc's ENOSYS stub goes first: it answers calls newer than the profile before
  // libseccomp's program would give them the default action.
  const arches = enosys.architectures;
  const { BPF_MAXINSNS, enosysStub } = loadEnosys();
  const stub = enosysStub(arches.map((arch, i) => ({ arch, nr: highest[i] ?? -1 })), warn);
  const program = stub.length === 0 ? built.bpf : Buffer.concat([stub, built.bpf]);
  if (program.length / 8 > BPF_MAXINSNS) {
    throw new ConfigError('linux.seccomp', `the filter is ${program.length / 8} BPF instructions with its ENOSYS stub; the kernel takes at most ${BPF_MAXINSNS}`);
  }
  return { ...compiled, program };
}

/** What the installed libseccomp offers, for `features`. */
export interface SeccompLibrary {
  /** The spec's names of the architectures a filter can be built for. */
  archs: string[];
  /** libseccomp's version, or undefined when it cannot be loaded. */
  version?: string;
}

/**
 * Asks the library itself: an empty filter is built for each architecture the
 * planner names, beside the native one as in a container's filter, and those it
 * refuses are left out: ones it does not know (libseccomp 2.5 has no loongarch64,
 * m68k or sh) and those of the other byte order, which no filter here can mix with
 * the native one. Without the library, no architecture works.
 */
export function probeSeccompLibrary(soname = LIBSECCOMP_SONAME): SeccompLibrary {
  const archs: string[] = [];
  let version: string | undefined;
  for (const [specName, libName] of Object.entries(SECCOMP_ARCHES)) {
    try {
      version = native().seccompCompile({ defaultAction: SCMP_ACT.ALLOW, architectures: [libName], rules: [] }, soname).version;
      archs.push(specName);
    } catch (e) {
      const { code, syscall } = e as { code?: string; syscall?: string };
      if (code === 'ELIBSECCOMP') return { archs: [] };
      // Unknown to the library (EARCH), or refused beside the native one: left out.
      // Anything else is a real failure.
      if (code !== 'EARCH' && syscall !== 'seccomp_arch_add') throw e;
    }
  }
  return { archs: archs.sort(), version };
}

/** The container process state of the runtime spec ("listenerPath"), sent with the fd. */
export interface ListenerState {
  ociVersion: string;
  id: string;
  /** The process the filter is for: the container's own, or an exec'd one. */
  pid: number;
  /** The container's state: `creating` with its own process, `running` for an exec'd one (runc's). */
  status: 'creating' | 'running';
  /** The pid of the container (its init) in that state. */
  containerPid: number;
  bundle: string;
  annotations: Record<string, string>;
}

/**
 * Called when the init says `seccomp listener [<fd>]`: copy that fd out of the process
 * that loaded the filter (pidfd_getfd, as runc takes it), or receive it in the packet
 * that follows, send it with the state to the listener, close our copy. Throws (and
 * the init is aborted) when the listener cannot be reached.
 */
export function forwardSeccompListener(listener: { syncFd: number; pid: number; fd: number | undefined }, target: SeccompListener, state: ListenerState): void {
  const nat = native();
  // A number: the fd in that process (`pidfd` handover); none: a packet carrying it follows.
  const fd = listener.fd !== undefined ? nat.pidfdGetFd(listener.pid, listener.fd) : nat.syncRecvFd(listener.syncFd, 'seccomp listener fd');
  try {
    if (!target.listenerPath) throw new TsrunError('seccomp: the init sent a notify fd but no listenerPath is configured');
    const message = {
      ociVersion: state.ociVersion,
      fds: ['seccompFd'],
      pid: state.pid,
      metadata: target.listenerMetadata,
      state: {
        ociVersion: state.ociVersion,
        id: state.id,
        status: state.status,
        pid: state.containerPid,
        bundle: state.bundle,
        annotations: state.annotations,
      },
    };
    try {
      nat.seccompSendToListener(target.listenerPath, JSON.stringify(message), fd);
    } catch (e) {
      const err = e as Error & { code?: string; syscall?: string };
      // runc's words for an agent that is not there, which callers' tests look for.
      const what = err.syscall === 'connect' || err.syscall === 'socket' ? 'failed to connect with seccomp agent at' : 'seccomp listener';
      throw new SyscallError(err.syscall ?? 'connect', err.code ?? '', `${what} ${target.listenerPath}: ${err.message}`);
    }
  } finally {
    nat.closeFd(fd);
  }
}
