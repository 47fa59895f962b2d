// Status is derived from the live system, never trusted from the file: the init may
// have died, or its pid may now belong to an unrelated process.
import { fileKind, readLink, readTextIfExists } from '../host-files';
import type { ContainerState, ContainerStatus, OciState } from './types';

export interface ProcStat {
  /** Field 2 without the parentheses. */
  comm: string;
  /** Field 3: R, S, D, Z, X, T, ... */
  state: string;
  /** Field 9: the kernel's PF_* flags, as the decimal text the kernel wrote. */
  flags: string;
  /** Field 22: start time in clock ticks since boot, kept as a string (exact, no float). */
  startTime: string;
}

/**
 * Parses the text of /proc/<pid>/stat. comm (field 2) is free text chosen by the
 * process: it may contain spaces and ')' characters, so the fields after it are
 * found from the *last* ')' rather than by splitting the whole line.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // The kernel separates the fields with single spaces.
  const rest = text.slice(close + 1).trim().split(' ');
  // rest[0] is field 3; field 22 is rest[19].
  if (rest.length < 20) return null;
  const startTime = rest[19];
  if (!/^\d+$/.test(startTime)) return null;
  return { comm: text.slice(open + 1, close), state: rest[0], flags: rest[6], startTime };
}

function readStat(pid: number, procRoot: string): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const file = `${procRoot}/${pid}/stat`;
  // A process that is gone is the usual case after it exited: no exception made for it.
  let text: string | null;
  try {
    text = readTextIfExists(file);
  } catch {
    return null; // ESRCH (exiting while read): not there either
  }
  return text === null ? null : parseProcStat(text);
}

/** Start time of `pid` (field 22 of /proc/<pid>/stat), or null when there is no such process. */
export function processStartTime(pid: number, procRoot = '/proc'): string | null {
  return readStat(pid, procRoot)?.startTime ?? null;
}

/**
 * True when `pid` is the process recorded with `startTime` and has not exited. A
 * zombie (Z) or dead (X) process counts as gone: its program has ended, only its
 * exit status is waiting to be reaped.
 */
export function isAlive(pid: number, startTime: string, procRoot = '/proc'): boolean {
  return isRecordedAndLive(readStat(pid, procRoot), startTime);
}

function isRecordedAndLive(stat: ProcStat | null, startTime: string): stat is ProcStat {
  if (!stat) return false;
  if (stat.startTime !== startTime) return false; // the pid was reused
  return stat.state !== 'Z' && stat.state !== 'X';
}

/** PF_EXITING (include/linux/sched.h), in field 9 of /proc/<pid>/stat. */
const PF_EXITING = 0x4;

/**
 * isAlive, and not on its way out: a process killed sets PF_EXITING as it enters
 * do_exit, before its files (an exec FIFO's write end) are closed and long before it
 * is a zombie. So a reader that saw EOF from a dying writer never takes it for alive.
 */
export function runsOn(pid: number, startTime: string, procRoot = '/proc'): boolean {
  const stat = readStat(pid, procRoot);
  if (!isRecordedAndLive(stat, startTime)) return false;
  // Unreadable flags: the pid and start time matched, and it was no zombie.
  if (!/^\d+$/.test(stat.flags)) return true;
  return (Number(stat.flags) & PF_EXITING) === 0;
}

/**
 * True while `pid` still runs tsrun's init, i.e. it has not exec'd the user's program
 * yet. Its exe is the init on a detached overlay, at that overlay's root (/tsrun-init),
 * or, where the overlay could not be made (rootless), a memfd named tsrun-init
 * (addon/native/spawn.cpp). The exec FIFO alone cannot tell: a `start` killed after
 * releasing the init but before unlinking the FIFO leaves the FIFO behind a running
 * container. Unknown (no permission) counts as true.
 */
export function runsTsrunInit(pid: number, procRoot = '/proc'): boolean {
  let exe: string | null;
  try {
    exe = readLink(`${procRoot}/${pid}/exe`);
  } catch {
    return true;
  }
  return exe !== null && (exe === '/tsrun-init' || exe.startsWith('/memfd:tsrun-init'));
}

/** The exec FIFO is present (lstat: never what a planted symlink points to) and the init still waits on it. */
export function awaitsStart(pid: number, fifoPath: string, procRoot = '/proc'): boolean {
  try {
    if (fileKind(fifoPath) !== 'fifo') return false;
  } catch {
    return false;
  }
  return runsTsrunInit(pid, procRoot);
}

export interface StatusFacts {
  /** The exec FIFO still exists: `start` has not consumed it yet. */
  fifoExists: boolean;
  alive: boolean;
  /** The container's cgroup is frozen. */
  frozen: boolean;
  /** The create that recorded "creating" still runs (it holds the container's lock). */
  creatorAtWork: boolean;
}

/**
 * "creating" while the create that wrote it still runs, whatever its record says of
 * the processes (the first one it names exits once the init has forked). A create
 * that died leaves "creating" behind: from then on the live facts decide, as for any
 * container (runc has no record of its own to go by), so an init it parked is
 * `created` and can be started, killed or deleted. Otherwise runc's order: stopped,
 * then paused, then created (FIFO present), else running.
 */
export function deriveStatus(state: Pick<ContainerState, 'status'>, facts: StatusFacts): ContainerStatus {
  if (state.status === 'creating' && facts.creatorAtWork) return 'creating';
  if (!facts.alive) return 'stopped';
  if (facts.frozen) return 'paused';
  if (facts.fifoExists) return 'created';
  return 'running';
}

export interface ProbeOptions {
  /** Asked only when the init is alive: a stopped container of a long `list` never pays for the path. */
  fifoPath: () => string;
  /** Asked only when the init is alive (it needs the cgroup, which may be gone otherwise). */
  isFrozen: () => boolean;
  /** Asked only of a record that says "creating". */
  creatorAtWork?: () => boolean;
  procRoot?: string;
}

/** Gathers the facts from the system and derives the status. */
export function probeStatus(state: ContainerState, opts: ProbeOptions): ContainerStatus {
  // A create that crashed before recording the pid has pid 0 / startTime ''.
  const alive = state.pid > 0 && state.startTime !== '' && isAlive(state.pid, state.startTime, opts.procRoot);
  const fifoExists = alive && awaitsStart(state.pid, opts.fifoPath(), opts.procRoot);
  const creatorAtWork = state.status === 'creating' && (opts.creatorAtWork?.() ?? false);
  return deriveStatus(state, { alive, fifoExists, frozen: alive ? opts.isFrozen() : false, creatorAtWork });
}

/** runc's `state` JSON object. runc reports pid 0 for a stopped container. */
export function toOciState(state: ContainerState, status: ContainerStatus): OciState {
  // Built key by key in runc's order; annotations are omitted when empty (Go omitempty).
  const out: OciState = {
    ociVersion: state.ociVersion,
    id: state.id,
    pid: status === 'stopped' ? 0 : state.pid,
    status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: state.created,
    owner: state.owner,
  };
  const keys = Object.keys(state.annotations ?? {});
  if (keys.length === 0) return out;
  // In key order, as Go writes a map (runc's config keeps the bundle's order).
  const annotations: Record<string, string> = {};
  for (const k of keys.sort()) annotations[k] = state.annotations[k] as string;
  // Re-create to place annotations before owner, as runc does.
  const { owner, ...head } = out;
  return { ...head, annotations, owner };
}

/** Exactly what `runc state` writes: 2-space indented JSON, no trailing newline. */
export function formatOciState(state: OciState): string {
  return JSON.stringify(state, null, 2);
}
