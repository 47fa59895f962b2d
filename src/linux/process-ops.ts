// The operations that turn the init into the spec's `process`: limits, cwd, umask,
// no_new_privs, environment, credentials and the executable lookup. Shared by the
// create planner (the container's init process) and the exec planner (a process
// joining a running container): both must apply a process spec the same way.
import type { IdMapping, MemoryPolicy, Process } from '../config/types';
import { ConfigError } from '../errors';
import { oneEntryPerName } from '../config/environment';
import { capabilityMasks } from './capabilities';
import { hostIdOf } from './id-mappings';
import { op, type PlanOp } from './plan-encoding';
import { planMemoryPolicy } from './memory-policy';
import { RLIMITS } from './rlimits';
import { NO_LSM, planExecLabels, planIoPriority, planPersonality, planScheduler, type IoPriority, type LsmFacts, type Personality, type Scheduler } from './process-attrs';
import { SECCOMP_FILTER_FLAG, type SeccompProgram } from './seccomp';

export interface ProcessOpsInput {
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  warn: (message: string) => void;
  /**
   * The umask when process.user.umask is unset: 0022 for the container's init (runc's
   * init sets it); absent for an exec'd process, which keeps its caller's, as the
   * spec says of an unset umask and runc's exec does.
   */
  defaultUmask?: number;
  /** LSMs enabled on the host; absent: none. */
  lsm?: LsmFacts;
  /** linux.personality (the container's init only). */
  personality?: Personality;
  /** linux.seccomp, compiled: see seccompPlacement for where it loads. */
  seccomp?: SeccompProgram;
  /** linux.memoryPolicy: the container's, for its init and every exec'd process. */
  memoryPolicy?: MemoryPolicy;
  /** tsrun runs unprivileged (rootless): the process keeps the caller's supplementary groups. */
  unprivilegedParent?: boolean;
  /**
   * The mappings of the container's own user namespace, where its config gives them:
   * process.user must be mapped there (checked here, in runc's words, rather than by
   * the init's setgid failing with a bare EINVAL).
   */
  idMappings?: { uid: readonly IdMapping[]; gid: readonly IdMapping[] };
}

export function seccompOp(seccomp: SeccompProgram | undefined): PlanOp | undefined {
  return seccomp ? op('seccomp', seccomp.flags, seccomp.program.toString('hex'), seccomp.listenerHandover ?? 'sendmsg') : undefined;
}

/**
 * process.oomScoreAdj, for an init to write first, with the host's /proc and tsrun's
 * privileges, before it enters any namespace of the container: lowering the score
 * needs CAP_SYS_RESOURCE, which a process in a user namespace of its own lacks, and
 * inside one the non-dumpable init could not open its own file (the host root's then).
 * Forks inherit it. An unprivileged user may write the file only while the init is
 * dumpable: for that one write, still outside the container, as runc's nsexec writes
 * it before it turns non-dumpable.
 */
/**
 * A foreground run or exec in a user namespace of the container's: the init could not
 * hand its stdio pipes to the process's user from inside (fchown: a pipe of the host's
 * root is owned by no uid of the namespace, EPERM), and the process could not reopen
 * /dev/stdout (runc's pipes are chowned to the user's host uid): done first, with the
 * host's ids, like the score. The user's uid as the host sees it (its uidMappings);
 * nothing when unmapped.
 */
export function stdioOwnerOnHostOps(hostUid: number | undefined): PlanOp[] {
  return hostUid === undefined ? [] : [op('stdioOwner', hostUid)];
}

export function oomScoreAdjOps(score: number | undefined, unprivilegedParent: boolean | undefined): PlanOp[] {
  if (score === undefined) return [];
  return unprivilegedParent ? [op('dumpable'), op('oomScoreAdj', score), op('nonDumpable')] : [op('oomScoreAdj', score)];
}

/**
 * Where the filter loads. Without no_new_privs loading needs CAP_SYS_ADMIN: before
 * the credentials drop it (runc's order; the init's later syscalls must then pass
 * the filter, as in runc). With no_new_privs as late as possible: right before exec,
 * or before `ready` when a notify fd must travel over the sync socket.
 */
export function seccompPlacement(seccomp: SeccompProgram | undefined, noNewPrivileges: boolean | undefined): 'beforeCredentials' | 'beforeReady' | 'beforeExec' | undefined {
  if (!seccomp) return undefined;
  if (!noNewPrivileges) return 'beforeCredentials';
  if ((seccomp.flags & SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_NEW_LISTENER!) !== 0) return 'beforeReady';
  return 'beforeExec';
}

export function planProcessOps(proc: Process | undefined, input: ProcessOpsInput): PlanOp[] {
  if (!proc) throw new ConfigError('process', 'is required to create a container');
  if (!proc.args || proc.args.length === 0) throw new ConfigError('process.args', 'must name the program to run');
  checkIds(proc.user, input.idMappings);
  const ops: PlanOp[] = [];
  for (const [i, limit] of (proc.rlimits ?? []).entries()) {
    const resource = RLIMITS[limit.type];
    if (resource === undefined) throw new ConfigError(`process.rlimits[${i}].type`, `unknown rlimit "${limit.type}"`);
    if (limit.soft > limit.hard) throw new ConfigError(`process.rlimits[${i}]`, `soft limit ${limit.soft} is above hard limit ${limit.hard}`);
    ops.push(op('rlimit', resource, BigInt(limit.soft), BigInt(limit.hard)));
  }
  // Written now, applied by the kernel at the execve.
  ops.push(...planExecLabels(proc, input.lsm ?? NO_LSM));
  // Before the credentials: a real-time policy or a lower nice needs CAP_SYS_NICE.
  ops.push(...planPersonality(input.personality));
  ops.push(...planIoPriority(proc.ioPriority as IoPriority | undefined));
  ops.push(...planScheduler(proc.scheduler as Scheduler | undefined));
  // Before a seccomp profile loads (it may not allow set_mempolicy).
  ops.push(...planMemoryPolicy(input.memoryPolicy));
  ops.push(op('chdir', proc.cwd));
  const umask = proc.user.umask ?? input.defaultUmask;
  if (umask !== undefined) ops.push(op('umask', umask));
  if (proc.noNewPrivileges) ops.push(op('noNewPrivs'));
  const caps = capabilityMasks(proc.capabilities, input.lastCap, input.warn);
  ops.push(op('env', ...oneEntryPerName(proc.env ?? [])), op('defaultHome', proc.user.uid));
  if (seccompPlacement(input.seccomp, proc.noNewPrivileges) === 'beforeCredentials') ops.push(seccompOp(input.seccomp) as PlanOp);
  // runc's rule: the user can reopen its own stdio (/dev/stdout), except /dev/null.
  ops.push(op('stdioOwner', proc.user.uid));
  // Rootless, as with runc: the caller's supplementary groups stay (setgroups, which
  // newgidmap may leave allowed, could drop a group that denies access: CVE-2018-7169),
  // and none can be added.
  if (input.unprivilegedParent) {
    if (proc.user.additionalGids?.length) throw new ConfigError('process.user.additionalGids', 'cannot set any additional groups in a rootless container');
    ops.push(op('keepGroups'));
  }
  ops.push(
    op('credentials', proc.user.uid, proc.user.gid, caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient,
      // Each once, as runc sets them (the kernel would list a repeated one twice).
      ...new Set(proc.user.additionalGids ?? [])),
  );
  // Resolved as the container's user, with its capabilities, inside its root: what
  // exec will see, so a missing program fails before the process is reported started.
  ops.push(op('resolveExec', proc.args[0] as string));
  return ops;
}

/** runc's range, and the kernel's: uid_t -1 is no id (the set*id calls read it as "unchanged" or refuse it). */
const MAX_ID = 0x7fffffff;

function checkIds(user: Process['user'], idMappings: ProcessOpsInput['idMappings']): void {
  const ids: Array<[string, number]> = [['process.user.uid', user.uid], ['process.user.gid', user.gid]];
  for (const [i, gid] of (user.additionalGids ?? []).entries()) ids.push([`process.user.additionalGids[${i}]`, gid]);
  for (const [field, id] of ids) {
    if (id > MAX_ID) throw new ConfigError(field, `${id}: uids and gids must be in range 0-${MAX_ID}`);
  }
  // Where the config gives no mappings, the lifecycle has refused it already.
  if (idMappings?.uid.length && hostIdOf(idMappings.uid, user.uid) === undefined) throw new ConfigError('process.user.uid', `${user.uid}: cannot set uid to unmapped user in user namespace`);
  if (idMappings?.gid.length && hostIdOf(idMappings.gid, user.gid) === undefined) throw new ConfigError('process.user.gid', `${user.gid}: cannot set gid to unmapped user in user namespace`);
}

/** Where the pty of process.terminal goes: its socket fd in the init, and whether tsrun relays it itself (a foreground run -t or exec -t). */
export interface ConsoleTarget {
  fd: number;
  relayedByTsrun: boolean;
  /**
   * The size of the caller's terminal that tsrun relays the pty to: it wins over
   * process.consoleSize, as runc resizes a relayed pty to the caller's terminal once
   * the process runs (so the process never sees another size first).
   */
  relaySize?: { height: number; width: number };
}

/**
 * The pty of process.terminal, made inside the container (after the pivot or the
 * mount-namespace join, so on its devpts instance) before the credentials change.
 * The container's own process also gets it on /dev/console (runc's rule: what
 * writes to the console reaches the caller's terminal); an exec'd process does not.
 * A pty tsrun relays has no "\n" to "\r\n" translation (runc clears ONLCR on the
 * one it relays); a caller's console socket gets it as the kernel makes it.
 */
export function consoleOp(target: ConsoleTarget, proc: Process | undefined, where: 'container' | 'exec'): PlanOp {
  // runc resizes only to a size with both sides set: {height: 30, width: 0} leaves 0x0.
  const size = target.relaySize ?? proc?.consoleSize;
  const sized = size !== undefined && size.height > 0 && size.width > 0;
  return op('console', target.fd, sized ? size.height : 0, sized ? size.width : 0, where === 'container' ? 1 : 0, target.relayedByTsrun ? 1 : 0);
}

/**
 * The process's session: with a terminal, the console op makes one whose controlling
 * terminal is the pty; without, a session with none (never the caller's terminal).
 */
export function sessionOp(target: ConsoleTarget | undefined, proc: Process | undefined, where: 'container' | 'exec'): PlanOp {
  return target === undefined ? op('newSession') : consoleOp(target, proc, where);
}

/**
 * --pidfd-socket: the process sends a pidfd of itself there, where runc's does (after
 * its terminal, before the credentials change), named as runc names it.
 */
export function pidfdSocketOps(socketFd: number | undefined, where: 'container' | 'exec'): PlanOp[] {
  return socketFd === undefined ? [] : [op('pidfdSocket', socketFd, where === 'container' ? 'standard' : 'setns')];
}
