// `exec`: run another process in a running (or created) container. The init joins
// every namespace of the container's init, is placed in its cgroup before it runs
// anything, and becomes the process of its own process spec (DESIGN.md §3).
import * as fs from 'fs';
import * as path from 'path';
import { checkOnCgroupFs, writeCgroupFile } from '../cgroups/manager';
import { exactUint64FromState } from '../config/exact-uint64';
import { parseProcessFile, processFromFlags, withContainerDefaults, type ExecFlags } from '../config/exec-process';
import type { NamespaceType, Process, Spec } from '../config/types';
import { ConfigError, ContainerStateError, InitError, TsrunError } from '../errors';
import { buildExecPlan } from '../linux/exec-plan';
import { hostIdOf } from '../linux/id-mappings';
import { planNamespaces } from '../linux/namespaces';
import { planCgroupJoin } from '../linux/cgroup-join';
import { log } from '../log';
import { closeFile, openFile, readText, statPath } from '../host-files';
import { relayTerminalSize } from './caller-terminal';
import { foregroundStdio, type PipedStdio } from './foreground-stdio';
import { endWithoutExitHelper, native } from '../native';
import { Container } from './container';
import { processStartTime, runsOn } from '../state/status';
import { writeFileAtomic } from './files';
import { killQuietly } from './kill';
import { checkTerminal, consoleEnds, consoleTarget, proxyConsole, type ConsoleEnds, type ConsoleProxy } from './console';
import { connectPidfdSocket } from './caller-socket';
import { initFdNumber } from './init-fds';
import { withSignalsCaught } from './signal-forwarding';
import { waitForContainerProcess } from './container-wait';
import { joinsPidsAtOnce, lastCapability } from './host-facts';
import { EXEC_INIT_DIED, converseToExec } from './init-session';
import { execCgroupDirs } from './exec-cgroups';
import { checkPassedFds } from './socket-activation';
import { hostLsm } from './host-lsm';
import { containerSeccomp, forwardSeccompListener, type ContainerSeccomp } from './seccomp';
import { sessionKeyringName } from '../linux/keyring';
import { OCI_VERSION } from '../version';
import { namespacesOwnedOutsideUser } from './namespace-owners';
import type { Personality } from '../linux/process-attrs';

export interface ExecOptions {
  root: string;
  id: string;
  /** Path of a process.json; when set, the flags that describe the process are not used. */
  processFile?: string;
  /** Its text, when read already (execInContainer reads it before catching signals). */
  processText?: string;
  flags: ExecFlags;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** --pidfd-socket: where the exec'd process sends a pidfd of itself. */
  pidfdSocket?: string;
  preserveFds: number;
  /** runc's --cgroup: `path` (v2 or every v1 hierarchy) or `controller[,controller]:path`. */
  cgroups: string[];
  ignorePaused: boolean;
}

/** /proc/<pid>/ns/<file> for each namespace type. */
const NS_FILES: Record<NamespaceType, string> = {
  user: 'user',
  ipc: 'ipc',
  uts: 'uts',
  network: 'net',
  pid: 'pid',
  time: 'time',
  cgroup: 'cgroup',
  mount: 'mnt',
};

/** The text of --process's file, or undefined without one. */
function readProcessText(opts: ExecOptions): string | undefined {
  if (!opts.processFile || opts.processText !== undefined) return opts.processText;
  const file = path.resolve(opts.processFile);
  try {
    return readText(file);
  } catch (e) {
    throw new ConfigError('--process', `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function execProcess(opts: ExecOptions, spec: Spec): Process {
  const text = readProcessText(opts);
  if (opts.processFile && text !== undefined) return withContainerDefaults(parseProcessFile(text, path.resolve(opts.processFile)), spec.process);
  if (!spec.process) throw new ConfigError('process', 'the container has no process to base exec on (use --process)');
  return processFromFlags(spec.process, opts.flags);
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = statPath(a, true);
    return sa !== null && sa.id === statPath(b, true)?.id;
  } catch {
    return false;
  }
}

export interface ExecStarted {
  pid: number;
  /** Foreground exec with a terminal: our end of the console socket pair. */
  consoleFd?: number;
  /** Foreground exec without one: the pipes its stdio goes through where ours is not an anonymous pipe or /dev/null (foreground-stdio.ts). */
  piped?: PipedStdio;
}

/**
 * Starts the process; returns once execve has succeeded in the container.
 *
 * Holds the container's lock until the process is in the container's cgroups, so
 * that a concurrent delete cannot tear them down while it is joining them. From
 * then on nothing needs the lock: delete and kill --all find the process in the
 * cgroups and kill it there (thawing a paused one for SIGKILL), and its
 * namespaces are held by the fds it was given (a pid namespace whose init has
 * died refuses the fork into it). An init that joins by itself is known to be in
 * once it has forked (into the pid namespace, or the v2 cgroup), or, without a fork,
 * once it has exec'd; where the parent places it, at `sync start`, the lock goes
 * right after. A paused
 * container is always joined that way: the process freezes the moment it enters,
 * and resume, kill and delete must not wait for a process that cannot go on
 * until one of them acts.
 */
export function startExec(opts: ExecOptions): ExecStarted {
  checkPassedFds(opts.preserveFds);
  const { container, unlock } = Container.openLocked(opts.root, opts.id);
  try {
    return startExecLocked(container, opts, unlock);
  } finally {
    unlock();
  }
}

function startExecLocked(container: Container, opts: ExecOptions, unlock: () => void): ExecStarted {
  const status = container.status();
  if (status === 'stopped') throw new ContainerStateError('cannot exec in a stopped container');
  if (status === 'paused' && !opts.ignorePaused) throw new ContainerStateError('cannot exec in a paused container (use --ignore-paused to override)');
  if (status === 'creating') throw new ContainerStateError('cannot exec in a container that is still being created');
  // Its exact 64-bit values (seccomp arguments, rlimits) are decimal strings in
  // state.json; only exec needs them back, so no other command pays for the walk.
  if (!exactUint64FromState(container.state.config)) throw new TsrunError(`state of container ${opts.id}: a 64-bit value of its config is not a decimal`);
  const spec = container.state.config as unknown as Spec;
  const proc = execProcess(opts, spec);
  const terminal = proc.terminal === true;
  checkTerminal(terminal, opts.detach, opts.consoleSocket);
  // A foreground exec proxies to our terminal: the pty starts at its size, so the
  // process never sees a 0x0 window before the first resize.
  // process.json's consoleSize gives way to it, as runc resizes the pty to our terminal.
  const relaySize = terminal && !opts.detach ? relayTerminalSize() : undefined;
  const cgroupDirs = execCgroupDirs(container.state.cgroupPaths ?? {}, opts.cgroups);

  const nat = native();
  const initPid = container.state.pid;
  const nsFds: number[] = [];
  let stage1: number | undefined;
  let execPid: number | undefined;
  let execStartTime: string | null = null;
  let stage1Reaped = false;
  let syncFd: number | undefined;
  let console: ConsoleEnds | undefined;
  let pidfdSocketFd: number | undefined;
  let piped: PipedStdio | undefined;
  try {
    // Every namespace file is opened here, before the init joins the first one:
    // after a setns into the container's user namespace the init may no longer
    // open the host's /proc/<pid>/ns files.
    const types = [...new Set((spec.linux?.namespaces ?? []).map((n) => n.type))];
    const opened: [NamespaceType, number][] = [];
    for (const type of types) {
      const file = `/proc/${initPid}/ns/${NS_FILES[type]}`;
      // setns into the user namespace we are already in is EINVAL (a config that
      // "joins" the host's user namespace by path).
      if (type === 'user' && sameFile(file, '/proc/self/ns/user')) continue;
      try {
        opened.push([type, openFile(file, fs.constants.O_RDONLY)]);
      } catch (e) {
        throw new TsrunError(`open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      nsFds.push(opened[opened.length - 1]![1]);
    }
    // The fds name the namespaces of the process we checked only if it is still that process.
    if (!container.alive()) throw new ContainerStateError('cannot exec in a stopped container');

    const ownedOutsideUser = namespacesOwnedOutsideUser(opened);
    const extraFds = [...nsFds];
    if (terminal) {
      console = consoleEnds(opts.consoleSocket, container.state.bundle);
      extraFds.push(console.initFd);
    }
    pidfdSocketFd = connectPidfdSocket(opts.pidfdSocket, container.state.bundle);
    if (pidfdSocketFd !== undefined) extraFds.push(pidfdSocketFd);
    const initFdOf = (fd: number | undefined): number | undefined => initFdNumber(opts.preserveFds, extraFds, fd);
    const namespaces: Partial<Record<NamespaceType, string>> = {};
    for (const [type, fd] of opened) namespaces[type] = `/proc/self/fd/${initFdOf(fd)}`;
    const seccomp = execSeccomp(container);
    const pidsAtOnce = joinsPidsAtOnce(namespaces.user !== undefined, spec.linux?.uidMappings);
    const cgroupJoin = planCgroupJoin(cgroupDirs, namespaces.user !== undefined, status === 'paused', false, pidsAtOnce);
    const plan = buildExecPlan({
      proc,
      namespaces,
      ownedOutsideUser,
      console: consoleTarget(console, initFdOf, relaySize),
      pidfdSocketFd: initFdOf(pidfdSocketFd),
      preserveFds: opts.preserveFds,
      extraFds: extraFds.length,
      lastCap: lastCapability(),
      warn: (m) => log.warn(m),
      seccomp: seccomp?.program,
      lsm: hostLsm(),
      sessionKeyring: container.state.noNewKeyring ? undefined : sessionKeyringName(opts.id),
      cgroupJoin,
      memoryPolicy: spec.linux?.memoryPolicy,
      personality: spec.linux?.personality as Personality | undefined,
      oomScoreAdj: spec.process?.oomScoreAdj,
      unprivilegedParent: (process.geteuid?.() ?? 0) !== 0,
      ...(namespaces.user !== undefined && !opts.detach && !terminal ? { hostUid: hostIdOf(spec.linux?.uidMappings, proc.user.uid) } : {}),
      // The mappings of the config are its user namespace's only where it made that namespace, not joined one.
      ...(planNamespaces(spec.linux?.namespaces).newUser ? { idMappings: { uid: spec.linux?.uidMappings ?? [], gid: spec.linux?.gidMappings ?? [] } } : {}),
    });
    const forks = plan.some((o) => o.op === 'fork');
    log.debug(`exec in ${opts.id}: plan of ${plan.length} operations`);
    if (!opts.detach && !terminal) piped = foregroundStdio();
    const child = nat.spawnInit({ plan: nat.encodePlan(plan), stdio: piped?.stdio ?? [0, 1, 2], preserveFds: opts.preserveFds, extraFds });
    piped?.started();
    if (child.spawnedAhead) log.debug(`exec in ${opts.id}: init ${child.pid} was spawned ahead`);
    stage1 = child.pid;
    syncFd = child.syncFd;
    const first = child.pid;
    converseToExec(child.syncFd, {
      onSync: (tag) => {
        if (tag === 'start') {
          for (const dir of cgroupJoin.parentDirs) {
            checkOnCgroupFs(dir);
            writeCgroupFile(dir, 'cgroup.procs', String(first));
          }
          // In all of its cgroups now (see startExec).
          unlock();
        }
        else throw new TsrunError(`unexpected sync point "${tag}"`);
      },
      onPid: (pid) => {
        // Born in its v2 cgroup (or put there by the intermediate, PROTOCOL.md `fork`),
        // after joining the v1 ones: in all of them now (see startExec). The lock goes
        // before the child runs a single op in the container, where a container
        // process may stop it (SIGSTOP) for good.
        if (cgroupJoin.parentDirs.length === 0) unlock();
        execPid = pid;
        execStartTime = processStartTime(pid);
      },
      // runc's: the process's own pid, and the container's state as it is now.
      onSeccompListener: (fd) => {
        if (!seccomp) throw new TsrunError('the init sent a seccomp notify fd but the container has no seccomp profile');
        // The process that loaded the filter: the exec'd one, past any fork into the pid namespace.
        forwardSeccompListener({ syncFd: child.syncFd, pid: execPid ?? first, fd }, seccomp.listener, {
          ociVersion: OCI_VERSION,
          id: opts.id,
          pid: execPid ?? first,
          status: 'running',
          containerPid: initPid,
          bundle: container.state.bundle,
          annotations: spec.annotations ?? {},
        });
      },
    }, { readyFirst: false, diedMessage: EXEC_INIT_DIED });
    // converseToExec saw `notify exec`, so the init exec'd; without a pid it did so
    // without the fork its plan has: never.
    if (forks && execPid === undefined) throw new InitError('the process was killed before it started in the container');
    // The intermediate (when the init forked into the pid namespace) has exited.
    if (execPid !== undefined && execPid !== stage1) {
      nat.waitPid(stage1);
      stage1Reaped = true;
    }
    execPid ??= stage1;
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(execPid));
    const consoleFd = console?.ownFd;
    if (console) console.ownFd = undefined;
    return { pid: execPid, consoleFd, ...(piped ? { piped } : {}) };
  } catch (e) {
    piped?.abandon();
    // Each pid only while it is still ours (see create): the exec'd process by its
    // start time, the first one while it is our unreaped child.
    const execed = execPid !== undefined && execPid !== stage1 && execStartTime !== null ? { pid: execPid, startTime: execStartTime } : undefined;
    if (execed) killQuietly(execed.pid, execed.startTime);
    if (stage1 !== undefined && !stage1Reaped) {
      killQuietly(stage1);
      try {
        nat.waitPid(stage1);
      } catch {
        // not our child any more
      }
    }
    if (execed) {
      try {
        nat.waitPid(execed.pid);
      } catch {
        // reparented elsewhere (no subreaper): gone with the kill
      }
    }
    // The container stopped while we joined it (killed, deleted): the kernel then says
    // so in its own words (a fork into a pid namespace whose init has exited is ENOMEM,
    // its /proc/<pid>/ns files are gone). Said as for a container already stopped. An
    // init on its way out (PF_EXITING: it waits there for its pid namespace to empty)
    // has already refused the fork.
    if (!(e instanceof ContainerStateError) && !runsOn(container.state.pid, container.state.startTime)) throw new ContainerStateError('cannot exec in a stopped container');
    throw e;
  } finally {
    if (syncFd !== undefined) nat.closeFd(syncFd);
    for (const fd of nsFds) closeFile(fd);
    if (console) nat.closeFd(console.initFd);
    if (console?.ownFd !== undefined) nat.closeFd(console.ownFd);
    if (pidfdSocketFd !== undefined) nat.closeFd(pidfdSocketFd);
  }
}

/**
 * Foreground exec returns the process's exit status (128+signal when killed) and
 * forwards our signals to it; --detach returns as soon as it runs.
 */
export async function execInContainer(opts: ExecOptions): Promise<number> {
  const nat = native();
  // The process is our grandchild when the init forks into the pid namespace: as a
  // subreaper we inherit it and can wait for it.
  if (!opts.detach) nat.setChildSubreaper();
  // conmon (podman exec -t) takes the exit of any child it does not know, reaped
  // before it has read the pid file, for the exec'd process's (older versions, Debian's
  // 2.1.6 among them): tsrun's exit helper, an orphan it reaps, must not be one.
  if (opts.detach && opts.consoleSocket !== undefined) endWithoutExitHelper();
  // Read before any signal is caught: a file that blocks the read (a FIFO no one
  // writes) must leave tsrun to SIGTERM and ^C, as runc. One that cannot be read is
  // read again, and reported, where it was: after a missing container, as runc.
  let processText: string | undefined;
  try {
    processText = readProcessText(opts);
  } catch {
    processText = undefined;
  }
  const withText: ExecOptions = { ...opts, processText };
  return withSignalsCaught(async (forwarding) => {
    const { pid, consoleFd, piped } = startExec(withText);
    if (opts.detach) return 0;
    let proxy: ConsoleProxy | undefined;
    try {
      proxy = consoleFd !== undefined ? proxyConsole(consoleFd) : undefined;
    } catch (e) {
      piped?.abandon();
      // Without its terminal it would run unwatched while we report a failure: runc
      // ends it too. It is our unreaped child (we are its subreaper): the pid is its.
      killQuietly(pid);
      try {
        nat.waitPid(pid);
      } catch {
        // reaped meanwhile
      }
      throw e;
    }
    forwarding.forwardTo({ pid });
    let finished = false;
    try {
      // Its orphans (no pid namespace) are ours as its subreaper: reaped too.
      const result = await waitForContainerProcess(pid, proxy !== undefined || piped?.needsEventLoop === true);
      // Reaped: its pid may be another process's by now.
      forwarding.stop();
      proxy?.finish();
      // All it wrote reaches our terminal or file first (the pipes end with its processes).
      await piped?.finish();
      finished = true;
      if (result.signal !== null) return 128 + result.signal;
      return result.exitCode ?? 0;
    } finally {
      forwarding.stop();
      proxy?.restore();
      // A failed wait: the copy is not waited for (a copier thread must not outlive us).
      if (!finished) piped?.abandon();
    }
  });
}

/**
 * The container's seccomp profile, planned and compiled again (or taken from the
 * cache): runc filters exec'd processes the same way, each with a notify fd of its own
 * for the listener.
 */
function execSeccomp(container: Container): ContainerSeccomp | undefined {
  const linux = container.state.config['linux'] as { seccomp?: unknown } | undefined;
  return containerSeccomp(linux?.seccomp, (process.geteuid?.() ?? 0) !== 0, container.store.root);
}
