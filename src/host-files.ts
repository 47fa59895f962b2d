// The file operations on the path of every container start and stop (state.json and
// its lock, cgroup files, /proc), through the addon's plain syscalls
// (addon/native/file-ops.cpp): Node's fs compiles its JavaScript for each function a
// process calls, the first time, and adds 10-30 us to every call after that, where a
// `run` makes ~130 of them. Errors have Node's shape where callers look (code, errno,
// syscall). Without a built addon (state and list still answer then), Node's fs.
import * as fs from 'fs';
import { native, type NativeAddon, type NativeFileFacts } from './native';

export type FileKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

/** What files are told apart and compared by (the addon's facts, the kind typed). */
export interface FileFacts extends Omit<NativeFileFacts, 'kind'> {
  kind: FileKind;
}

/**
 * path.join(dir, name) for a dir that is absolute and normalized and a name that is
 * one component (no '/', not '.' or '..'), as the paths of state and cgroup files
 * are: without path.join's normalizing walk over every character, ~130 times a `run`.
 */
export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

let addon: NativeAddon | null | undefined;

function loadedAddon(): NativeAddon | null {
  if (addon === undefined) {
    try {
      addon = native();
    } catch {
      addon = null; // not built: Node's fs
    }
  }
  return addon;
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** The file's text (UTF-8). */
export function readText(file: string): string {
  const nat = loadedAddon();
  return nat ? nat.readText(file) : fs.readFileSync(file, 'utf8');
}

/** The file's text, or null when there is no such file. */
export function readTextIfExists(file: string): string | null {
  const nat = loadedAddon();
  if (nat) return nat.readTextIfExists(file);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
}

function kindOfStats(st: fs.Stats | fs.BigIntStats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'unknown';
}

/** Node's stat (with `follow`) or lstat, null when nothing is there. */
function statsOrNull(file: string, follow: boolean): fs.BigIntStats | null {
  try {
    return follow ? fs.statSync(file, { bigint: true }) : fs.lstatSync(file, { bigint: true });
  } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null;
    throw e;
  }
}

/** What is at `file` (lstat; stat with `follow`), or null when nothing is there. */
export function fileKind(file: string, follow = false): FileKind | null {
  const nat = loadedAddon();
  if (nat) return nat.fileKind(file, follow) as FileKind | null;
  const st = statsOrNull(file, follow);
  return st && kindOfStats(st);
}

/** Whether something is at `file` (followed), as fs.existsSync: any error is a no. */
export function exists(file: string): boolean {
  try {
    return fileKind(file, true) !== null;
  } catch {
    return false;
  }
}

/** mkdir(2) with `mode` (less the umask); false when something is there already. */
export function makeDir(dir: string, mode: number): boolean {
  const nat = loadedAddon();
  if (nat) return nat.makeDir(dir, mode);
  try {
    fs.mkdirSync(dir, { mode });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}

/** chmod(2): the mode as given, no umask. */
export function changeMode(file: string, mode: number): void {
  const nat = loadedAddon();
  if (nat) nat.changeMode(file, mode);
  else fs.chmodSync(file, mode);
}

export function removeDir(dir: string): void {
  const nat = loadedAddon();
  if (nat) nat.removeDir(dir);
  else fs.rmdirSync(dir);
}

export function removeFile(file: string): void {
  const nat = loadedAddon();
  if (nat) nat.removeFile(file);
  else fs.unlinkSync(file);
}

/** open(2) with numeric flags (fs.constants), close-on-exec; the fd. */
export function openFile(file: string, flags: number, mode = 0o666): number {
  const nat = loadedAddon();
  return nat ? nat.openFile(file, flags, mode) : fs.openSync(file, flags, mode);
}

export function closeFile(fd: number): void {
  const nat = loadedAddon();
  if (nat) nat.closeFd(fd);
  else fs.closeSync(fd);
}

/** One write(2) of `text`; the count written. */
export function writeOnce(fd: number, text: string): number {
  const nat = loadedAddon();
  return nat ? nat.writeOnce(fd, text) : fs.writeSync(fd, text);
}

/** open(2) with numeric flags and mode, all of `text`, close. */
export function writeFile(file: string, text: string, flags: number, mode: number): void {
  const nat = loadedAddon();
  if (nat) {
    nat.writeFile(file, text, flags, mode);
    return;
  }
  const fd = fs.openSync(file, flags, mode);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

export function renameFile(from: string, to: string): void {
  const nat = loadedAddon();
  if (nat) nat.renameFile(from, to);
  else fs.renameSync(from, to);
}

/** The names in a directory (not . and ..). */
export function listDir(dir: string): string[] {
  const nat = loadedAddon();
  return nat ? nat.listDir(dir) : fs.readdirSync(dir);
}

/** The names of the directories in a directory (a symlink to one is not one). */
export function listSubdirectories(dir: string): string[] {
  const nat = loadedAddon();
  if (nat) return nat.listSubdirectories(dir);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}

/** Whether `file` (not followed) is the file open at `fd`; false when nothing is there. */
export function sameFile(fd: number, file: string): boolean {
  const nat = loadedAddon();
  if (nat) return nat.sameFile(fd, file);
  const held = fs.fstatSync(fd);
  const now = fs.lstatSync(file, { throwIfNoEntry: false });
  return now !== undefined && now.ino === held.ino && now.dev === held.dev;
}

function factsOfStats(st: fs.BigIntStats): FileFacts {
  return { kind: kindOfStats(st), id: `${st.dev}:${st.ino}`, rdev: String(st.rdev), uid: Number(st.uid), mode: Number(st.mode & 0o7777n), size: Number(st.size), mtimeNs: String(st.mtimeNs) };
}

/** fstat: null when fd is not open. */
export function statFd(fd: number): FileFacts | null {
  const nat = loadedAddon();
  if (nat) return nat.statFd(fd) as FileFacts | null;
  try {
    return factsOfStats(fs.fstatSync(fd, { bigint: true }));
  } catch (e) {
    if (code(e) === 'EBADF') return null;
    throw e;
  }
}

/** lstat (stat with `follow`): null when nothing is there. */
export function statPath(file: string, follow = false): FileFacts | null {
  const nat = loadedAddon();
  if (nat) return nat.statPath(file, follow) as FileFacts | null;
  const st = statsOrNull(file, follow);
  return st && factsOfStats(st);
}

/** The text from the fd's offset to its end. */
export function readTextFd(fd: number): string {
  const nat = loadedAddon();
  return nat ? nat.readFd(fd) : fs.readFileSync(fd, 'utf8');
}

/** The file's access and modification times set to now. */
export function touchFd(fd: number): void {
  const nat = loadedAddon();
  if (nat) nat.touchFd(fd);
  else fs.futimesSync(fd, new Date(), new Date());
}

/** A symlink's target; null when there is no such link. */
export function readLink(file: string): string | null {
  const nat = loadedAddon();
  if (nat) return nat.readLink(file);
  try {
    return fs.readlinkSync(file);
  } catch (e) {
    if (code(e) === 'ENOENT') return null;
    throw e;
  }
}

/**
 * All of `text` to fd through the addon, waiting for room on a non-blocking pipe as
 * a blocking write would; false, and nothing written, without the addon.
 */
export function writeTextIfNative(fd: number, text: string): boolean {
  const nat = loadedAddon();
  if (!nat) return false;
  nat.writeText(fd, text);
  return true;
}
