// Side effects of seccomp around the pure planner (src/linux/seccomp.ts): compile the
// planned filter into BPF through the addon (libseccomp, loaded at run time), and give
// a notify fd the init hands over to the listener the config names.
import { ConfigError, SyscallError, TsrunError } from '../errors';
import { planSeccomp, SCMP_ACT, SECCOMP_ARCHES, type SeccompPlan, type SeccompProgram } from '../linux/seccomp';
import type * as Enosys from '../linux/seccomp-enosys';
import { log } from '../log';
import { native } from '../native';
import { cachedLibseccompOutput, type LibseccompOutput } from './seccomp-cache';

// Loaded by a profile that gets the stub: its tables are young garbage to every other
// create, run and exec (plan-encoding.ts says why that matters).
const loadEnosys = (): typeof Enosys => require('../linux/seccomp-enosys');

/** Debian's libseccomp2: present on every Debian system, needed only when seccomp is asked for. */
export const LIBSECCOMP_SONAME = 'libseccomp.so.2';

/**
 * A container's linux.seccomp planned for this caller and kernel (undefined without
 * one): create plans it, and exec again for every exec'd process, the same way.
 */
export function planContainerSeccomp(config: unknown, unprivileged: boolean): SeccompPlan | undefined {
  return planSeccomp(config, (m) => log.warn(m), { unprivileged, kernelTakes: (flag) => native().seccompFilterFlagsSupported(flag) });
}

/**
 * The plan's BPF program. With `cacheRoot` (the --root of create and exec), what
 * libseccomp makes of the filter is kept there and taken again for the same filter
 * (src/lifecycle/seccomp-cache.ts).
 */
export function compileSeccomp(plan: SeccompPlan, warn: (message: string) => void, soname = LIBSECCOMP_SONAME, cacheRoot?: string): SeccompProgram {
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
  const build = (): LibseccompOutput => ({
    ...native().seccompCompile(filter, soname),
    highest: enosys ? native().seccompHighestSyscalls(enosys.architectures, enosys.syscalls, soname) : [],
  });
  let result: LibseccompOutput;
  try {
    result = cacheRoot === undefined
      ? build()
      : cachedLibseccompOutput(cacheRoot, { filter, enosys: enosys ?? null, soname }, native().seccompLibrary(soname), build);
  } catch (e) {
    const err = e as Error & { code?: string; syscall?: string };
    if (err.code === 'ELIBSECCOMP') throw new TsrunError(err.message);
    if (err.code === 'EARCH') throw new ConfigError('linux.seccomp.architectures', err.message);
    if (err.syscall) throw new SyscallError(err.syscall, err.code ?? '', `seccomp: ${err.message}`);
    throw e;
  }
  // Debug, as runc logs it: Docker's and podman's profiles name syscalls newer than
  // many a libseccomp, and a warning each would fill every foreground run's stderr.
  for (const name of result.unknownSyscalls) log.debug(`seccomp: syscall "${name}" is unknown to libseccomp ${result.version}: rule ignored`);
  if (!plan.enosys) return { program: result.bpf, flags: plan.flags, listenerHandover: plan.listenerHandover };
  // runc's ENOSYS stub goes first: it answers calls newer than the profile before
  // libseccomp's program would give them the default action.
  const arches = plan.enosys.architectures;
  const { BPF_MAXINSNS, enosysStub } = loadEnosys();
  const stub = enosysStub(arches.map((arch, i) => ({ arch, nr: result.highest[i] ?? -1 })), warn);
  const program = stub.length === 0 ? result.bpf : Buffer.concat([stub, result.bpf]);
  if (program.length / 8 > BPF_MAXINSNS) {
    throw new ConfigError('linux.seccomp', `the filter is ${program.length / 8} BPF instructions with its ENOSYS stub; the kernel takes at most ${BPF_MAXINSNS}`);
  }
  return { program, flags: plan.flags, listenerHandover: plan.listenerHandover };
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
export function forwardSeccompListener(listener: { syncFd: number; pid: number; fd: number | undefined }, plan: SeccompPlan, state: ListenerState): void {
  const nat = native();
  // A number: the fd in that process (`pidfd` handover); none: a packet carrying it follows.
  const fd = listener.fd !== undefined ? nat.pidfdGetFd(listener.pid, listener.fd) : nat.syncRecvFd(listener.syncFd, 'seccomp listener fd');
  try {
    if (!plan.listenerPath) throw new TsrunError('seccomp: the init sent a notify fd but no listenerPath is configured');
    const message = {
      ociVersion: state.ociVersion,
      fds: ['seccompFd'],
      pid: state.pid,
      metadata: plan.listenerMetadata,
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
      nat.seccompSendToListener(plan.listenerPath, JSON.stringify(message), fd);
    } catch (e) {
      const err = e as Error & { code?: string; syscall?: string };
      // runc's words for an agent that is not there, which callers' tests look for.
      const what = err.syscall === 'connect' || err.syscall === 'socket' ? 'failed to connect with seccomp agent at' : 'seccomp listener';
      throw new SyscallError(err.syscall ?? 'connect', err.code ?? '', `${what} ${plan.listenerPath}: ${err.message}`);
    }
  } finally {
    nat.closeFd(fd);
  }
}
