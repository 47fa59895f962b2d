// What libseccomp made of a filter, kept under --root for the next create or exec
// that asks for the same filter. libseccomp takes 10-20 ms to build a profile such as
// Docker's or podman's default for three architectures, and an engine gives every
// container the same one. An entry holds everything it was made from (the filter,
// the library's version and file, the kernel, the architecture) and is used only when
// all of it is the same, so a program is never taken for another filter's: the file
// name is a hash, and a hash that collides only misses. The '~' in the directory's
// name is one no container id can have.
//
// A program read from here is loaded into containers, so the cache is used only
// where nobody but this user could have written it: --root and the directory owned by
// the effective user and writable by nobody else, the directory and its entries no
// symlinks (opened with O_NOFOLLOW), entries owned by the user. Anywhere else (a root
// others may write to) libseccomp builds every time, as before.
import * as fs from 'fs';
import * as path from 'path';
import { log } from '../log';
import { native } from '../native';

/** What compileSeccomp takes from libseccomp. */
export interface LibseccompOutput {
  bpf: Buffer;
  /** Names the library does not know (their rules were left out). */
  unknownSyscalls: string[];
  version: string;
  /** The highest syscall numbers the ENOSYS stub is bounded by ([] without a stub). */
  highest: number[];
}

/**
 * The library a program is built with (native seccompLibrary): the file it was
 * loaded from, checked to be the one mapped; `path` "" when that cannot be told.
 */
export interface LibseccompIdentity {
  version: string;
  path: string;
  dev?: number;
  ino?: number;
  size?: number;
  mtimeNs?: string;
}

export const SECCOMP_CACHE_DIR = '~seccomp-cache';
/** Bumped whenever an entry's layout or meaning changes. */
const FORMAT = 1;
/** Entries kept; the least recently used go first. An entry is a few KB to a few tens of KB. */
const MAX_ENTRIES = 64;
/** The names the cache writes: an entry, or one being written. Nothing else there is touched. */
const ENTRY_NAME = /^[0-9a-f]{16}\.json(\.tmp-\d+)?$/;
/** Below this much free space in --root nothing is written: the states need it more. */
const MIN_FREE_BYTES = 4 << 20;

interface Entry {
  format: number;
  material: string;
  bpf: string;
  unknownSyscalls: string[];
  version: string;
  highest: number[];
}

/**
 * libseccomp's output for `input` (the filter and the ENOSYS stub's question, as
 * compileSeccomp asks them): from the cache under `root` when an entry was made from
 * exactly the same, else from `build`, kept for next time. A cache that cannot be read
 * or written (a read-only --root, a full disk) only costs the build.
 */
export function cachedLibseccompOutput(root: string, input: unknown, library: LibseccompIdentity, build: () => LibseccompOutput): LibseccompOutput {
  const material = keyMaterial(input, library);
  const dir = path.join(root, SECCOMP_CACHE_DIR);
  if (material === undefined || !ownDirectory(root, 0o022)) return build();
  const file = path.join(dir, `${native().hash64(material)}.json`);
  const usable = ownDirectory(dir, 0o077);
  const found = usable ? readEntry(file, material) : undefined;
  if (found) return found;
  const output = build();
  try {
    if (usable || makeDirectory(dir)) writeEntry(dir, file, material, output);
  } catch (e) {
    log.debug(`seccomp cache: not kept (${(e as Error).message})`);
  }
  return output;
}

/** Everything the output depends on; undefined when the library's file cannot be told (nothing is cached then). */
function keyMaterial(input: unknown, library: LibseccompIdentity): string | undefined {
  if (!library.path) return undefined;
  let kernel: string;
  try {
    kernel = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return undefined;
  }
  // The file's identity, not only its version: a distribution's fix keeps the version.
  const file = [library.path, library.dev, library.ino, library.size, library.mtimeNs];
  return JSON.stringify([FORMAT, library.version, file, kernel, process.arch, input]);
}

/** A directory itself (no symlink), the effective user's, and writable by nobody else (no bit of `othersWrite`). */
function ownDirectory(dir: string, othersWrite: number): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === process.geteuid?.() && (st.mode & othersWrite) === 0;
  } catch {
    return false;
  }
}

/** Makes the cache's directory in an existing --root (the root is the state store's to make); whether it is now one to use. */
function makeDirectory(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
  }
  return ownDirectory(dir, 0o077);
}

function readEntry(file: string, material: string): LibseccompOutput | undefined {
  let entry: Entry;
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.uid !== process.geteuid?.()) return undefined;
    entry = JSON.parse(fs.readFileSync(fd, 'utf8')) as Entry;
    // Used now: the entries used least recently are the ones that go.
    const now = new Date();
    fs.futimesSync(fd, now, now);
  } catch {
    return undefined; // absent, or not whole (a crash before its rename reached the disk)
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const numbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isInteger(n));
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (entry.format !== FORMAT || entry.material !== material || typeof entry.bpf !== 'string' || typeof entry.version !== 'string') return undefined;
  if (!strings(entry.unknownSyscalls) || !numbers(entry.highest)) return undefined;
  const bpf = Buffer.from(entry.bpf, 'base64');
  // A BPF instruction is 8 bytes; anything else is no program libseccomp wrote.
  if (bpf.length === 0 || bpf.length % 8 !== 0) return undefined;
  return { bpf, unknownSyscalls: entry.unknownSyscalls, version: entry.version, highest: entry.highest };
}

/**
 * Written under a private name and renamed: a reader sees a whole entry or none. A
 * write that fails takes its partial file with it: a full --root must not stay full
 * because of the cache.
 */
function writeEntry(dir: string, file: string, material: string, output: LibseccompOutput): void {
  const free = fs.statfsSync(dir);
  if (free.bavail * free.bsize < MIN_FREE_BYTES) return;
  const entry: Entry = {
    format: FORMAT,
    material,
    bpf: output.bpf.toString('base64'),
    unknownSyscalls: output.unknownSyscalls,
    version: output.version,
    highest: output.highest,
  };
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    try {
      fs.writeFileSync(fd, JSON.stringify(entry));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  evictOldest(dir);
}

/** Keeps MAX_ENTRIES entries, removing those used least recently (and temporary files of writers long gone). */
function evictOldest(dir: string): void {
  const names = fs.readdirSync(dir).filter((name) => ENTRY_NAME.test(name));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names
    .map((name) => {
      try {
        return { name, mtime: fs.statSync(path.join(dir, name)).mtimeMs };
      } catch {
        return undefined; // removed meanwhile by another writer
      }
    })
    .filter((e): e is { name: string; mtime: number } => e !== undefined)
    .sort((a, b) => a.mtime - b.mtime);
  for (const { name } of byAge.slice(0, byAge.length - MAX_ENTRIES)) fs.rmSync(path.join(dir, name), { force: true });
}
