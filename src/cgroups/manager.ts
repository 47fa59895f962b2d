// The cgroup manager interface, and the parts the v1 and v2 drivers share: making
// the dirs (recording which ones we made), placing processes, listing them, and
// removing exactly what we made.
import * as fs from 'fs';
import * as path from 'path';
import { childPath, closeFile, exists, makeDir, openFile, readTextIfExists, removeDir, writeOnce } from '../host-files';
import type { DeviceCgroupRule } from '../config/types';
import { CgroupError, ConfigError } from '../errors';
import type { CgroupLayout, Hierarchy } from './detect';
import type { CgroupWrite, LinuxResources } from './resources';
import type { CgroupStats } from './stats';
import type { PlanOptions } from './v1-resources';

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /** The systemd scope holding the cgroups (systemd.ts); undefined for the cgroupfs driver. */
  readonly systemdUnit?: string;
  /** Lets go of what the driver holds open (the systemd driver's connection). */
  close?(): void;
  /**
   * The container's cgroup dir per hierarchy, keyed by Hierarchy.key ('cpu',
   * 'memory', 'systemd', 'unified', or 'cpu,cpuacct' for co-mounted controllers).
   */
  paths(): Record<string, string>;
  /** The dir of the hierarchy holding `controller` ('memory', 'name=systemd', or 'unified'). */
  controllerPath(controller: string): string | undefined;
  /** Dirs create() made, parents before children. Record it in the state for a later destroy(). */
  created(): string[];
  /**
   * mkdir in every hierarchy (parents as needed). Undoes its own work on failure.
   * A leaf that exists with processes in it is refused, unless `occupiedOk` (the
   * systemd driver's: systemd made it, with the init in it).
   */
  create(opts?: { occupiedOk?: boolean }): void;
  /** Moves `pid` into the container's cgroup in every hierarchy. */
  apply(pid: number): void;
  /**
   * Device access: deny all, then `rules` (linux.resources.devices) in order, then
   * runc's default allow list. `specDevicePaths` (paths of linux.devices) drop the
   * defaults they redefine, as runc does. Returns warnings (what the systemd driver's
   * unit cannot hold).
   */
  setDevices(rules: readonly DeviceCgroupRule[], specDevicePaths?: readonly string[]): string[];
  /**
   * Applies linux.resources (all but devices). Every value is planned (and so
   * checked) before the first write; a failing write is reported naming the config
   * field. Returns warnings for settings the kernel no longer honours.
   */
  set(resources: LinuxResources, opts?: PlanOptions): string[];
  /** Usage counters in runc's `events` JSON shape. */
  stats(): CgroupStats;
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /**
   * SIGKILLs every process of the cgroup at once when the kernel offers that (v2
   * cgroup.kill, Linux 5.14+): no fork can escape it. False when it does not (v1).
   */
  killAll(): boolean;
  /** Pids in the container's cgroup and its sub-cgroups, ascending. */
  pids(): number[];
  /**
   * Removes the container's leaves (and any sub-cgroups the container made in them);
   * parents stay. Processes are not killed here: the lifecycle kills them first.
   * Returns a note for each leaf that existed before the create and is left (its
   * maker still uses it, or keeps the right to remove it); throws if a leaf it made
   * cannot go.
   */
  destroy(): string[];
}

/** One hierarchy and the container's dir in it. */
export interface Placement {
  h: Hierarchy;
  dir: string;
}

export interface ManagerDeps {
  layout: CgroupLayout;
  placements: Placement[];
  /** Paths came from state.json: the leaves are the container's (destroy removes them). */
  restored?: boolean;
  /** With `restored`: what the earlier create() made (recorded as cgroupCreated). */
  created?: string[];
  /** Injected by unit tests: a fake tree cannot rmdir a dir holding files, cgroupfs can. */
  rmdir?: (dir: string) => void;
  /** Injected by unit tests: a fake tree is no cgroup2 dir to attach a device program to. */
  attachDeviceFilter?: (dir: string, insns: Buffer) => void;
}

export function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** A synchronous sleep that does not spin (these commands are synchronous throughout). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** How long removing a busy cgroup retries at first, and at most while it lists no process (ms). */
const BUSY_SHORT_MS = 31;
const BUSY_LONGEST_MS = 2000;

/**
 * Reads a cgroup file, trimmed; null when it does not exist. A cgroup removed while
 * its file is opened or read (systemd ending an emptied scope, a sibling's delete)
 * answers ENODEV, not ENOENT: that file is gone too.
 */
export function readCgroupFile(dir: string, name: string): string | null {
  try {
    return readTextIfExists(childPath(dir, name))?.trim() ?? null;
  } catch (e) {
    if (errno(e) === 'ENODEV') return null;
    throw new CgroupError(childPath(dir, name), `read ${childPath(dir, name)}: ${errno(e)}`);
  }
}

/**
 * Create's check, over the container's dirs (hierarchy key -> dir): a process put
 * there now would freeze at once, in the middle of its set-up. v1: the freezer
 * hierarchy's state is not THAWED (frozen by itself or through an ancestor); v2: the
 * unified dir is frozen or on its way (cgroup.freeze, cgroup.events).
 */
function freezesNewProcesses(dirs: Readonly<Record<string, string>>): boolean {
  for (const [key, dir] of Object.entries(dirs)) {
    if (key.split(',').includes('freezer')) {
      const state = readCgroupFile(dir, 'freezer.state');
      if (state !== null && state !== 'THAWED') return true;
    } else if (key === 'unified') {
      if (readCgroupFile(dir, 'cgroup.freeze') === '1') return true;
      if (/^frozen 1$/m.test(readCgroupFile(dir, 'cgroup.events') ?? '')) return true;
    }
  }
  return false;
}

/** One write(2) per value: cgroup files take one value per write. */
export function writeCgroupFile(dir: string, name: string, value: string): void {
  writeCgroupLines(dir, [{ file: name, value }]);
}

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

function isCgroupFsType(type: number): boolean {
  return type === CGROUP_SUPER_MAGIC || type === CGROUP2_SUPER_MAGIC;
}

/** Refuses a dir that is not on a cgroup or cgroup2 filesystem (a recorded path tsrun writes into). */
export function checkOnCgroupFs(dir: string): void {
  let type: number;
  try {
    type = fs.statfsSync(dir).type;
  } catch (e) {
    throw new CgroupError(dir, `statfs ${dir}: ${errno(e)}`);
  }
  if (!isCgroupFsType(type)) throw new CgroupError(dir, `${dir} is not on a cgroup filesystem`);
}

/** Whether dir is on a cgroup or cgroup2 filesystem; false when it cannot be asked. */
export function isOnCgroupFs(dir: string): boolean {
  try {
    return isCgroupFsType(fs.statfsSync(dir).type);
  } catch {
    return false;
  }
}

/**
 * Writes values in order, one write(2) each (a devices cgroup takes one rule per
 * write), opening each file once for all of its values.
 */
export function writeCgroupLines(dir: string, lines: readonly { file: string; value: string }[]): void {
  const fds = new Map<string, number>();
  try {
    for (const { file, value } of lines) {
      const full = childPath(dir, file);
      try {
        let fd = fds.get(file);
        if (fd === undefined) {
          fd = openFile(full, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o666);
          fds.set(file, fd);
        }
        // cgroupfs takes a value whole or not at all: a short count is an error.
        if (writeOnce(fd, value) !== Buffer.byteLength(value)) throw Object.assign(new Error('short write'), { code: 'EIO' });
      } catch (e) {
        throw new CgroupError(full, `write ${JSON.stringify(value)} to ${full}: ${errno(e)}`, errno(e));
      }
    }
  } finally {
    for (const fd of fds.values()) {
      try {
        closeFile(fd);
      } catch {
        // the write's error, if any, is the one to report
      }
    }
  }
}

/** runc's words for a v1 memory limit below what the cgroup already uses (EBUSY). */
function memoryLimitInUse(dir: string, w: CgroupWrite, e: unknown): string | undefined {
  if (w.file !== 'memory.limit_in_bytes' || !(e instanceof CgroupError) || e.errno !== 'EBUSY') return undefined;
  // A read that fails too must not hide the EBUSY.
  const read = (file: string): string => {
    try {
      return readCgroupFile(dir, file) ?? '?';
    } catch {
      return '?';
    }
  };
  return `unable to set memory limit to ${w.value} (current usage: ${read('memory.usage_in_bytes')}, peak usage: ${read('memory.max_usage_in_bytes')})`;
}

/** A file's value before a write, to put back; undefined when it cannot be read. */
function previousValue(dir: string, file: string): string | undefined {
  try {
    return readCgroupFile(dir, file) ?? undefined;
  } catch {
    return undefined;
  }
}

/** What performWrites learns of each write: the value before it, and that the kernel took it. */
interface WriteRecorder {
  before(dir: string, file: string): string | undefined;
  written(dir: string, file: string, before: string | undefined): void;
}

/**
 * Writes back what `done` recorded, newest first: the kernel accepted every state on
 * the way forward, so it accepts them on the way back (memory before memsw or after,
 * quota and period). A file of several lines (io.weight's "default 100" and its
 * devices) takes them one write each; a keyed file that had no line for a key the
 * update added (an io.max device) keeps that key. Returns what failed.
 */
function restoreValues(done: readonly { dir: string; file: string; before: string }[]): string[] {
  const problems: string[] = [];
  for (const { dir, file, before } of [...done].reverse()) {
    const lines = before.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    try {
      writeCgroupLines(dir, lines.map((value) => ({ file, value })));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

function depth(p: string): number {
  return p.split('/').length;
}

export abstract class BaseManager implements CgroupManager {
  readonly layout: CgroupLayout;
  protected readonly placements: Placement[];

  /** What a cgroup command says of a container that has none (rootless, nothing delegated). */
  protected static readonly NO_OWN_CGROUP = 'the container has no cgroup of its own (rootless without a delegated cgroup)';
  private createdDirs: string[];
  /** The leaves are the container's: restored, or create() succeeded. */
  private holdsLeaves: boolean;
  private readonly rmdirFn: (dir: string) => void;

  constructor(deps: ManagerDeps) {
    this.holdsLeaves = deps.restored === true;
    this.layout = deps.layout;
    this.placements = deps.placements;
    this.rmdirFn = deps.rmdir ?? removeDir;
    // Restored lists are trusted only for dirs that are the leaf or one of its
    // ancestors below a mount point: never a path outside the cgroup filesystems.
    this.createdDirs = deps.created
      ? deps.created.filter((d) => this.placements.some((p) => d === p.dir || (p.dir.startsWith(`${d}/`) && d.startsWith(`${p.h.mountPoint}/`))))
      : [];
  }

  /** Driver hook: configure a dir this manager just made (before its children are made). */
  protected abstract prepareCreated(p: Placement, dir: string, isLeaf: boolean): void;
  /** Driver hook: a dir on the way that existed already (perhaps made an instant ago by a sibling's create). */
  protected prepareExisting(_p: Placement, _dir: string): void {
    // nothing by default
  }
  /** Driver hook: false where prepareExisting does nothing for this placement's parents. */
  protected preparesParents(_p: Placement): boolean {
    return true;
  }
  abstract setDevices(rules: readonly DeviceCgroupRule[], specDevicePaths?: readonly string[]): string[];
  abstract set(resources: LinuxResources, opts?: PlanOptions): string[];
  abstract stats(): CgroupStats;
  abstract freeze(): void;
  abstract thaw(): void;
  abstract isFrozen(): boolean;
  abstract killAll(): boolean;
  /** The hierarchy pids() reads. */
  protected abstract primary(): Placement;

  /**
   * Performs planned writes. `dirFor` gives the dir holding a write's file (undefined:
   * its controller is not there, `missing` says why). Errors name the config field.
   * With `restore` (update), a failure puts back what the writes before it changed,
   * newest first, so a refused update leaves the limits as they were (runc means to
   * do the same by applying the recorded config again).
   */
  protected performWrites(
    writes: readonly CgroupWrite[],
    dirFor: (w: CgroupWrite) => string | undefined,
    missing: (w: CgroupWrite) => string,
    restore = false,
  ): void {
    // Each write the kernel took, with the value it replaced. A refused write changed
    // nothing and is not put back (the kernel may refuse that value too: an idle
    // group's cpu.shares reads 3 and takes no write).
    const done: { dir: string; file: string; before: string }[] = [];
    const recorder: WriteRecorder | undefined = restore
      ? {
          before: (dir, file) => previousValue(dir, file),
          written: (dir, file, before) => {
            if (before !== undefined) done.push({ dir, file, before });
          },
        }
      : undefined;
    try {
      this.writeInOrder(writes, dirFor, missing, recorder);
    } catch (e) {
      if (done.length === 0 || !(e instanceof ConfigError)) throw e;
      const problems = restoreValues(done);
      if (problems.length === 0) throw e;
      throw new ConfigError(e.field, `${e.reason}; putting back the previous values failed too (${problems.join('; ')}): the cgroup and the recorded config may disagree`);
    }
  }

  /** The writes, in order, each told to `recorder` before its write(2) and once the kernel took it. */
  private writeInOrder(
    writes: readonly CgroupWrite[],
    dirFor: (w: CgroupWrite) => string | undefined,
    missing: (w: CgroupWrite) => string,
    recorder: WriteRecorder | undefined,
  ): void {
    // Writes the kernel refused with EINVAL, each waiting for the later write it names.
    const waiting: { w: CgroupWrite; dir: string; error: ConfigError }[] = [];
    const failed = (w: CgroupWrite, dir: string, e: unknown): ConfigError => new ConfigError(w.field, memoryLimitInUse(dir, w, e) ?? (e as Error).message);
    const write = (w: CgroupWrite, dir: string): void => {
      const before = recorder?.before(dir, w.file);
      writeCgroupFile(dir, w.file, w.value);
      recorder?.written(dir, w.file, before);
    };
    const verify = (w: CgroupWrite, dir: string): void => {
      const reason = w.verify?.(readCgroupFile(dir, w.file) ?? '');
      if (reason) throw new ConfigError(w.field, reason);
    };
    for (const w of writes) {
      const dir = dirFor(w);
      if (dir === undefined || !exists(path.join(dir, w.file))) {
        // A dir removed (or renamed) by someone else since create is not a file this kernel lacks.
        if (dir !== undefined && !exists(dir)) throw new ConfigError(w.field, `the container's cgroup ${dir} no longer exists`);
        throw new ConfigError(w.field, missing(w));
      }
      try {
        write(w, dir);
      } catch (e) {
        if (w.retryAfter === undefined || !(e instanceof CgroupError) || e.errno !== 'EINVAL') throw failed(w, dir, e);
        waiting.push({ w, dir, error: failed(w, dir, e) });
        continue;
      }
      verify(w, dir);
      for (let i = 0; i < waiting.length; i++) {
        const held = waiting[i];
        if (held.w.retryAfter !== w.file || held.w.controller !== w.controller) continue;
        waiting.splice(i--, 1);
        try {
          write(held.w, held.dir);
        } catch (e) {
          throw failed(held.w, held.dir, e);
        }
        verify(held.w, held.dir);
      }
    }
    // The write it waited for was not in the plan: the refusal stands.
    if (waiting.length > 0) throw waiting[0].error;
  }

  /** Each hierarchy and the container's dir in it. */
  placementList(): readonly Placement[] {
    return this.placements;
  }

  paths(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.placements) out[p.h.key] = p.dir;
    return out;
  }

  controllerPath(controller: string): string | undefined {
    if (controller === 'unified') return this.placements.find((p) => p.h.kind === 'v2')?.dir;
    return this.placements.find((p) => p.h.controllers.includes(controller))?.dir;
  }

  created(): string[] {
    return [...this.createdDirs];
  }

  create(opts: { occupiedOk?: boolean } = {}): void {
    const made: string[] = [];
    try {
      for (const p of this.placements) {
        // With nothing to do on the parents, one mkdir of the leaf is the whole job
        // when they exist (the usual case: walking down from the mount point costs an
        // EEXIST per level). Any failure is left to the walk, which knows them all.
        if (!this.preparesParents(p) && this.mkdirLeaf(p.dir)) {
          made.push(p.dir);
          this.prepareCreated(p, p.dir, true);
          continue;
        }
        const parts = path.relative(p.h.mountPoint, p.dir).split('/');
        let cur = p.h.mountPoint;
        // A parent that existed can be removed under us by whoever made it (a failed
        // create rolling back): start the walk again, a few times, before giving up.
        let restarts = 0;
        for (let i = 0; i < parts.length; i++) {
          cur = path.join(cur, parts[i]);
          const isLeaf = i === parts.length - 1;
          let madeHere: boolean;
          try {
            madeHere = makeDir(cur, 0o755);
          } catch (e) {
            if (errno(e) === 'ENOENT' && i > 0 && restarts++ < 3) {
              cur = p.h.mountPoint;
              i = -1;
              continue;
            }
            throw new CgroupError(cur, `mkdir ${cur}: ${errno(e)}`);
          }
          if (!madeHere) {
            // An existing leaf is used (runc does the same), but only while nothing
            // lives in it or below it: sharing it would make delete, kill --all or
            // pause reach someone else's processes (runc 1.2 refuses it too).
            if (isLeaf && !opts.occupiedOk && this.procsUnder(cur).length > 0) {
              throw new CgroupError(cur, `container's cgroup is not empty: ${cur} already exists and has processes in it or below it`);
            }
            this.prepareExisting(p, cur);
            continue;
          }
          made.push(cur);
          this.prepareCreated(p, cur, isLeaf);
        }
      }
      // An init put there would freeze halfway through its set-up, and the create
      // with it, for good. runc refuses it before its init joins the cgroup, and so
      // leaves such a leaf where it was: so does this (it is not the container's yet).
      if (freezesNewProcesses(this.paths())) throw new CgroupError(this.primary().dir, "container's cgroup unexpectedly frozen");
    } catch (e) {
      for (const d of [...made].sort((a, b) => depth(b) - depth(a))) {
        try {
          this.rmdirFn(d);
        } catch {
          // best effort: the original error is the one to report
        }
      }
      throw e;
    }
    this.createdDirs.push(...made);
    this.holdsLeaves = true;
  }

  private mkdirLeaf(dir: string): boolean {
    try {
      return makeDir(dir, 0o755);
    } catch {
      return false;
    }
  }

  apply(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError('', `invalid pid ${pid}`);
    for (const p of this.placements) writeCgroupFile(p.dir, 'cgroup.procs', String(pid));
  }

  /** The first leaf that exists with processes in it or below it, if any. */
  occupiedLeaf(): string | undefined {
    return this.placements.find((p) => p.dir !== p.h.mountPoint && this.procsUnder(p.dir).length > 0)?.dir;
  }

  pids(): number[] {
    // A rootless container without a cgroup of its own has no placements: no way to
    // list its processes through a cgroup.
    if (this.placements.length === 0) return [];
    return this.procsUnder(this.primary().dir);
  }

  /** The processes in `dir` and in the cgroups below it, sorted. */
  private procsUnder(dir: string): number[] {
    const found = new Set<number>();
    const walk = (d: string): void => {
      for (const pid of this.procsIn(d)) found.add(pid);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch (e) {
        if (errno(e) === 'ENOENT') return;
        throw e;
      }
      for (const ent of entries) if (ent.isDirectory()) walk(path.join(d, ent.name));
    };
    walk(dir);
    return [...found].sort((a, b) => a - b);
  }

  protected procsIn(dir: string): number[] {
    const text = readCgroupFile(dir, 'cgroup.procs');
    if (!text) return [];
    return text.split('\n').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  }

  /**
   * Removes the container's cgroups (with the sub-cgroups it made), as runc removes
   * its cgroup paths: also a leaf that existed before the create (create refuses one
   * with processes in it), so that a later container of the same path starts from a
   * new cgroup, not from the limits the last one left there. Never a hierarchy's
   * own root (a cgroupsPath of "/"). Parents stay, even those this container's create
   * made: they are shared with the containers beside it, and removing one races with
   * a sibling's create that found it and is about to make its own leaf in it.
   */
  destroy(): string[] {
    const failures: string[] = [];
    const left: string[] = [];
    // After a refused create() nothing is the container's (what it made, it removed).
    if (!this.holdsLeaves) return left;
    for (const p of this.placements) {
      if (p.dir === p.h.mountPoint) continue;
      if (this.createdDirs.includes(p.dir)) {
        const err = this.removeTree(p.dir);
        if (err) failures.push(err);
        else this.createdDirs = this.createdDirs.filter((d) => d !== p.dir);
        continue;
      }
      // A leaf someone else made stays theirs when we may not remove it (a cgroup
      // delegated to a rootless user, whose parent is not theirs), and when something
      // of theirs still uses it (runc only logs that too).
      const err = this.removeTree(p.dir, ['EACCES', 'EPERM']);
      if (err) left.push(`${p.dir} existed before the container and is left: ${err}`);
    }
    if (failures.length > 0) throw new CgroupError(failures[0], `cannot remove cgroup: ${failures.join('; ')}`);
    return left;
  }

  /**
   * rmdir the leaf, after its sub-cgroups (the container may have made some). Returns
   * an error text or null (also when rmdir fails with a code in `leftAlone`). The
   * rmdir is tried first: a cgroup without sub-cgroups (the usual case) costs one
   * syscall, not a listing of its thirty-odd files.
   */
  private removeTree(dir: string, leftAlone: readonly string[] = []): string | null {
    let childrenRemoved = false;
    // EBUSY right after the lifecycle killed the last process is expected: the task
    // has been reaped, but the kernel unlinks it from its css_set (v1) / clears
    // "populated" (v2) slightly later, on a loaded host later than the ~30 ms of short
    // retries that usually cover it. Past those, a cgroup that lists processes really
    // has live ones (an error at once); one that lists none is waited for, up to 2 s
    // (runc gives up after ~150 ms).
    let wait = 1;
    let waited = 0;
    for (;;) {
      let code: string;
      try {
        this.rmdirFn(dir);
        return null;
      } catch (e) {
        code = errno(e);
      }
      if (code === 'ENOENT' || leftAlone.includes(code)) return null;
      // cgroupfs answers EBUSY for a cgroup with sub-cgroups; a plain tree, ENOTEMPTY.
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') return `rmdir ${dir}: ${code}`;
      if (!childrenRemoved) {
        childrenRemoved = true;
        const err = this.removeChildren(dir);
        if (err) return err;
        continue;
      }
      if (waited >= BUSY_SHORT_MS && (waited >= BUSY_LONGEST_MS || this.listsProcesses(dir))) return `rmdir ${dir}: ${code}`;
      sleepMs(wait);
      waited += wait;
      wait = Math.min(wait * 2, 50);
    }
  }

  /** Whether `dir` or a cgroup below it lists a process (one that cannot be read: as if it did). */
  private listsProcesses(dir: string): boolean {
    try {
      return this.procsUnder(dir).length > 0;
    } catch {
      return true;
    }
  }

  private removeChildren(dir: string): string | null {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      return errno(e) === 'ENOENT' ? null : `readdir ${dir}: ${errno(e)}`;
    }
    for (const ent of entries) {
      if (!ent.isDirectory()) continue;
      const err = this.removeTree(path.join(dir, ent.name));
      if (err) return err;
    }
    return null;
  }
}

/**
 * Polls `done` with short sleeps for up to `timeoutMs`, calling `nudge` every 25th
 * try. Freezing is asynchronous in the kernel; there is no synchronous way to wait.
 */
export function pollUntil(done: () => boolean, timeoutMs: number, nudge?: () => void): boolean {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    if (nudge && i % 25 === 24) nudge();
    sleepMs(i < 10 ? 1 : 10);
  }
}
