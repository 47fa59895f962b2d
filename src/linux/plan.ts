// The create planner: config.json (validated) + facts about the host -> the ordered
// list of operations the init executes (addon/PROTOCOL.md). Pure: it reads no file
// and makes no system call, so every decision here is unit-tested without root.
import * as path from 'path';
import type { Mount, Spec } from '../config/types';
import { ConfigError } from '../errors';
import { capabilityMasks } from './capabilities';
import { DEFAULT_DEVICES, DEFAULT_DEV_LINKS } from './devices';
import { MS, parseMountOptions, rootPropagationFlags } from './mount-options';
import { CLONE_FLAGS, planNamespaces } from './namespaces';
import { op, type PlanOp } from './plan-encoding';
import { RLIMITS } from './rlimits';
import { checkLsmFields, planIoPriority, planPersonality, planScheduler, type IoPriority, type LsmFacts, type Personality, type Scheduler } from './process-attrs';
import { SECCOMP_FILTER_FLAG, type SeccompProgram } from './seccomp';
import { checkSysctl } from './sysctl';

export interface HostFacts {
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  /** Cgroup hierarchies as the container should see them: name -> host dir of its cgroup. */
  cgroupDirs: Record<string, string>;
  /** True when the host uses the unified (v2) layout only. */
  cgroupV2: boolean;
  /** LSMs enabled on the host; absent: none. */
  lsm?: LsmFacts;
}

export interface CreatePlanInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  noPivot: boolean;
  preserveFds: number;
  /** Number of extra fds handed to the init (see PROTOCOL.md). */
  extraFds: number;
  /** fd number of the exec FIFO inside the init. */
  fifoFd: number;
  host: HostFacts;
  warn: (message: string) => void;
  /** linux.seccomp, compiled (src/lifecycle/seccomp.ts); the planner decides where it loads. */
  seccomp?: SeccompProgram;
}

const SETUP_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** Where a mount lands, relative to the rootfs (the init resolves it inside the root). */
function inRoot(destination: string): string {
  return destination.replace(/^\/+/, '') || '.';
}

function isBind(mount: Mount, flags: number): boolean {
  return mount.type === 'bind' || (flags & MS.BIND) !== 0;
}

function planMounts(input: CreatePlanInput): { ops: PlanOp[]; afterPivot: PlanOp[] } {
  const { spec, bundle, host } = input;
  const ops: PlanOp[] = [];
  const afterPivot: PlanOp[] = [];
  (spec.mounts ?? []).forEach((mount, i) => {
    const field = `mounts[${i}]`;
    if (mount.uidMappings || mount.gidMappings) throw new ConfigError(`${field}.uidMappings`, 'not supported yet');
    const { flags, propagation, data } = parseMountOptions(mount.options, `${field}.options`);
    const dest = inRoot(mount.destination);
    if (mount.type === 'cgroup' || mount.type === 'cgroup2') {
      // runc 1.1 leaves the tmpfs under the hierarchies writable; only the binds are ro.
      ops.push(...planCgroupMount(dest, flags, host));
      return;
    }
    if (isBind(mount, flags)) {
      if (!mount.source) throw new ConfigError(`${field}.source`, 'is required for a bind mount');
      const source = path.resolve(bundle, mount.source);
      ops.push(op('mount', source, dest, '', flags | MS.BIND, propagation, ''));
      return;
    }
    if (mount.type === 'tmpfs' && flags & MS.RDONLY) {
      // Like runc: a read-only tmpfs is mounted writable and made read-only per mount
      // after the pivot, so its superblock stays rw.
      ops.push(op('mount', mount.source ?? 'tmpfs', dest, 'tmpfs', flags & ~MS.RDONLY, propagation, data));
      afterPivot.push(op('remountReadonly', '/' + dest));
      return;
    }
    ops.push(op('mount', mount.source ?? mount.type ?? 'none', dest, mount.type ?? '', flags, propagation, data));
  });
  return { ops, afterPivot };
}

/**
 * cgroup v1 cannot be mounted as one filesystem: like runc, give the container a
 * tmpfs with one bind mount per hierarchy of its own cgroup directory. On a pure v2
 * host its unified directory is bound directly.
 */
function planCgroupMount(dest: string, flags: number, host: HostFacts): PlanOp[] {
  const bindFlags = MS.BIND | MS.REC | (flags & (SETUP_FLAGS | MS.RELATIME | MS.NOATIME | MS.STRICTATIME));
  if (host.cgroupV2) {
    const dir = host.cgroupDirs['unified'] ?? Object.values(host.cgroupDirs)[0];
    return dir ? [op('mount', dir, dest, '', bindFlags, 0, '')] : [];
  }
  const ops = [op('mount', 'tmpfs', dest, 'tmpfs', flags & ~MS.RDONLY, 0, 'mode=755')];
  // Like runc on a hybrid host, the container sees the v1 hierarchies only, in the
  // host's mount order.
  for (const [name, dir] of Object.entries(host.cgroupDirs)) {
    if (name !== 'unified') ops.push(op('mount', dir, `${dest}/${name}`, '', bindFlags, 0, ''));
  }
  return ops;
}

/** /dev is set up by tsrun unless the config bind-mounts one from elsewhere (runc's rule). */
function setsUpDev(spec: Spec): boolean {
  return !(spec.mounts ?? []).some((m) => inRoot(m.destination) === 'dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}

function planDevices(input: CreatePlanInput, inUserNs: boolean): PlanOp[] {
  const { spec } = input;
  const ops: PlanOp[] = [];
  const devices = [...(setsUpDev(spec) ? DEFAULT_DEVICES : []), ...(spec.linux?.devices ?? [])];
  for (const dev of devices) {
    const dest = inRoot(dev.path);
    if (inUserNs) {
      // mknod is not allowed in a user namespace: bind the host's node instead.
      ops.push(op('bindDevice', dest, dev.path));
      continue;
    }
    if ((dev.type === 'c' || dev.type === 'b' || dev.type === 'u') && (dev.major === undefined || dev.minor === undefined)) {
      throw new ConfigError(`linux.devices "${dev.path}"`, 'major and minor are required for a c, b or u device');
    }
    ops.push(op('mknod', dest, dev.type, dev.major ?? 0, dev.minor ?? 0, dev.fileMode ?? 0o666, dev.uid ?? 0, dev.gid ?? 0));
  }
  if (setsUpDev(spec)) for (const [target, link] of DEFAULT_DEV_LINKS) ops.push(op('symlink', target, inRoot(link)));
  return ops;
}

function planProcess(input: CreatePlanInput): PlanOp[] {
  const { spec, warn, host } = input;
  const proc = spec.process;
  if (!proc) throw new ConfigError('process', 'is required to create a container');
  if (!proc.args || proc.args.length === 0) throw new ConfigError('process.args', 'must name the program to run');
  const ops: PlanOp[] = [];
  for (const [i, limit] of (proc.rlimits ?? []).entries()) {
    const resource = RLIMITS[limit.type];
    if (resource === undefined) throw new ConfigError(`process.rlimits[${i}].type`, `unknown rlimit "${limit.type}"`);
    if (limit.soft > limit.hard) throw new ConfigError(`process.rlimits[${i}]`, `soft limit ${limit.soft} is above hard limit ${limit.hard}`);
    ops.push(op('rlimit', resource, BigInt(limit.soft), BigInt(limit.hard)));
  }
  if (proc.oomScoreAdj !== undefined) ops.push(op('oomScoreAdj', proc.oomScoreAdj));
  checkLsmFields({ apparmorProfile: proc.apparmorProfile, selinuxLabel: proc.selinuxLabel, mountLabel: spec.linux?.mountLabel },
    host.lsm ?? { apparmor: false, selinux: false });
  // Before the credentials: a real-time policy or a lower nice needs CAP_SYS_NICE.
  ops.push(...planPersonality(spec.linux?.personality as Personality | undefined));
  ops.push(...planIoPriority(proc.ioPriority as IoPriority | undefined));
  ops.push(...planScheduler(proc.scheduler as Scheduler | undefined));
  ops.push(op('chdir', proc.cwd));
  ops.push(op('umask', proc.user.umask ?? 0o022));
  if (proc.noNewPrivileges) ops.push(op('noNewPrivs'));
  const caps = capabilityMasks(proc.capabilities, host.lastCap, warn);
  ops.push(op('env', ...(proc.env ?? [])), op('defaultHome', proc.user.uid));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the
  // credentials drop capabilities (runc's order). The init's later syscalls must then
  // pass the filter, as in runc.
  const seccomp = seccompOp(input.seccomp);
  if (seccomp && !proc.noNewPrivileges) ops.push(seccomp);
  ops.push(
    op('credentials', proc.user.uid, proc.user.gid, caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient,
      ...(proc.user.additionalGids ?? [])),
  );
  // Resolved as the container's user, with its capabilities, inside its root: what
  // exec will see, so a missing program fails `create`, not `start`.
  ops.push(op('resolveExec', proc.args[0] as string));
  return ops;
}

function seccompOp(seccomp: SeccompProgram | undefined): PlanOp | undefined {
  return seccomp ? op('seccomp', seccomp.flags, seccomp.program.toString('hex')) : undefined;
}

/** With no_new_privs the filter loads as late as possible: right before exec. */
function lateSeccomp(input: CreatePlanInput): { beforeReady?: PlanOp; beforeExec?: PlanOp } {
  const seccomp = seccompOp(input.seccomp);
  if (!seccomp || !input.spec.process?.noNewPrivileges) return {};
  // A notify fd travels to tsrun over the sync socket, which closes at `ready`.
  if ((input.seccomp!.flags & SECCOMP_FILTER_FLAG.SECCOMP_FILTER_FLAG_NEW_LISTENER!) !== 0) return { beforeReady: seccomp };
  return { beforeExec: seccomp };
}

export function buildCreatePlan(input: CreatePlanInput): PlanOp[] {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const ns = planNamespaces(linux.namespaces);
  if (!ns.has('mount')) throw new ConfigError('linux.namespaces', 'a mount namespace is required');
  if (spec.hostname && !ns.has('uts')) throw new ConfigError('hostname', 'unable to set hostname without a private UTS namespace');
  if (spec.domainname && !ns.has('uts')) throw new ConfigError('domainname', 'unable to set domainname without a private UTS namespace');

  const ops: PlanOp[] = [op('fds', input.preserveFds, input.extraFds), op('sync', 'start')];
  for (const join of ns.joins) ops.push(op('setns', CLONE_FLAGS[join.type], join.path as string));
  const inUserNs = ns.has('user');
  if (ns.newUser) ops.push(op('unshare', CLONE_FLAGS.user), op('sync', 'usermap'));
  if (inUserNs) ops.push(op('becomeRoot'));
  if (ns.unshareFlags) ops.push(op('unshare', ns.unshareFlags));
  if (ns.needsFork) ops.push(op('fork'));

  const mounts = planMounts(input);
  ops.push(op('propagation', rootPropagationFlags(linux.rootfsPropagation)), op('rootfs', input.rootfs));
  ops.push(...mounts.ops, ...planDevices(input, inUserNs));
  ops.push(input.noPivot ? op('chrootNoPivot') : op('pivotRoot'));
  ops.push(...mounts.afterPivot);
  for (const p of linux.readonlyPaths ?? []) ops.push(op('readonlyPath', p));
  for (const p of linux.maskedPaths ?? []) ops.push(op('maskPath', p));
  if (spec.root?.readonly) ops.push(op('remountReadonly', '/'));
  if (spec.hostname) ops.push(op('hostname', spec.hostname));
  if (spec.domainname) ops.push(op('domainname', spec.domainname));
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    checkSysctl(key, ns);
    ops.push(op('sysctl', key, value));
  }

  ops.push(...planProcess(input));
  const late = lateSeccomp(input);
  if (late.beforeReady) ops.push(late.beforeReady);
  ops.push(op('notify', 'ready'), op('closeSync'), op('waitFifo', input.fifoFd));
  if (late.beforeExec) ops.push(late.beforeExec);
  ops.push(op('exec', ...(spec.process?.args ?? [])));
  return ops;
}
