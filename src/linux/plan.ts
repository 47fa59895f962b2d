// The create planner: config.json (validated) + facts about the host -> the ordered
// list of operations the init executes (addon/PROTOCOL.md). Pure: it reads no file
// and makes no system call, so every decision here is unit-tested without root.
import * as path from 'path';
import type { Mount, NamespaceType, Spec } from '../config/types';
import { ConfigError } from '../errors';
import { DEFAULT_DEVICES, DEFAULT_DEV_LINKS } from './devices';
import { execCpuAffinityOps } from './exec-plan';
import { BIND_KEPT_SOURCE_FLAGS, MOUNT_ATTR, MS, parseMountOptions, propagationArg, rootPropagationAfterPivot, rootPropagationFlags } from './mount-options';
import { planIdmappedMount } from './idmapped-mounts';
import { hostIdOf } from './id-mappings';
import { CLONE_FLAGS, ownedOutsideUserFirst, ownsNamespace, planNamespaces, type IsHostNamespace } from './namespaces';
import { planNetDevices } from './net-devices';
import { checkProcMount } from './proc-mounts';
import { op, type PlanArg, type PlanOp } from './plan-encoding';
import { oomScoreAdjOps, pidfdSocketOps, planProcessOps, seccompOp, seccompPlacement, sessionOp, stdioOwnerOnHostOps, type ConsoleTarget } from './process-ops';
import { checkMountLabel, labelMountData, NO_LSM, planKeyLabel, RESET_CPU_AFFINITY, type LsmFacts, type Personality } from './process-attrs';
import type { SeccompProgram } from './seccomp';
import { checkSysctl } from './sysctl';
import { sessionKeyringOp } from './keyring';
import { beforePivotHookOps, startContainerHookOps, startStateSyncOps } from './hooks-plan';
import { cgroupJoinOps, joinsAfterFork, NO_CGROUP_JOIN, unshareAfterFork, type CgroupJoin } from './cgroup-join';

export interface HostFacts {
  /** /proc/sys/kernel/cap_last_cap */
  lastCap: number;
  /** Cgroup hierarchies as the container should see them: name -> host dir of its cgroup. */
  cgroupDirs: Record<string, string>;
  /** True when the host uses the unified (v2) layout only. */
  cgroupV2: boolean;
  /** LSMs enabled on the host; absent: none. */
  lsm?: LsmFacts;
  /** Whether a host path is on a procfs (statfs); absent: none is. */
  isProcfs?: (hostPath: string) => boolean;
  /** Whether a namespace path is the runtime's own of its type; absent: none is. */
  isHostNamespace?: IsHostNamespace;
  /**
   * The runtime itself runs in a user namespace (rootless podman's way): the init is
   * in one even when the config asks for none, and mknod is refused there too.
   */
  inUserNs?: boolean;
}

export interface CreatePlanInput {
  spec: Spec;
  bundle: string;
  rootfs: string;
  noPivot: boolean;
  /** Name of the session keyring the container joins (runc's `_ses.<id>`); absent: --no-new-keyring. */
  sessionKeyring?: string;
  preserveFds: number;
  /** Number of extra fds handed to the init (see PROTOCOL.md). */
  extraFds: number;
  /**
   * fd number of the exec FIFO inside the init, where it waits for `start`. Absent:
   * `run`, whose init goes on to the user's process as soon as it is ready.
   */
  fifoFd?: number;
  host: HostFacts;
  warn: (message: string) => void;
  /** process.terminal: the console socket (its fd number in the init); see the `console` op. */
  console?: ConsoleTarget;
  /** --pidfd-socket: fd number (in the init) of the socket; see the `pidfdSocket` op. */
  pidfdSocketFd?: number;
  /** The parent is not root: it needs the init dumpable while it writes the id maps. */
  unprivilegedParent?: boolean;
  /** linux.seccomp, compiled (src/lifecycle/seccomp.ts); the planner decides where it loads. */
  seccomp?: SeccompProgram;
  /** How the init gets into its cgroups (planCgroupJoin); absent: it has none of its own. */
  cgroupJoin?: CgroupJoin;
  /**
   * Namespaces joined by path that neither the user namespace joined by path nor a
   * descendant of it owns (src/lifecycle/namespace-owners.ts): joined before it
   * (ownedOutsideUserFirst).
   */
  ownedOutsideUser?: ReadonlySet<NamespaceType>;
  /**
   * A foreground `run` without a terminal: the init's stdio are pipes (tsrun's, or the
   * caller's anonymous ones) and /dev/null, which a user namespace's process gets as
   * runc gives it its pipes (stdioOwnerOnHostOps). Detached, the caller's own fds are
   * left as runc leaves them there.
   */
  foregroundPipes?: boolean;
}

const SETUP_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;
/** The largest 32-bit value: the init's device numbers, uids and gids are 32 bits. */
const U32_MAX = 0xffffffff;

/** The kernel refuses longer paths (ENAMETOOLONG); say so naming the field, before anything runs. */
const PATH_MAX = 4096;
function checkPathLength(p: string, field: string): void {
  if (Buffer.byteLength(p) >= PATH_MAX) throw new ConfigError(field, `is longer than PATH_MAX (${PATH_MAX} bytes)`);
}

/** Where a mount lands, relative to the rootfs (the init resolves it inside the root). */
function inRoot(destination: string): string {
  return destination.replace(/^\/+/, '') || '.';
}

function isBind(mount: Mount, flags: number): boolean {
  return mount.type === 'bind' || (flags & MS.BIND) !== 0;
}

/**
 * ops: in config order, in the container's mount namespace; idmapUserns: before the
 * init leaves the host's namespaces.
 */
function planMounts(input: CreatePlanInput): { ops: PlanOp[]; afterPivot: PlanOp[]; idmapUserns: PlanOp[]; bindSources: PlanArg[] } {
  const { spec, bundle, host } = input;
  const ops: PlanOp[] = [];
  const afterPivot: PlanOp[] = [];
  const idmapUserns: PlanOp[] = [];
  const bindSources: PlanArg[] = [];
  const namespaces = spec.linux?.namespaces ?? [];
  // With a user namespace (not rootless: a rootless caller's sources are its own),
  // every bind's source is opened, and every id-mapped tree made, by a helper that
  // is still the host's root, in the container's mount namespace, as its mount comes
  // (addon/init/bind-sources.cpp): the container's root may not reach a source by
  // path, nor map one, and a bind or a clone made from that namespace's own copy
  // keeps the kernel's locks on it (the container's root cannot make a read-only
  // source writable, or unmount what the host mounted below it).
  const viaHelper = namespaces.some((n) => n.type === 'user') && namespaces.some((n) => n.type === 'mount' && !n.path) && input.unprivilegedParent !== true;
  const idmapContext = {
    linux: spec.linux,
    joinedUserns: namespaces.find((n) => n.type === 'user' && n.path)?.path,
    joinedMountns: namespaces.some((n) => n.type === 'mount' && n.path),
    unprivileged: input.unprivilegedParent === true,
  };
  const label = (data: string, fstype: string): string => labelMountData(data, fstype, spec.linux?.mountLabel, host.lsm ?? NO_LSM);
  (spec.mounts ?? []).forEach((mount, i) => {
    const field = `mounts[${i}]`;
    checkPathLength(mount.destination, `${field}.destination`);
    if (mount.source !== undefined) checkPathLength(mount.source, `${field}.source`);
    const { flags, propagation: propagationWords, data, copyUp, recursive, idmap, cleared } = parseMountOptions(mount.options);
    const propagation = propagationArg(propagationWords);
    // A mount over the root itself would be stacked under the pivot and never seen (runc
    // fails on it later, unclearly).
    if (path.posix.normalize(`/${mount.destination}`) === '/') throw new ConfigError(`${field}.destination`, 'cannot be the container\'s root "/"');
    // The spec wants it absolute; runc 1.1 takes it below the root with a warning.
    if (!mount.destination.startsWith('/')) input.warn(`${field}.destination ${mount.destination} is not absolute: taken below the container's root (as runc does; the spec requires an absolute path)`);
    const dest = inRoot(mount.destination);
    const source = mount.source === undefined ? '' : path.resolve(bundle, mount.source);
    const cgroup = mount.type === 'cgroup' || mount.type === 'cgroup2';
    checkProcMount({ destination: mount.destination, type: mount.type, bind: !cgroup && isBind(mount, flags), source }, field, host.isProcfs ?? (() => false));
    const idmapped = planIdmappedMount(mount, i, source, idmap, { is: !cgroup && isBind(mount, flags), recursive: (flags & MS.REC) !== 0 }, idmapContext);
    if (idmapped) idmapUserns.push(idmapped.userns);
    // runc's recursive options, once the mount (and any mount under it) is in place.
    const setattr = recursive.set || recursive.clear ? [op('mountSetattr', dest, recursive.set, recursive.clear)] : [];
    if (cgroup) {
      // runc 1.1 leaves the tmpfs under the hierarchies writable; only the binds are ro.
      ops.push(...planCgroupMount(dest, flags, propagation, host, label, mount.type === 'cgroup2'), ...setattr);
      return;
    }
    if (isBind(mount, flags)) {
      if (!mount.source) throw new ConfigError(`${field}.source`, 'is required for a bind mount');
      // A bind mount takes no filesystem data, and runc passes the words it does not
      // know (podman's "z", "U", fstab's "nofail", "x-...") to a kernel that ignores
      // them: so does tsrun, saying so, as a typo ("noexecc") leaves the mount laxer.
      if (data) input.warn(`${field}.options: ${data}: not known, ignored on a bind mount (as runc does)`);
      const extension: string[] = idmapped ? [idmapped.extension] : viaHelper ? [`src=${i}`] : [];
      if (viaHelper) bindSources.push(i, source);
      const kept = BIND_KEPT_SOURCE_FLAGS & ~cleared;
      if (kept !== 0) extension.push(`keep=${kept}`);
      if (idmapped) ops.push(idmapped.tree(viaHelper));
      ops.push(op('mount', source, dest, '', flags | MS.BIND, propagation, '', ...(extension.length > 0 ? [extension.join(',')] : [])), ...setattr);
      return;
    }
    if (mount.type === 'tmpfs') {
      // Like runc: a read-only tmpfs is mounted writable (and so can be filled by
      // tmpcopyup) and made read-only per mount after the pivot, so its superblock stays rw.
      // rro too: mounts nested under it come later in the config.
      const extension = copyUp ? ['copyup'] : [];
      const readonlyBelow = recursive.set & MOUNT_ATTR.RDONLY;
      const now = { set: recursive.set & ~readonlyBelow, clear: recursive.clear };
      ops.push(op('mount', mount.source ?? 'tmpfs', dest, 'tmpfs', flags & ~MS.RDONLY, propagation, label(data, 'tmpfs'), ...extension));
      if (now.set || now.clear) ops.push(op('mountSetattr', dest, now.set, now.clear));
      if (flags & MS.RDONLY) afterPivot.push(op('remountReadonly', '/' + dest));
      if (readonlyBelow) afterPivot.push(op('mountSetattr', dest, readonlyBelow, 0));
      return;
    }
    ops.push(op('mount', mount.source ?? mount.type ?? 'none', dest, mount.type ?? '', flags, propagation, label(data, mount.type ?? '')), ...setattr);
  });
  return { ops, afterPivot, idmapUserns, bindSources };
}

/**
 * cgroup v1 cannot be mounted as one filesystem: like runc, give the container a
 * tmpfs with one bind mount per hierarchy of its own cgroup directory. On a pure v2
 * host, or when the config asks for cgroup2 by type, its unified directory is bound
 * directly: on a hybrid host that is the v2 view runc gives (it mounts cgroup2), kept
 * to the container's own directory as the v1 binds are, where runc without a cgroup
 * namespace shows the host's whole v2 tree.
 */
function planCgroupMount(dest: string, flags: number, propagation: string | number, host: HostFacts, label: (data: string, fstype: string) => string, v2: boolean): PlanOp[] {
  // The mount's propagation words apply to the tmpfs and to each bind, as runc applies them.
  // nosuid, nodev and noexec whatever the config says: nothing there is a program or
  // a device. runc 1.1 adds them to its tmpfs and, with a cgroup namespace, to each
  // hierarchy; without one it binds them with the config's flags alone.
  flags |= MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const bindFlags = MS.BIND | MS.REC | (flags & (SETUP_FLAGS | MS.RELATIME | MS.NOATIME | MS.STRICTATIME));
  if (host.cgroupV2 || (v2 && host.cgroupDirs['unified'])) {
    const dir = host.cgroupDirs['unified'] ?? Object.values(host.cgroupDirs)[0];
    return dir ? [op('mount', dir, dest, '', bindFlags, propagation, '')] : [];
  }
  const ops = [op('mount', 'tmpfs', dest, 'tmpfs', flags & ~MS.RDONLY, propagation, label('mode=755', 'tmpfs'))];
  // Like runc on a hybrid host, the container sees the v1 hierarchies only, in the
  // host's mount order.
  const v1 = Object.entries(host.cgroupDirs).filter(([name]) => name !== 'unified');
  for (const [name, dir] of v1) ops.push(op('mount', dir, `${dest}/${name}`, '', bindFlags, propagation, ''));
  // Co-mounted controllers (systemd's cpu,cpuacct and net_cls,net_prio) are also found
  // by each controller's own name, as on the host: links, as runc makes them.
  for (const [name] of v1) {
    for (const controller of name.includes(',') ? name.split(',') : []) ops.push(op('symlink', name, `${dest}/${controller}`));
  }
  return ops;
}

/** /dev is set up by tsrun unless the config bind-mounts one from elsewhere (runc's rule). */
function setsUpDev(spec: Spec): boolean {
  const isDev = (destination: string): boolean => path.posix.normalize(`/${destination}/`) === '/dev/';
  return !(spec.mounts ?? []).some((m) => isDev(m.destination) && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}

function planDevices(input: CreatePlanInput, inUserNs: boolean): PlanOp[] {
  const { spec } = input;
  // A /dev bound from elsewhere (often the host's own) is left as it is, config
  // devices included, as runc does: a mknod there would replace the nodes of the
  // directory behind the bind, outside the container.
  if (!setsUpDev(spec)) return [];
  const ops: PlanOp[] = [];
  // A config device at a default's path takes its place (runc's rule, as for the
  // default cgroup rules): its node, mode and owner, not the default's. So does a
  // config mount there (docker run -v /dev/urandom:/dev/random), made before.
  const own = spec.linux?.devices ?? [];
  const redefined = new Set([...own.map((d) => d.path), ...(spec.mounts ?? []).map((m) => m.destination)].map((p) => path.posix.normalize(`/${p}`)));
  const devices = [...DEFAULT_DEVICES.filter((d) => !redefined.has(d.path)), ...own];
  for (const dev of devices) {
    const dest = inRoot(dev.path);
    // /dev/ptmx is the link to the container's own devpts (below), as with runc: a
    // node (or, in a user namespace, the host's bound) would stand in its way.
    if (path.posix.normalize(`/${dest}`) === '/dev/ptmx') continue;
    if ((dev.type === 'c' || dev.type === 'b' || dev.type === 'u') && (dev.major === undefined || dev.minor === undefined)) {
      throw new ConfigError(`linux.devices "${dev.path}"`, 'major and minor are required for a c, b or u device');
    }
    // The init takes each as 32 bits (a device number's halves, uid_t, gid_t): a larger
    // one would name another device or owner, and (uid_t)-1 leaves the owner as it is.
    for (const [key, max] of [['major', U32_MAX], ['minor', U32_MAX], ['uid', U32_MAX - 1], ['gid', U32_MAX - 1]] as const) {
      const v = dev[key];
      if (v !== undefined && (v < 0 || v > max)) throw new ConfigError(`linux.devices "${dev.path}"`, `${key} must be between 0 and ${max}, got ${v}`);
    }
    if (inUserNs) {
      // mknod is not allowed in a user namespace: bind the host's node instead, which
      // must be the device the config names.
      ops.push(op('bindDevice', dest, dev.path, dev.type, dev.major ?? 0, dev.minor ?? 0));
      continue;
    }
    ops.push(op('mknod', dest, dev.type, dev.major ?? 0, dev.minor ?? 0, dev.fileMode ?? 0o666, dev.uid ?? 0, dev.gid ?? 0));
  }
  // Not over a mount the config puts there (made before: a mount point cannot be
  // unlinked); a config device at /dev/ptmx is not made (above), so it is replaced.
  const mounted = new Set((spec.mounts ?? []).map((m) => path.posix.normalize(`/${m.destination}`)));
  for (const [target, link, replace] of DEFAULT_DEV_LINKS) ops.push(op('symlink', target, inRoot(link), ...(replace && !mounted.has(link) ? [1] : [])));
  return ops;
}

export function buildCreatePlan(input: CreatePlanInput): PlanOp[] {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const ns = planNamespaces(linux.namespaces);
  const lsm = input.host.lsm ?? NO_LSM;
  checkMountLabel(linux.mountLabel, lsm);
  // The spec lets a container share the runtime's mount namespace; runc then makes the
  // rootfs bind, /proc, /dev... in the host's and leaves them there. Refused instead.
  if (!ns.has('mount')) throw new ConfigError('linux.namespaces', "a mount namespace is required (without one, the container's mounts would be made in the host's)");
  // Mappings only mean something in a user namespace: without one the container
  // would run as the host's root, not as the mapped ids the config asks for.
  if (!ns.has('user')) {
    if (linux.uidMappings?.length) throw new ConfigError('linux.uidMappings', 'user namespace mappings specified, but the user namespace is not enabled');
    if (linux.gidMappings?.length) throw new ConfigError('linux.gidMappings', 'user namespace mappings specified, but the user namespace is not enabled');
  }
  // runc's words. A UTS namespace joined by the runtime's own path is the host's:
  // the name would be the machine's (runc 1.1.5 changes it).
  const ownsUts = ownsNamespace(ns, 'uts', input.host.isHostNamespace ?? (() => false));
  if (spec.hostname && !ownsUts) throw new ConfigError('hostname', 'unable to set hostname without a private UTS namespace');
  if (spec.domainname && !ownsUts) throw new ConfigError('domainname', 'unable to set domainname without a private UTS namespace');
  // The kernel's limit (HOST_NAME_MAX): refused here, naming the field, not by sethostname.
  for (const field of ['hostname', 'domainname'] as const) {
    const name = spec[field];
    if (name && Buffer.byteLength(name) > 64) throw new ConfigError(field, 'is longer than 64 bytes');
  }
  if (spec.process?.args?.[0] !== undefined) checkPathLength(spec.process.args[0], 'process.args[0]');
  // Read at create, as runc 1.2's specconv reads it: a list that cannot be read would
  // otherwise let the container be made and then fail every exec without --process.
  // (A CPU this host lacks is the kernel's to refuse, at the exec.)
  if (spec.process?.execCPUAffinity) execCpuAffinityOps(spec.process);
  (spec.process?.rlimits ?? []).forEach((limit, i) => {
    // The init still opens the exec FIFO after the limits apply (lifting the soft
    // limit up to the hard one): it needs one fd number above stdio and the
    // preserved fds. Checked for `run` too, which opens none: the same config must
    // not pass or fail by the command.
    if (limit.type === 'RLIMIT_NOFILE' && limit.hard < 4 + input.preserveFds) {
      throw new ConfigError(`process.rlimits[${i}].hard`, `RLIMIT_NOFILE of ${limit.hard} leaves the container's process no file descriptor to start with`);
    }
  });

  const mounts = planMounts(input);
  const netDevices = planNetDevices(spec, ns, input.unprivilegedParent === true);
  const cgroups = input.cgroupJoin ?? NO_CGROUP_JOIN;
  const forks = ns.needsFork || cgroups.forkInto;
  const ops: PlanOp[] = [op('fds', input.preserveFds, input.extraFds)];
  // The source helper first, out of the container's cgroups: it is the host's, and a
  // task more there would count against a pids limit of the container's.
  if (mounts.bindSources.length > 0) ops.push(op('sourceHelper', ...mounts.bindSources));
  ops.push(...cgroupJoinOps(cgroups, forks));
  if (cgroups.parentDirs.length > 0) ops.push(op('sync', 'start'));
  // Still in the host's namespaces (process-ops.ts): every process the init starts
  // inherits the score, the createContainer hooks too, as runc's do.
  ops.push(...oomScoreAdjOps(spec.process?.oomScoreAdj, input.unprivilegedParent));
  if (input.foregroundPipes && ns.has('user') && spec.process) ops.push(...stdioOwnerOnHostOps(hostIdOf(linux.uidMappings, spec.process.user.uid)));
  // Still in the host's user and mount namespaces (no setns, no unshare yet).
  ops.push(...mounts.idmapUserns);
  const late = joinsAfterFork(cgroups);
  const early = ownedOutsideUserFirst(ns.joins.filter((join) => !late.has(join.type)), input.ownedOutsideUser);
  for (const join of early) ops.push(op('setns', CLONE_FLAGS[join.type], join.path as string));
  const inUserNs = ns.has('user');
  if (ns.newUser) {
    ops.push(op('unshare', CLONE_FLAGS.user));
    // An unprivileged parent can write the maps only of a dumpable process; the init
    // then stays dumpable (as runc's does when it joins no namespace): the /proc files
    // of a non-dumpable one belong to the host's root, so neither the user's exec nor
    // its hooks could open /proc/<pid>/ns/*, nor the init its own oom_score_adj.
    // Everything the init holds is that user's already.
    if (input.unprivilegedParent) ops.push(op('dumpable'), op('sync', 'usermap'));
    else ops.push(op('sync', 'usermap'));
  }
  if (inUserNs) ops.push(op('becomeRoot'));
  const lateUnshare = unshareAfterFork(cgroups, ns.unshareFlags, forks);
  if (ns.unshareFlags & ~lateUnshare) ops.push(op('unshare', ns.unshareFlags & ~lateUnshare));
  // The container's mount namespace exists now (planMounts asks for the helper only
  // when the container makes one, in its user namespace, which waits for no fork).
  if (mounts.bindSources.length > 0) ops.push(op('openSources'));
  const newTime = ns.has('time') && !(linux.namespaces ?? []).find((n) => n.type === 'time')?.path;
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length > 0) {
    if (!newTime) throw new ConfigError('linux.timeOffsets', 'requires a new time namespace');
    // The kernel takes nanoseconds within a second only (EINVAL, unnamed, otherwise).
    for (const [clock, offset] of Object.entries(linux.timeOffsets)) {
      if ((offset.nanosecs ?? 0) >= 1e9) throw new ConfigError(`linux.timeOffsets.${clock}.nanosecs`, 'must be below 1000000000 (a second goes in secs)');
    }
    // The offsets of a new time namespace can be set only before a process enters
    // it: the parent writes them now, before the fork that puts the init in it.
    ops.push(op('sync', 'timens'));
  }
  if (forks) ops.push(op('fork'));
  for (const join of ns.joins) if (late.has(join.type)) ops.push(op('setns', CLONE_FLAGS[join.type], join.path as string));
  if (lateUnshare) ops.push(op('unshare', lateUnshare));
  // linux.netDevices: tsrun gets the network namespace, then moves each device in.
  if (netDevices.length > 0) ops.push(op('netns'), ...netDevices);
  // In every namespace of the container (a user namespace owns the keyrings made in
  // it), before anything else runs there.
  if (input.sessionKeyring !== undefined) {
    ops.push(...planKeyLabel(spec.process?.selinuxLabel, lsm), sessionKeyringOp(input.sessionKeyring, inUserNs));
  }
  // In every cgroup of the container by now (v2: born there at the fork).
  ops.push(RESET_CPU_AFFINITY);

  // A network namespace made for the container starts with its loopback down: runc
  // brings it up, and a pod's containers talk over 127.0.0.1.
  if (ns.has('network') && !ns.joins.some((join) => join.type === 'network')) ops.push(op('loopbackUp'));
  // Without pivot_root the host's mounts stay in the container's namespace, under its
  // root: a private one would keep a host filesystem the host has since unmounted busy
  // (runc refuses it too).
  if (input.noPivot && (linux.rootfsPropagation === 'private' || linux.rootfsPropagation === 'rprivate')) {
    throw new ConfigError('linux.rootfsPropagation', `${linux.rootfsPropagation} is not safe without pivot_root (--no-pivot): use slave or rslave`);
  }
  ops.push(op('propagation', rootPropagationFlags(linux.rootfsPropagation)), op('rootfs', input.rootfs));
  ops.push(...mounts.ops);
  if (mounts.bindSources.length > 0) ops.push(op('closeSources'));
  ops.push(...planDevices(input, inUserNs || input.host.inUserNs === true));
  ops.push(...beforePivotHookOps(spec));
  ops.push(input.noPivot ? op('chrootNoPivot') : op('pivotRoot'));
  // runc makes a missing cwd (0755, the container's root owning it) once every mount
  // is in place and before anything turns read-only: images whose WORKDIR has no
  // layer of its own rely on it. The chdir judges what is there.
  const cwd = spec.process?.cwd;
  if (cwd !== undefined && path.posix.normalize(`/${cwd}`) !== '/') ops.push(op('mkdir', cwd, 0o755, 'ifPossible'));
  // Before the read-only remounts (a ro /dev would refuse /dev/console), as runc.
  ops.push(sessionOp(input.console, spec.process, 'container'), ...pidfdSocketOps(input.pidfdSocketFd, 'container'));
  // Stdio that is the host's /dev/null becomes the container's (runc: only where it
  // made /dev itself).
  if (setsUpDev(spec)) ops.push(op('reopenDevNull'));
  ops.push(...mounts.afterPivot);
  (linux.readonlyPaths ?? []).forEach((p, i) => checkPathLength(p, `linux.readonlyPaths[${i}]`));
  (linux.maskedPaths ?? []).forEach((p, i) => checkPathLength(p, `linux.maskedPaths[${i}]`));
  if (spec.root?.readonly) ops.push(op('remountReadonly', '/'));
  if (spec.hostname) ops.push(op('hostname', spec.hostname));
  if (spec.domainname) ops.push(op('domainname', spec.domainname));
  // runc's order: sysctls before readonlyPaths and maskedPaths, which usually make
  // /proc/sys read-only (podman sets net.ipv4.ping_group_range and ro /proc/sys).
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    checkSysctl(key, ns, input.host.isHostNamespace ?? (() => false));
    ops.push(op('sysctl', key, value));
  }
  for (const p of linux.readonlyPaths ?? []) ops.push(op('readonlyPath', p));
  for (const p of linux.maskedPaths ?? []) ops.push(op('maskPath', p));
  // The root mount's own propagation, after every bind made from it (an unbindable
  // root would refuse the readonlyPaths' binds of themselves).
  const rootAfterPivot = rootPropagationAfterPivot(linux.rootfsPropagation);
  if (rootAfterPivot !== undefined) ops.push(op('propagation', rootAfterPivot));

  // Parked at the FIFO, the init must end on a `kill` (SIGTERM...), or ignore it, as
  // runc's does: from before create returns (PROTOCOL.md, parkedSignals). Before the
  // process ops, where a seccomp filter without no_new_privs loads: the handlers'
  // rt_sigaction need not be allowed by the profile.
  if (input.fifoFd !== undefined) ops.push(op('parkedSignals'));
  ops.push(
    ...planProcessOps(spec.process, {
      lastCap: input.host.lastCap,
      warn: input.warn,
      defaultUmask: 0o022,
      lsm: input.host.lsm,
      personality: linux.personality as Personality | undefined,
      seccomp: input.seccomp,
      memoryPolicy: linux.memoryPolicy,
      unprivilegedParent: input.unprivilegedParent,
      ...(ns.newUser ? { idMappings: { uid: linux.uidMappings ?? [], gid: linux.gidMappings ?? [] } } : {}),
    }),
  );
  const seccompAt = seccompPlacement(input.seccomp, spec.process?.noNewPrivileges);
  ops.push(...startStateSyncOps(spec.hooks));
  if (seccompAt === 'beforeReady') ops.push(seccompOp(input.seccomp) as PlanOp);
  ops.push(op('notify', 'ready'));
  // create: nobody reads the sync socket after `ready`; start learns the rest on the
  // FIFO. run (no FIFO) reads on to EOF, which the execve causes (close-on-exec): its
  // poststart hooks then follow the exec, and a failing startContainer hook fails it.
  if (input.fifoFd !== undefined) ops.push(op('closeSync'), op('waitFifo', input.fifoFd));
  if (seccompAt === 'beforeExec') ops.push(seccompOp(input.seccomp) as PlanOp);
  // Like runc: startContainer hooks run under the container's seccomp filter, so a
  // hook is never less confined than the process it precedes.
  ops.push(...startContainerHookOps(spec));
  ops.push(op('exec', ...(spec.process?.args ?? [])));
  return ops;
}
