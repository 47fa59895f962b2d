// `create`: from a bundle to an init parked on the exec FIFO (for `run`: to an init
// that goes on to the user's process once ready). The order matters:
// validate everything first, then reserve the id, then create resources, and on
// any failure undo all of it (DESIGN.md §5: failure leaves nothing behind).
import * as fs from 'fs';
import * as path from 'path';
import { exactUint64ToState } from '../config/exact-uint64';
import { loadBundle, type Bundle } from '../config/load';
import type { Spec } from '../config/types';
import { createCgroupManager } from '../cgroups';
import { specDevicePaths } from '../cgroups/devices';
import { writeCgroupFile, type CgroupManager } from '../cgroups/manager';
import { oomKills } from '../cgroups/oom-kills';
import { validateResources } from '../cgroups/resources';
import { CgroupError, ConfigError, TsrunError } from '../errors';
import { NET_DEVICE_SYNC } from '../linux/net-devices';
import { buildCreatePlan } from '../linux/plan';
import { log } from '../log';
import { changeMode } from '../host-files';
import { relayTerminalSize } from './caller-terminal';
import { foregroundStdio, type PipedStdio } from './foreground-stdio';
import { native } from '../native';
import { validateContainerId } from '../state/ids';
import { processStartTime } from '../state/status';
import { formatRfc3339Nano } from '../time/rfc3339';
import { StateStore } from '../state/store';
import type { ContainerState } from '../state/types';
import { checkTerminal, consoleEnds, consoleTarget, type ConsoleEnds } from './console';
import { connectPidfdSocket } from './caller-socket';
import { initFdNumber } from './init-fds';
import { inUserNamespace, isHostNamespace, isProcfs, joinsPidsAtOnce, lastCapability } from './host-facts';
import { CONTAINER_INIT_DIED, converse, converseToExec, type SessionHandlers } from './init-session';
import { NetDeviceMover } from './net-devices';
import { containerSeccomp, forwardSeccompListener } from './seccomp';
import { hostLsm } from './host-lsm';
import { crashPoint } from '../crash-point';
import { killQuietly, signalCgroup } from './kill';
import { writeFileAtomic } from './files';
import { writeIdMappings } from './id-mappings';
import { writeTimeOffsets } from './time-offsets';
import { planIdMappings, hostIdOf } from '../linux/id-mappings';
import { planNamespaces } from '../linux/namespaces';
import { joinedNamespacesOwnedOutsideUser } from './namespace-owners';
import { NO_CGROUP_JOIN, planCgroupJoin } from '../linux/cgroup-join';
import { sessionKeyringName } from '../linux/keyring';
import { checkNoLimitsWithoutCgroup, isCgroupPermissionError, ownCgroupDirs, rootlessMode } from './rootless';
import { checkPassedFds, listenFds, passedFds, withListenFds } from './socket-activation';
import { hookState, pidInContainer, runHooks, runHooksWarnOnly, withAnnotations } from './hooks';
import { OCI_VERSION } from '../version';
import { callerNotifySocket, makeNotifyDir, notifyDir, withNotifySocket } from './sd-notify';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** --pidfd-socket: where the container's process sends a pidfd of itself. */
  pidfdSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /**
   * `run` in the foreground: a terminal is proxied by tsrun itself (create always
   * detaches), and without process.terminal, a terminal, file, device or socket of
   * ours reaches the container through pipes (foreground-stdio.ts).
   */
  foreground?: boolean;
  /** Global --rootless: 'true', 'false' or 'auto' (default). */
  rootless?: string;
  /** --no-new-keyring: keep the caller's session keyring instead of one of the container's own. */
  noNewKeyring?: boolean;
  /** Global --systemd-cgroup: the container's cgroups are a systemd scope (cgroups/systemd.ts). */
  systemdCgroup?: boolean;
  /**
   * `run`: no exec FIFO, the init goes on to the user's process as soon as it is
   * ready (a separate `start` would only open the FIFO that releases it); create
   * returns once the process is exec'd, and the caller runs the poststart hooks.
   */
  startAtOnce?: boolean;
}

export interface Created {
  state: ContainerState;
  /** Foreground run with a terminal: our end of the console socket pair (see console.ts). */
  consoleFd?: number;
  /** Foreground run without one, from a terminal: the pipes its stdio goes through. */
  piped?: PipedStdio;
  /**
   * `run` under a NOTIFY_SOCKET: the socket the container reports READY= on, bound
   * before its process started (sd-notify.ts); the caller relays and closes it.
   */
  notifyFd?: number;
}

function chownToMappedRoot(file: string, spec: Spec): void {
  const uid = hostIdOf(spec.linux?.uidMappings, 0);
  const gid = hostIdOf(spec.linux?.gidMappings, 0);
  if (uid === undefined || gid === undefined) return; // no root inside: nothing to own it
  if (process.geteuid?.() !== 0 && (uid !== process.geteuid?.() || gid !== process.getegid?.())) return; // only root may give it away
  fs.chownSync(file, uid, gid);
}

/**
 * The start time create records for the container's first process, from the one
 * read for it (null: it was gone), or null when the init died before it was ready.
 * `run` (startAtOnce) returns from its conversation only once the process exec'd: if
 * that process was gone by the time its start time was read (it exited at once and
 * the caller, a shim that is a subreaper, reaped it), the container ran and stopped.
 * '' records that: the status is then stopped, as runc reports it, never a pid that
 * could be someone else's by now.
 */
export function startTimeToRecord(startAtOnce: boolean, read: string | null): string | null {
  return read ?? (startAtOnce ? '' : null);
}

/**
 * The bundle a create makes its container from. Read before any signal is caught
 * (create ignores them, run forwards them): a config.json that blocks the read (a
 * FIFO no one writes, a hung mount) must leave tsrun to SIGTERM and ^C, as runc,
 * which reads it before it catches any.
 */
export function loadCreateBundle(opts: CreateOptions): Bundle {
  validateContainerId(opts.id);
  log.debug(`create ${opts.id}: loading ${opts.bundle}`);
  const bundle = loadBundle(opts.bundle);
  log.debug(`create ${opts.id}: config valid`);
  return bundle;
}

export function createContainer(opts: CreateOptions, bundle: Bundle = loadCreateBundle(opts)): Created {
  const spec = bundle.spec;
  // Socket activation's fds, read once: they are counted here and named in the plan's env.
  const listen = listenFds();
  const preserveFds = passedFds(opts.preserveFds ?? 0, listen);
  checkPassedFds(preserveFds);
  // Planned and compiled before anything exists: a bad profile leaves nothing behind.
  const unprivileged = (process.geteuid?.() ?? 0) !== 0;
  const seccomp = containerSeccomp(spec.linux?.seccomp, unprivileged, opts.root);
  const rootless = rootlessMode(opts.rootless);
  const namespaces = planNamespaces(spec.linux?.namespaces);
  const newUserNs = namespaces.newUser;
  // An unprivileged caller can make no other namespace, nor mount, outside one of
  // its own: said up front in runc's words rather than as the init's unshare EPERM.
  if (unprivileged && !namespaces.has('user')) throw new ConfigError('linux.namespaces', 'rootless container requires user namespaces');
  // Checked before anything exists: a malformed mapping leaves nothing behind.
  if (newUserNs) planIdMappings(spec.linux?.uidMappings, spec.linux?.gidMappings, process.geteuid?.() ?? 0, process.getegid?.() ?? 0);
  const store = new StateStore(opts.root);
  const terminal = spec.process?.terminal === true;
  checkTerminal(terminal, !opts.foreground, opts.consoleSocket);
  // Proxied to our terminal (refused without one, before anything exists): the pty
  // starts at its size, whatever process.consoleSize says (runc resizes it to our
  // terminal once the process runs). Not written into the config kept in the state:
  // a later exec would take it for the config's consoleSize.
  const relaySize = terminal && opts.foreground && spec.process ? relayTerminalSize() : undefined;
  // The id's dir appears already locked, and the lock is held until create has
  // finished or undone its work: a concurrent delete, start or kill waits instead of
  // acting on a half-made container, and a second create of the id fails.
  const unlock = store.reserveLocked(opts.id);
  crashPoint('create:reserved');

  let cgroups: CgroupManager | undefined;
  let stage1: number | undefined;
  let containerPid: number | undefined;
  let startTimeAtPid: string | null = null;
  let stage1Reaped = false;
  let syncFd: number | undefined;
  // linux.netDevices: the container's network namespace, as the init sends it.
  let netDevices: NetDeviceMover | undefined;
  let fifoFd: number | undefined;
  let console: ConsoleEnds | undefined;
  let pidfdSocketFd: number | undefined;
  let piped: PipedStdio | undefined;
  let notifyFd: number | undefined;
  // Set once cgroups.create() has returned. Until then the dirs may be another
  // container's (create refuses a leaf with processes in it: cleaning up here would
  // kill them), and a failing create() has removed what it made itself.
  let ownCgroup = false;
  const nat = native();
  try {
    if (opts.systemdCgroup && rootless) throw new ConfigError('--systemd-cgroup', 'not supported with a rootless container (systemd\'s user instance is not asked)');
    const deviceRules = spec.linux?.resources?.devices ?? [];
    const definedDevicePaths = specDevicePaths(spec.linux?.devices);
    const resources = validateResources(spec.linux?.resources ?? {});
    const systemd = opts.systemdCgroup ? { systemd: { annotations: spec.annotations ?? {}, resources, devices: deviceRules, specDevicePaths: definedDevicePaths } } : {};
    cgroups = createCgroupManager({ cgroupsPath: spec.linux?.cgroupsPath ?? '', id: opts.id, ...systemd });
    // systemd writes its own values into the unit's cgroups when it starts it, with
    // the init in it: the limits are set after that (at the init's `sync start`).
    const bySystemd = cgroups.systemdUnit !== undefined;
    const state: ContainerState = {
      // The spec version the state (and every hook's state) complies with: tsrun's,
      // not the config's (runc reports its own too).
      ociVersion: OCI_VERSION,
      id: opts.id,
      pid: 0,
      startTime: '',
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      created: formatRfc3339Nano(...nat.realtime()),
      owner: '',
      annotations: spec.annotations ?? {},
      cgroupPaths: cgroups.paths(),
      ...(bySystemd ? { systemdUnit: cgroups.systemdUnit } : {}),
      // Exact 64-bit values (BigInt) as decimal strings: exec takes them back.
      config: exactUint64ToState(spec as unknown as Record<string, unknown>),
      ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
      // Tells a later start (of this or a newer tsrun) that the init reports x or e.
      fifoProtocol: 2,
      status: 'creating',
    };
    // Recorded before anything exists on the host, so that `delete --force` after a
    // crash of this process knows what to remove.
    store.write(opts.id, state);
    crashPoint('create:state');
    try {
      cgroups.create();
      ownCgroup = true;
    } catch (e) {
      // --rootless: no permission for the cgroup is not an error, but then nothing
      // may need one. runc forgives it only without a cgroupsPath; tsrun also with
      // one, as the path is what every caller sets (containerd, podman, the tests).
      if (!rootless || !isCgroupPermissionError(e)) throw e;
      checkNoLimitsWithoutCgroup(spec, (e as Error).message);
      // Nothing of the container is in those dirs: later commands (exec, kill --all,
      // delete) must not look for its processes there, not even a `delete --force`
      // after a crash of this process.
      state.cgroupPaths = {};
      store.write(opts.id, state);
      log.debug(`create ${opts.id}: rootless, running without a cgroup of its own (${(e as Error).message})`);
    }
    crashPoint('create:cgroup');
    // Recorded with the next write (the spawned init's pid): a `delete --force` after
    // a crash before it finds no record of what was made, and takes every leaf for one
    // that existed before (removed all the same, but left with a warning while in use).
    state.cgroupCreated = cgroups.created();
    const applyLimits = (m: CgroupManager): void => {
      try {
        for (const warning of m.setDevices(deviceRules, definedDevicePaths)) log.warn(warning);
      } catch (e) {
        // runc's rule: rootless, the device rules are left out (v1's devices files
        // need CAP_SYS_ADMIN in the host's namespace, a v2 device program too); the
        // devices such a container sees are host nodes its user may already open.
        if (!rootless || !(e instanceof CgroupError)) throw e;
        log.debug(`create ${opts.id}: rootless, no device rules (${e.message})`);
      }
      for (const warning of m.set(resources)) log.warn(warning);
      log.debug(`create ${opts.id}: cgroups ready`);
    };
    if (ownCgroup && !bySystemd) applyLimits(cgroups);

    const extraFds: number[] = [];
    if (!opts.startAtOnce) {
      const fifo = store.fifoPath(opts.id);
      nat.mkfifo(fifo, 0o622);
      // mkfifo applies our umask; the init may run as any uid by the time it opens the
      // FIFO for writing (through the O_PATH fd, so the 0711 state dir still hides it).
      changeMode(fifo, 0o622);
      // Owned by the container's root, as runc does: in a user namespace the init's
      // root is a host uid that a root-owned FIFO would treat as "other".
      if (newUserNs) chownToMappedRoot(fifo, spec);
      crashPoint('create:fifo');
      fifoFd = nat.openPath(fifo);
      extraFds.push(fifoFd);
    }
    if (terminal) {
      console = consoleEnds(opts.consoleSocket, bundle.dir);
      extraFds.push(console.initFd);
    }
    pidfdSocketFd = connectPidfdSocket(opts.pidfdSocket, bundle.dir);
    if (pidfdSocketFd !== undefined) extraFds.push(pidfdSocketFd);
    const initFdOf = (fd: number | undefined): number | undefined => initFdNumber(preserveFds, extraFds, fd);
    // Rootless on a hybrid host, the v2 hierarchy (no controllers there) may refuse
    // the move (its rule wants write access where the caller's cgroup and the
    // container's meet, the root): the container then stays out of it, as with runc.
    // So the parent places the init there, where that refusal can be forgiven; the
    // init's own clone3 into it would fail the create.
    const hybridUnified = cgroups.layout === 'unified' ? undefined : cgroups.paths()['unified'];
    const parentPlacesV2 = namespaces.has('user') || (rootless && hybridUnified !== undefined);
    // With systemd, the parent places the init everywhere at `sync start`: it has
    // systemd start the unit with the init in it, then puts it in the hierarchies
    // systemd leaves alone (whose dirs exist only from then on).
    const pidsAtOnce = joinsPidsAtOnce(namespaces.has('user'), spec.linux?.uidMappings);
    const cgroupJoin = ownCgroup ? planCgroupJoin(cgroups.paths(), parentPlacesV2, bySystemd, bySystemd, pidsAtOnce) : NO_CGROUP_JOIN;
    const placeInit = (dir: string, pid: number): void => {
      try {
        writeCgroupFile(dir, 'cgroup.procs', String(pid));
      } catch (e) {
        if (!rootless || dir !== hybridUnified || !isCgroupPermissionError(e)) throw e;
        // Recorded (with the state's next write): exec, kill --all and delete must
        // not look for the container's processes there, nor try the move again.
        state.cgroupPaths = Object.fromEntries(Object.entries(state.cgroupPaths).filter(([key]) => key !== 'unified'));
        // The leaf made for it stays empty: removed now, which delete, going by
        // cgroupPaths, would never do.
        if (state.cgroupCreated?.includes(dir)) {
          try {
            fs.rmdirSync(dir);
            state.cgroupCreated = state.cgroupCreated.filter((d) => d !== dir);
          } catch (rm) {
            log.warn(`removing ${dir}, where the container could not go: ${(rm as Error).message}`);
          }
        }
        log.debug(`create ${opts.id}: rootless, left out of the v2 hierarchy (${(e as Error).message})`);
      }
    };
    // NOTIFY_SOCKET (sd-notify.ts): the dir the container sees at /run/notify. `run`
    // binds the socket now, before the init may start the container's process.
    const notifyTarget = callerNotifySocket();
    let planned = withListenFds(spec, listen);
    if (notifyTarget !== undefined) {
      const dir = notifyDir(store.dir(opts.id));
      makeNotifyDir(dir);
      planned = withNotifySocket(planned, dir);
      if (opts.startAtOnce) notifyFd = nat.notifyListen(dir);
    }
    const plan = buildCreatePlan({
      spec: planned,
      bundle: bundle.dir,
      rootfs: bundle.rootfs,
      noPivot: opts.noPivot ?? false,
      sessionKeyring: opts.noNewKeyring ? undefined : sessionKeyringName(opts.id),
      preserveFds,
      extraFds: extraFds.length,
      fifoFd: initFdOf(fifoFd),
      console: consoleTarget(console, initFdOf, relaySize),
      pidfdSocketFd: initFdOf(pidfdSocketFd),
      host: { lastCap: lastCapability(), cgroupDirs: ownCgroup ? cgroups.paths() : ownCgroupDirs(), cgroupV2: cgroups.layout === 'unified', lsm: hostLsm(), isProcfs, isHostNamespace, inUserNs: inUserNamespace() },
      warn: (m) => log.warn(m),
      unprivilegedParent: unprivileged,
      ...(seccomp ? { seccomp: seccomp.program } : {}),
      cgroupJoin,
      ownedOutsideUser: joinedNamespacesOwnedOutsideUser(namespaces.joins),
      foregroundPipes: opts.foreground === true && !terminal,
    });
    log.debug(`create ${opts.id}: plan of ${plan.length} operations`);

    log.debug(`create ${opts.id}: spawning init`);
    if (opts.foreground && !terminal) piped = foregroundStdio();
    // The init's pid, with its start time, so that `delete --force` after a crash here
    // can tell it from a later process that reused the pid (it may not be in its
    // cgroups yet). An init spawned ahead (bin/tsrun) is recorded before it is given
    // its fds: from then on it goes on by itself, also while a killed tsrun's exit
    // still holds the sync socket open (the kernel frees the memory first).
    const record = (pid: number): void => store.write(opts.id, { ...state, pid, startTime: processStartTime(pid) ?? '' });
    const ahead = nat.initSpawnedAheadPid();
    if (ahead !== undefined) record(ahead);
    const child = nat.spawnInit({ plan: nat.encodePlan(plan), stdio: piped?.stdio ?? [0, 1, 2], preserveFds, extraFds });
    piped?.started();
    if (child.spawnedAhead) log.debug(`create ${opts.id}: init ${child.pid} was spawned ahead`);
    stage1 = child.pid;
    syncFd = child.syncFd;
    if (child.pid !== ahead) record(stage1);
    crashPoint('create:spawned');
    // run: on to the execve (PROTOCOL.md); create: until the init is parked.
    const converseAll = opts.startAtOnce
      ? (fd: number, handlers: SessionHandlers): void => converseToExec(fd, handlers, { readyFirst: true, diedMessage: CONTAINER_INIT_DIED })
      : converse;
    converseAll(child.syncFd, {
      onSync: (tag): string | undefined => {
        if (tag === 'start') {
          if (bySystemd && cgroups) {
            log.debug(`create ${opts.id}: starting systemd unit ${cgroups.systemdUnit} with the init in it`);
            cgroups.apply(child.pid);
            // Recorded with the init's pid (onPid's write): the dirs made for the unit.
            state.cgroupCreated = cgroups.created();
            applyLimits(cgroups);
            crashPoint('create:applied');
            return undefined;
          }
          log.debug(`create ${opts.id}: placing the init in ${cgroupJoin.parentDirs.join(', ')}`);
          for (const dir of cgroupJoin.parentDirs) placeInit(dir, child.pid);
          log.debug(`create ${opts.id}: init placed`);
          crashPoint('create:applied');
          return undefined;
        }
        if (tag === 'usermap') {
          writeIdMappings(child.pid, spec);
          return undefined;
        }
        if (tag === 'timens') {
          writeTimeOffsets(child.pid, spec.linux?.timeOffsets ?? {});
          return undefined;
        }
        if (tag === 'createRuntime') {
          // The container's namespaces exist, pivot_root has not happened yet. The
          // answer carries the state for the createContainer hooks the init runs.
          const pid = containerPid ?? child.pid;
          const hs = hookState(state, 'creating', pid);
          runHooks('prestart', spec.hooks?.prestart, hs);
          runHooks('createRuntime', spec.hooks?.createRuntime, hs);
          crashPoint('create:hooks');
          // Only for createContainer hooks: the answer is one packet, and a state of
          // several MB (annotations) does not fit (EMSGSIZE) where the init needs none.
          if (!spec.hooks?.createContainer?.length) return undefined;
          // In the container's namespaces the pid is the one the container sees.
          return JSON.stringify({ ...hs, pid: pidInContainer(pid) });
        }
        if (tag.startsWith(NET_DEVICE_SYNC)) {
          if (!netDevices) throw new TsrunError('the init asked for a network device before sending its network namespace');
          netDevices.move(tag.slice(NET_DEVICE_SYNC.length));
          return undefined;
        }
        // The init keeps this for its startContainer hooks (it has no socket after `ready`).
        if (tag === 'startContainer') return JSON.stringify(hookState(state, 'created', pidInContainer(containerPid ?? child.pid)));
        throw new TsrunError(`unexpected sync point "${tag}"`);
      },
      onPid: (pid) => {
        // Without `sync start` this is the first news from the init: it has joined its cgroups.
        if (cgroupJoin.parentDirs.length === 0) crashPoint('create:applied');
        log.debug(`create ${opts.id}: init forked, pid ${pid}`);
        containerPid = pid;
        startTimeAtPid = processStartTime(pid);
        store.write(opts.id, { ...state, pid, startTime: startTimeAtPid ?? '' });
        crashPoint('create:pid');
      },
      onNetns: () => {
        if (netDevices) throw new TsrunError('the init sent its network namespace twice');
        netDevices = new NetDeviceMover(spec, nat.syncRecvFd(child.syncFd, 'network namespace'));
      },
      onSeccompListener: (fd) => {
        if (!seccomp) throw new TsrunError('the init sent a seccomp notify fd but no seccomp was configured');
        // The process that loaded the filter: the container's, past any fork into its pid namespace.
        const pid = containerPid ?? child.pid;
        forwardSeccompListener({ syncFd: child.syncFd, pid, fd }, seccomp.listener, {
          ociVersion: OCI_VERSION,
          id: opts.id,
          pid,
          status: 'creating',
          containerPid: pid,
          bundle: bundle.dir,
          annotations: spec.annotations ?? {},
        });
      },
    });
    log.debug(opts.startAtOnce ? `create ${opts.id}: container process exec'd` : `create ${opts.id}: init ready`);
    crashPoint('create:ready');
    // The intermediate process (if the init forked) has exited: reap it.
    if (containerPid !== undefined && containerPid !== stage1) {
      nat.waitPid(stage1);
      stage1Reaped = true;
    }
    containerPid ??= stage1;

    // A parked init is alive now. Started at once, the user's process may have run
    // and exited already (and been reaped, after `run -d`, and its pid handed on): its
    // start time is the one read when the init announced its pid, while it still
    // waited for `ready` (none: it was gone already, and ran: startTimeToRecord). The
    // first process is our own child until reaped, safe to read.
    const startTime = startTimeToRecord(opts.startAtOnce === true, opts.startAtOnce && containerPid !== stage1 ? startTimeAtPid : processStartTime(containerPid));
    if (startTime === null) throw new TsrunError('container init exited before it was ready');
    const final: ContainerState = { ...state, pid: containerPid, startTime };
    delete final.status;
    store.write(opts.id, final);
    crashPoint('create:written');
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(containerPid));
    log.debug(`create ${opts.id}: created, init pid ${containerPid}`);
    const ownConsole = console?.ownFd;
    if (console) console.ownFd = undefined;
    const ownNotify = notifyFd;
    notifyFd = undefined;
    return { state: final, consoleFd: ownConsole, ...(piped ? { piped } : {}), ...(ownNotify !== undefined ? { notifyFd: ownNotify } : {}) };
  } catch (e) {
    piped?.abandon();
    // Each pid only while it is still ours: the pid may have been handed on. The init
    // by the start time read when it announced itself (none: it was gone already);
    // the first process while it is our unreaped child.
    const init = containerPid !== undefined && containerPid !== stage1 && startTimeAtPid !== null ? { pid: containerPid, startTime: startTimeAtPid } : undefined;
    if (init) killQuietly(init.pid, init.startTime);
    if (stage1 !== undefined && !stage1Reaped) {
      killQuietly(stage1);
      try {
        nat.waitPid(stage1);
      } catch {
        // not our child any more
      }
    }
    if (init) nat.waitExit(init.pid, 5000);
    let leftovers = false;
    try {
      // Whatever else got into the cgroup (a hook's child, a process forked before
      // the failure) goes too: nothing may outlive a failed create.
      if (cgroups && ownCgroup) {
        for (const pid of signalCgroup(cgroups, 9)) nat.waitExit(pid, 5000);
        // A limit below what the init needs kills it on its way (runc's "unable to
        // set memory limit"): the bare "exited before it was ready" would not say why.
        const kills = oomKills(cgroups);
        if (kills > 0 && e instanceof Error) e.message += ` (the OOM killer ended ${kills} process(es) in the container's memory cgroup: is linux.resources.memory.limit below what it needs?)`;
        for (const note of cgroups.destroy()) log.warn(note);
      }
    } catch (cleanupError) {
      leftovers = true;
      log.warn(`cleanup of cgroups failed: ${(cleanupError as Error).message}`);
    }
    // With something left, the state dir stays (status "creating") so that
    // `delete --force` can still find and finish it; otherwise nothing remains.
    if (!leftovers) store.remove(opts.id);
    // Like runc's destroy after a failed create (and the spec's lifecycle after a
    // failing prestart/createRuntime/createContainer hook): poststop hooks, warnings only.
    if (stage1 !== undefined && spec.hooks?.poststop?.length) {
      const stopped = withAnnotations({ ociVersion: OCI_VERSION, id: opts.id, status: 'stopped', bundle: bundle.dir }, spec.annotations);
      runHooksWarnOnly('poststop', spec.hooks.poststop, stopped);
    }
    throw e;
  } finally {
    cgroups?.close?.();
    unlock();
    if (syncFd !== undefined) nat.closeFd(syncFd);
    netDevices?.close();
    if (fifoFd !== undefined) nat.closeFd(fifoFd);
    if (console) nat.closeFd(console.initFd);
    if (console?.ownFd !== undefined) nat.closeFd(console.ownFd);
    if (pidfdSocketFd !== undefined) nat.closeFd(pidfdSocketFd);
    if (notifyFd !== undefined) nat.closeFd(notifyFd);
  }
}
