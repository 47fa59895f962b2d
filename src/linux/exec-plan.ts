// The exec planner: a process spec + the namespaces of a running container -> the
// plan that makes the init join them and become that process (addon/PROTOCOL.md).
// Pure, like the create planner: which namespaces exist and where their files are
// opened is decided by the lifecycle and handed in.
import type { MemoryPolicy, NamespaceType, Process } from '../config/types';
import { ConfigError } from '../errors';
import type * as CpuList from '../config/cpu-list';
import { CLONE_FLAGS, JOIN_ORDER, ownedOutsideUserFirst } from './namespaces';
import { op, type PlanOp } from './plan-encoding';
import { oomScoreAdjOps, pidfdSocketOps, planProcessOps, seccompOp, seccompPlacement, sessionOp, stdioOwnerOnHostOps, type ConsoleTarget, type ProcessOpsInput } from './process-ops';
import { NO_LSM, planKeyLabel, RESET_CPU_AFFINITY, type LsmFacts, type Personality } from './process-attrs';
import type { SeccompProgram } from './seccomp';
import { joinSessionKeyringOp } from './keyring';
import { cgroupJoinOps, NO_CGROUP_JOIN, type CgroupJoin } from './cgroup-join';

export interface ExecPlanInput {
  proc: Process;
  /**
   * The container's namespaces to join, each as a path the init can open (the
   * lifecycle opens /proc/<init>/ns/<type> itself and passes /proc/self/fd/<n>, so
   * every file is opened before the first setns changes what the init may open).
   */
  namespaces: Partial<Record<NamespaceType, string>>;
  /**
   * Of those, the ones neither the container's user namespace nor a descendant of
   * it owns (a network namespace the host's root made, say): joined before the user
   * namespace with tsrun's privileges, since from inside it the kernel refuses them
   * (runc 1.2 joins them first too); mount stays last (ownedOutsideUserFirst).
   */
  ownedOutsideUser?: ReadonlySet<NamespaceType>;
  preserveFds: number;
  /** Number of extra fds handed to the init (see PROTOCOL.md). */
  extraFds: number;
  lastCap: number;
  warn: (message: string) => void;
  /** process.terminal: the console socket (its fd number in the init). */
  console?: ConsoleTarget;
  /** --pidfd-socket: fd number (in the init) of the socket. */
  pidfdSocketFd?: number;
  /** The container's linux.seccomp, compiled: an exec'd process is filtered like the init. */
  seccomp?: SeccompProgram;
  /** LSMs enabled on the host; absent: none. */
  lsm?: LsmFacts;
  /** The container's session keyring, joined by name; absent: created with --no-new-keyring. */
  sessionKeyring?: string;
  /** How the init gets into the container's cgroups (planCgroupJoin); absent: none to join. */
  cgroupJoin?: CgroupJoin;
  /** The container's linux.memoryPolicy: an exec'd process allocates as the init does. */
  memoryPolicy?: MemoryPolicy;
  /** The mappings of the container's own user namespace (see ProcessOpsInput); absent: none given. */
  idMappings?: ProcessOpsInput['idMappings'];
  /** The container's linux.personality: an exec'd process runs in the same execution domain (runc 1.2). */
  personality?: Personality;
  /**
   * The container's process.oomScoreAdj. runc 1.1.5 gives it to every exec'd process
   * (its nsexec writes the container's value), whatever the exec's own process says.
   */
  oomScoreAdj?: number;
  /** tsrun runs unprivileged (rootless): see the oomScoreAdj op below. */
  unprivilegedParent?: boolean;
  /**
   * A foreground exec without a terminal into a user namespace of the container's: the
   * exec'd process's uid as the host sees it (stdioOwnerOnHostOps); absent otherwise
   * or when unmapped.
   */
  hostUid?: number;
}

/**
 * process.execCPUAffinity as `cpuAffinity` ops: `initial` before the process enters
 * the container's cgroups, `final` after (config.md: without a `final` the affinity
 * after the move is the kernel's). With neither, the process gets every CPU its
 * cpuset allows (RESET_CPU_AFFINITY), not tsrun's own affinity.
 */
export function execCpuAffinityOps(proc: Process): { initial: PlanOp[]; final: PlanOp[] } {
  const affinity = proc.execCPUAffinity ?? {};
  const given = (key: 'initial' | 'final'): boolean => (affinity[key] ?? '').trim() !== '';
  if (!given('initial') && !given('final')) return { initial: [], final: [RESET_CPU_AFFINITY] };
  const ops = (key: 'initial' | 'final'): PlanOp[] => {
    const text = affinity[key];
    if (text === undefined || !given(key)) return [];
    // Required here, not at the top: the parser lives in the bundle part of the cgroup
    // drivers (delete needs it), which an exec without affinity should not load (3 ms).
    const { parseCpuList } = require('../config/cpu-list') as typeof CpuList;
    const cpus = parseCpuList(text, `process.execCPUAffinity.${key}`);
    return [op('cpuAffinity', cpus.join(','))];
  };
  return { initial: ops('initial'), final: ops('final') };
}

export function buildExecPlan(input: ExecPlanInput): PlanOp[] {
  const { proc } = input;
  if (!proc.args || proc.args.length === 0) throw new ConfigError('process.args', 'process args cannot be empty');
  if (!proc.cwd || !proc.cwd.startsWith('/')) throw new ConfigError('process.cwd', 'must be an absolute path');
  const affinity = execCpuAffinityOps(proc);

  // Into the container's cgroups before it joins anything or runs a single
  // instruction of the user's program (the parent's part at `sync start`).
  const cgroups = input.cgroupJoin ?? NO_CGROUP_JOIN;
  const ops: PlanOp[] = [op('fds', input.preserveFds, input.extraFds)];
  // First, outside the container (process-ops.ts): the container's score, and a
  // foreground exec's stdio pipes in a user namespace.
  ops.push(...oomScoreAdjOps(input.oomScoreAdj, input.unprivilegedParent), ...stdioOwnerOnHostOps(input.hostUid));
  const forks = input.namespaces.pid !== undefined || cgroups.forkInto;
  ops.push(...affinity.initial, ...cgroupJoinOps(cgroups, forks));
  if (cgroups.parentDirs.length > 0) ops.push(op('sync', 'start'));
  // User first (it grants the capabilities the other joins need), but after the
  // namespaces it does not own (ownedOutsideUser), mount last (the
  // root and cwd become the container's), and all of them but a cgroup namespace
  // before the fork into the pid namespace (and the v2 cgroup): the process must
  // never show in the container with the host's root, cwd and mounts, which a
  // container process could reach through /proc/<pid>/root or read in its mountinfo
  // (runc's exec joins them all before its child appears too). The namespaces are fds
  // (the init takes /proc/self/fd/N as the fd), so no path depends on the mount
  // namespace joined. A cgroup namespace waits for the fork (nsdelegate: clone3
  // refuses a target outside the caller's cgroup namespace).
  const late: ReadonlySet<string> = cgroups.forkInto ? new Set(['cgroup']) : new Set();
  const setns = (type: NamespaceType): void => {
    const path = input.namespaces[type];
    if (path === undefined) return;
    ops.push(op('setns', CLONE_FLAGS[type], path));
    // The container's root at once, as create's init is and runc's exec is: else the
    // init stays the host's uid 0, unmapped there, until its credentials op, and what
    // it makes meanwhile (the pty of exec -t) belongs to no one in the container.
    if (type === 'user') ops.push(op('becomeRoot'));
  };
  const early = JOIN_ORDER.filter((type) => !late.has(type)).map((type) => ({ type }));
  ownedOutsideUserFirst(early, input.ownedOutsideUser).forEach(({ type }) => setns(type));
  // setns into a pid namespace only applies to children.
  if (forks) ops.push(op('fork'));
  JOIN_ORDER.filter((type) => late.has(type)).forEach(setns);
  if (input.sessionKeyring !== undefined) {
    ops.push(...planKeyLabel(proc.selinuxLabel, input.lsm ?? NO_LSM), joinSessionKeyringOp(input.sessionKeyring));
  }
  // In the container's cgroups by now (v1: joined above or at the fork; v2: born there at the fork).
  ops.push(...affinity.final);
  if (proc.terminal && input.console === undefined) throw new ConfigError('process.terminal', 'a terminal needs a console socket');
  ops.push(sessionOp(proc.terminal ? input.console : undefined, proc, 'exec'), ...pidfdSocketOps(input.pidfdSocketFd, 'exec'));
  const seccompAt = seccompPlacement(input.seccomp, proc.noNewPrivileges);
  // The process's own oomScoreAdj is not applied (the container's is, above).
  ops.push(...planProcessOps(proc, { lastCap: input.lastCap, warn: input.warn, lsm: input.lsm, seccomp: input.seccomp, memoryPolicy: input.memoryPolicy, personality: input.personality, unprivilegedParent: input.unprivilegedParent, idMappings: input.idMappings }));
  // With no_new_privs, right before exec, also with a notify listener: the sync
  // socket its fd travels over stays open until the execve here (create closes its
  // own at `ready`, and must load such a filter before).
  if (seccompAt === 'beforeExec' || seccompAt === 'beforeReady') ops.push(seccompOp(input.seccomp) as PlanOp);
  // No closeSync: exec marks the sync socket close-on-exec, so the parent sees EOF
  // exactly when execve succeeded, or the error when it failed.
  ops.push(op('exec', ...proc.args));
  return ops;
}
