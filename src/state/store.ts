// The state store under --root: one directory per container holding state.json, the
// lock file and the exec FIFO. Every path is built from a validated id, and the
// container dir is never followed through a symlink.
import * as fs from 'fs';
import * as path from 'path';
import { ContainerExistsError, ContainerNotFoundError, SyscallError, TsrunError } from '../errors';
import { validateContainerId } from './ids';
import type { ContainerState } from './types';
import { wantsStickyRoot } from './default-root';
import { crashPoint } from '../crash-point';
import { childPath, closeFile, fileKind, listDir, listSubdirectories, makeDir, openFile, readText, removeDir, removeFile, renameFile, sameFile, writeFile } from '../host-files';

const STATE_FILE = 'state.json';
const LOCK_FILE = 'lock';
const FIFO_FILE = 'exec.fifo';

/** flock(2) on an open fd; false when nonBlocking and the lock is held elsewhere. */
export type FlockFn = (fd: number, exclusive: boolean, nonBlocking: boolean) => boolean;

/** renameat2(RENAME_EXCHANGE); false where `to` does not exist or the filesystem cannot swap. */
export type ExchangeFn = (from: string, to: string) => boolean;

export interface StateStoreOptions {
  /** Injected in unit tests; defaults to the addon's flock (loaded only when locking). */
  flock?: FlockFn;
  /** Injected in unit tests; defaults to the addon's exchangeFiles (rename without it). */
  exchange?: ExchangeFn;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export class StateStore {
  readonly root: string;
  private readonly flockFn?: FlockFn;
  private readonly exchangeFn?: ExchangeFn;

  constructor(root: string, opts: StateStoreOptions = {}) {
    this.root = path.resolve(root);
    this.flockFn = opts.flock;
    this.exchangeFn = opts.exchange;
  }

  /** mkdir -p the root, mode 0700: state files reveal pids, paths and configs. */
  ensureRoot(): void {
    // One mkdir(2) tells, but before a host's first container: then its parents too.
    try {
      makeDir(this.root, 0o700);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    }
    if (wantsStickyRoot(this.root)) fs.chmodSync(this.root, 0o1700);
  }

  /**
   * Path of the container's dir. Validates the id first; refuses a symlink at that
   * place (a planted link could redirect state writes and `rm -rf` elsewhere).
   * The dir need not exist.
   */
  dir(id: string): string {
    validateContainerId(id);
    const dir = childPath(this.root, id);
    // No entry is the usual case of create: no exception made for it (tens of µs each).
    const kind = fileKind(dir);
    if (kind !== null && kind !== 'dir') {
      throw new TsrunError(`state dir ${dir} is not a directory${kind === 'symlink' ? ' (symlink)' : ''}: refusing to use it`);
    }
    return dir;
  }

  /**
   * Creates the container dir; mkdir(2) is atomic, so of N concurrent creators of
   * one id exactly one succeeds and the others get ContainerExistsError. Mode 0711
   * like runc's: not listable by others, but traversable. Returns the dir.
   */
  reserve(id: string): string {
    const dir = this.dir(id);
    this.ensureRoot();
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if (errno(e) === 'EEXIST') throw new ContainerExistsError(id);
      throw e;
    }
    return dir;
  }

  /** True when the container dir exists (with or without state.json). */
  exists(id: string): boolean {
    return fileKind(this.dir(id)) === 'dir';
  }

  /**
   * Atomic replace of state.json: readers see the old or the new file, never a torn
   * one, also when tsrun is killed midway (write a temp file, swap it in). There is no
   * fsync: the state describes live processes and lives in tmpfs (/run); after a
   * power loss there is nothing left for it to describe, and create writes it
   * several times on the path every container start waits for. For the same reason
   * an existing state.json is swapped with the new one (RENAME_EXCHANGE), whose old
   * content is then unlinked, rather than renamed over: ext4, where a --root on disk
   * may be (/run is on some hosts), starts writing a file renamed over another back
   * to the disk at once (its auto_da_alloc), 0.1-1 ms in each of create's later
   * writes, where a short-lived container's state is never written back at all.
   */
  write(id: string, state: ContainerState): void {
    const dir = this.dir(id);
    const tmp = childPath(dir, `${STATE_FILE}.tmp-${process.pid}`);
    const data = JSON.stringify(state);
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;
    try {
      writeFile(tmp, data, flags, 0o600);
      const target = childPath(dir, STATE_FILE);
      if ((this.exchangeFn ?? defaultExchange)(tmp, target)) unlinkQuietly(tmp);
      else renameFile(tmp, target);
    } catch (e) {
      try {
        removeFile(tmp);
      } catch {
        // nothing was created, or already renamed
      }
      if (errno(e) === 'ENOENT') throw new ContainerNotFoundError(id);
      throw e;
    }
  }

  /** The recorded state; ContainerNotFoundError when the dir or state.json is missing. */
  read(id: string): ContainerState {
    const state = this.readIfAny(id);
    if (!state) throw new ContainerNotFoundError(id);
    return state;
  }

  /**
   * The recorded state, or null when the dir exists without state.json (a create
   * crashed before its first write: `delete --force` must still find and remove it).
   * ContainerNotFoundError when there is no dir at all.
   */
  readIfAny(id: string): ContainerState | null {
    const dir = this.dir(id);
    let text: string;
    try {
      text = readText(childPath(dir, STATE_FILE));
    } catch (e) {
      // Named here with the code alone (EISDIR: a directory in its place).
      if (errno(e) !== 'ENOENT' && errno(e) !== 'ENOTDIR') throw new SyscallError('read', errno(e) ?? '', `read ${childPath(dir, STATE_FILE)}: ${errno(e) ?? (e as Error).message}`);
      if (this.exists(id)) return null;
      throw new ContainerNotFoundError(id);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new TsrunError(`state of container ${id} is corrupt: ${childPath(dir, STATE_FILE)} is not valid JSON`);
    }
    return checkState(id, parsed, childPath(dir, STATE_FILE));
  }

  /** Ids of the containers under root, sorted; entries that are not plain dirs with valid ids are skipped. */
  list(): string[] {
    const ids: string[] = [];
    // readdir's types, links not followed: a symlink is no container dir here.
    for (const name of this.rootDirs()) {
      if (name.startsWith('~')) {
        this.purgeIfAbandoned(name);
        continue;
      }
      if (!isListableId(name)) continue;
      ids.push(name);
    }
    return ids.sort();
  }

  /**
   * rm -rf the container dir (state, lock, FIFO). Missing dir is not an error. The
   * dir is first renamed out of the way (atomic): otherwise a command that opens
   * the lock file (O_CREAT) between rm's unlinks and its rmdir recreates it and the
   * rmdir fails with ENOTEMPTY. The new name has a character ids cannot have, so
   * list() never shows it.
   */
  remove(id: string): void {
    const dir = this.dir(id);
    const grave = path.join(this.root, `~removed-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    try {
      renameFile(dir, grave);
    } catch (e) {
      if (errno(e) === 'ENOENT') return;
      throw e;
    }
    crashPoint('delete:renamed');
    removeFlatDir(grave);
  }

  /**
   * Removes the private dirs of creates and deletes that were killed midway (see
   * purgeIfAbandoned). `delete` calls it when the id it was given has no dir: what a
   * caller retries after such a crash (containerd's shim sends `delete --force`),
   * the only case where those dirs can be the id's. A normal delete never reads the
   * whole root.
   */
  sweepAbandoned(): void {
    for (const name of this.rootDirs()) if (name.startsWith('~')) this.purgeIfAbandoned(name);
  }

  /** The directories in root (no symlinks); none when it does not exist yet. */
  private rootDirs(): string[] {
    try {
      return listSubdirectories(this.root);
    } catch (e) {
      if (errno(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /**
   * `~reserve-<pid>-…` and `~removed-<pid>-…` are a create's or a delete's private
   * dirs; one whose process is gone (killed midway) is removed by `list` and by
   * sweepAbandoned. The pid is tsrun's own, which keeps running while the dir is in
   * use; a pid reused since only makes a dir wait for the next sweep.
   */
  private purgeIfAbandoned(name: string): void {
    const m = /^~(?:reserve|removed)-(\d+)-/.exec(name);
    if (!m) return;
    const pid = Number(m[1]);
    if (pid === process.pid || fs.existsSync(`/proc/${pid}`)) return;
    fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
  }

  /** Path of the exec FIFO the init parks on until `start`. */
  fifoPath(id: string): string {
    return childPath(this.dir(id), FIFO_FILE);
  }

  /**
   * Takes an exclusive flock on <dir>/lock, blocking until it is free, so commands on
   * one container run one at a time. Call the returned function to release (closing
   * the fd drops the lock; a crashed holder releases it by exiting).
   *
   * If the dir was removed (delete) while we waited, the lock we got is on an
   * unlinked file and protects nothing: detected by comparing inodes, then we either
   * retry on the new file or report the container gone.
   */
  /**
   * reserve() and lock() as one step: the dir is made under a temporary name with
   * its lock file already locked, then renamed into place without replacing
   * anything. No other command can ever see the dir unlocked, so a concurrent
   * delete cannot remove it and a second create cannot share it.
   */
  reserveLocked(id: string): () => void {
    const dir = this.dir(id);
    this.ensureRoot();
    if (fileKind(dir) !== null) throw new ContainerExistsError(id);
    // '~' cannot be in an id: list() never shows the temporary name.
    const tmp = path.join(this.root, `~reserve-${process.pid}-${Math.random().toString(36).slice(2)}`);
    if (!makeDir(tmp, 0o711)) throw new TsrunError(`${tmp} exists already`);
    let fd: number | undefined;
    try {
      fd = openFile(childPath(tmp, LOCK_FILE), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
      (this.flockFn ?? defaultFlock)(fd, true, false);
      crashPoint('create:reserving');
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      (require('../native') as typeof import('../native')).native().renameNoReplace(tmp, dir);
    } catch (e) {
      if (fd !== undefined) closeFile(fd);
      fs.rmSync(tmp, { recursive: true, force: true });
      if (errno(e) === 'EEXIST' || errno(e) === 'ENOTEMPTY') throw new ContainerExistsError(id);
      throw e;
    }
    const held = fd;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      closeFile(held);
    };
  }

  /**
   * Whether another process holds the container's lock right now (a create under
   * way): tried without waiting, and given back at once when it was free.
   */
  lockedElsewhere(id: string): boolean {
    let fd: number;
    try {
      fd = openFile(childPath(this.dir(id), LOCK_FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      return false; // no lock file: nobody can hold it
    }
    try {
      return !(this.flockFn ?? defaultFlock)(fd, true, true);
    } finally {
      closeFile(fd);
    }
  }

  lock(id: string): () => void {
    const flock = this.flockFn ?? defaultFlock;
    const lockPath = childPath(this.dir(id), LOCK_FILE);
    for (;;) {
      let fd: number;
      try {
        fd = openLockFile(lockPath);
      } catch (e) {
        if (errno(e) === 'ENOENT') throw new ContainerNotFoundError(id);
        if (errno(e) === 'ELOOP') throw new TsrunError(`lock file ${lockPath} is a symlink: refusing to use it`);
        throw e;
      }
      try {
        flock(fd, true, false);
        if (sameFile(fd, lockPath)) {
          let released = false;
          return () => {
            if (released) return;
            released = true;
            closeFile(fd);
          };
        }
      } catch (e) {
        closeFile(fd);
        throw e;
      }
      closeFile(fd);
      // The file we locked was replaced or removed: loop; ENOENT above ends it when the dir is gone.
    }
  }
}

/**
 * The lock file, made when missing. On a read-only --root (a read-only bind of it)
 * the one create made is opened read-only, which flock takes all the same: kill,
 * exec, pause and resume, which write no state, still work there, as with runc.
 */
function openLockFile(lockPath: string): number {
  try {
    return openFile(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    if (errno(e) !== 'EROFS') throw e;
    return openFile(lockPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  }
}

/** list() shows the same ids validateContainerId accepts. */
function isListableId(name: string): boolean {
  try {
    validateContainerId(name);
    return true;
  } catch {
    return false;
  }
}

function defaultFlock(fd: number, exclusive: boolean, nonBlocking: boolean): boolean {
  // Lazy: loading the addon costs time that read-only commands need not pay.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { native } = require('../native') as typeof import('../native');
  return native().flock(fd, exclusive, nonBlocking);
}

function defaultExchange(from: string, to: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { native } = require('../native') as typeof import('../native');
  return native().exchangeFiles(from, to);
}

/** After a swap the temp name holds the old state: a file left behind goes with the dir. */
function unlinkQuietly(file: string): void {
  try {
    removeFile(file);
  } catch {
    // removed with the container's dir
  }
}

function checkState(id: string, value: unknown, file: string): ContainerState {
  const bad = (what: string): never => {
    throw new TsrunError(`state of container ${id} is corrupt: ${file}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const v = value as Record<string, unknown>;
  if (v.id !== id) bad(`records id ${JSON.stringify(v.id)}`);
  if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid < 0) bad('pid is not a non-negative integer');
  for (const key of ['ociVersion', 'startTime', 'bundle', 'rootfs', 'created'] as const) {
    if (typeof v[key] !== 'string') bad(`${key} is not a string`);
  }
  if (typeof v.cgroupPaths !== 'object' || v.cgroupPaths === null) bad('cgroupPaths is not an object');
  if (typeof v.owner !== 'string') v.owner = '';
  if (typeof v.annotations !== 'object' || v.annotations === null) v.annotations = {};
  if (typeof v.config !== 'object' || v.config === null) v.config = {};
  return v as unknown as ContainerState;
}

/**
 * rm -rf of a container dir, which holds only files (lock, state, FIFO): unlink each,
 * then rmdir. fs.rmSync does the same but loads its rimraf module first, a cost every
 * `delete` would pay; anything unexpected (a subdirectory) falls back to it.
 */
function removeFlatDir(dir: string): void {
  try {
    for (const name of listDir(dir)) removeFile(childPath(dir, name));
    removeDir(dir);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
