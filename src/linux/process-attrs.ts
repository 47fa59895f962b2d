// Planners for the process attributes set with one syscall each in the init:
// linux.personality (personality(2)), process.ioPriority (ioprio_set(2)) and
// process.scheduler (sched_setattr(2)); and the LSM fields, which need the host's
// LSM. Pure: facts about the host come in as arguments.
import { ConfigError, NotSupportedError } from '../errors';
import { op, type PlanOp } from './plan-encoding';

/** personality(2) domains (linux/personality.h). */
const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };

const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04, SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

export interface Personality {
  domain: string;
  flags?: string[];
}

export function planPersonality(personality: Personality | undefined): PlanOp[] {
  if (!personality) return [];
  const domain = PERSONALITY_DOMAINS[personality.domain];
  if (domain === undefined) throw new ConfigError('linux.personality.domain', `unknown personality domain "${personality.domain}"`);
  // The spec defines no flag values yet; one we cannot name must not be dropped silently.
  if ((personality.flags ?? []).length > 0) throw new NotSupportedError('linux.personality.flags');
  return [op('personality', domain)];
}

/**
 * Every CPU the process's cpuset allows, once it is in the container's cgroups: a
 * container must not inherit the affinity of the tsrun that made it (a containerd or
 * kubelet pinned to a few housekeeping CPUs would pin every container with it), and a
 * cpuset join does not undo it (recent kernels keep an affinity a process asked for).
 * Newer runc resets it the same way; 1.1.5 does not.
 */
export const RESET_CPU_AFFINITY: PlanOp = op('cpuAffinity', 'all');

export interface IoPriority {
  class: string;
  /** Absent: 0, as runc reads it (the spec's schema does not require it). */
  priority?: number;
}

export function planIoPriority(io: IoPriority | undefined): PlanOp[] {
  if (!io) return [];
  const cls = IOPRIO_CLASSES[io.class];
  if (cls === undefined) throw new ConfigError('process.ioPriority.class', `unknown I/O priority class "${io.class}"`);
  const priority = io.priority ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) {
    throw new ConfigError('process.ioPriority.priority', `${priority} is not a priority level (0-7)`);
  }
  // IOPRIO_PRIO_VALUE(class, data): the class sits above 13 bits of data.
  return [op('ioPriority', (cls << 13) | priority)];
}

export interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: number | bigint;
  deadline?: number | bigint;
  period?: number | bigint;
}

export function planScheduler(s: Scheduler | undefined): PlanOp[] {
  if (!s) return [];
  const policy = SCHED_POLICIES[s.policy];
  if (policy === undefined) throw new ConfigError('process.scheduler.policy', `unknown scheduling policy "${s.policy}"`);
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    const v = SCHED_FLAGS[f];
    if (v === undefined) throw new ConfigError(`process.scheduler.flags[${i}]`, `unknown scheduler flag "${f}"`);
    flags |= v;
  });
  const nice = s.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new ConfigError('process.scheduler.nice', `${nice} is not a nice value (-20 to 19)`);
  const priority = s.priority ?? 0;
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (realtime ? priority < 1 || priority > 99 : priority !== 0) {
    throw new ConfigError('process.scheduler.priority', realtime ? `${priority} is not a real-time priority (1-99)` : `must be 0 for ${s.policy}`);
  }
  const u64 = (v: number | bigint | undefined) => BigInt(v ?? 0);
  if (s.policy === 'SCHED_DEADLINE') {
    const [runtime, deadline, period] = [u64(s.runtime), u64(s.deadline), u64(s.period) || u64(s.deadline)];
    if (!(runtime > 0n && runtime <= deadline && deadline <= period)) {
      throw new ConfigError('process.scheduler', 'SCHED_DEADLINE needs 0 < runtime <= deadline <= period');
    }
  }
  return [op('scheduler', policy, flags, nice, priority, u64(s.runtime), u64(s.deadline), u64(s.period))];
}

/** Which LSMs the host has enabled (lifecycle reads /sys/kernel/security/lsm and friends). */
export interface LsmFacts {
  apparmor: boolean;
  selinux: boolean;
}

export const NO_LSM: LsmFacts = { apparmor: false, selinux: false };

/** linux.mountLabel needs SELinux on the host, whichever mounts it ends up on. */
export function checkMountLabel(mountLabel: string | undefined, lsm: LsmFacts): void {
  if (mountLabel) requireSelinux('linux.mountLabel', lsm);
}

function requireSelinux(field: string, lsm: LsmFacts): void {
  if (!lsm.selinux) throw new ConfigError(field, 'selinux label is specified in config, but selinux is disabled or not supported');
}

/**
 * The labels the process takes at its execve. Where the host lacks the LSM, say so
 * the way runc does: a profile that cannot apply is an error, never a silent no-op.
 */
export function planExecLabels(proc: { apparmorProfile?: string; selinuxLabel?: string }, lsm: LsmFacts): PlanOp[] {
  const ops: PlanOp[] = [];
  if (proc.apparmorProfile) {
    if (!lsm.apparmor) throw new ConfigError('process.apparmorProfile', 'apparmor profile is specified in config, but apparmor is disabled or not supported');
    ops.push(op('execLabel', 'apparmor', proc.apparmorProfile));
  }
  if (proc.selinuxLabel) {
    requireSelinux('process.selinuxLabel', lsm);
    ops.push(op('execLabel', 'selinux', proc.selinuxLabel));
  }
  return ops;
}

/** runc labels the session keyring with the process's SELinux label: set before it is made. */
export function planKeyLabel(selinuxLabel: string | undefined, lsm: LsmFacts): PlanOp[] {
  if (!selinuxLabel) return [];
  requireSelinux('process.selinuxLabel', lsm);
  return [op('keyLabel', selinuxLabel)];
}

/** Filesystems whose mounts get linux.mountLabel as their context (runc's choice: not proc, sysfs, mqueue, binds). */
const UNLABELLED_FSTYPES = new Set(['proc', 'sysfs', 'mqueue']);

/** Mount data with the SELinux context of linux.mountLabel added, for the mounts runc labels. */
export function labelMountData(data: string, fstype: string, mountLabel: string | undefined, lsm: LsmFacts): string {
  if (!mountLabel || UNLABELLED_FSTYPES.has(fstype)) return data;
  checkMountLabel(mountLabel, lsm);
  const context = `context="${mountLabel}"`;
  return data ? `${data},${context}` : context;
}
