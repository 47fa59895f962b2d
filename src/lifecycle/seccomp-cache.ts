// What a seccomp profile compiles to, kept under --root for the next create or exec
// that asks for the same profile. Planning a profile such as Docker's or podman's
// default, libseccomp's build of it for three architectures (10-20 ms) and runc's
// ENOSYS stub are the same for every container an engine starts with it, and even a
// hit that planned the profile again spent ~1.5 ms of a `run` doing so. An entry holds
// everything it was made from (the profile, what the caller and the kernel answered,
// the library's version and file, the kernel, the architecture, tsrun's own build:
// src/lifecycle/build-identity.ts) and is used only when all of it is the same, so a
// program is never taken for another profile's: the file name is a hash, and a hash
// that collides only misses. An entry exists only for a profile that planned and
// compiled without error, so its errors are never skipped. The '~' in the
// directory's name is one no container id can have.
//
// A program read from here is loaded into containers, so the cache is used only
// where nobody but this user could have written it: --root and the directory owned by
// the effective user and writable by nobody else, the directory and its entries no
// symlinks (opened with O_NOFOLLOW), entries owned by the user. Anywhere else (a root
// others may write to) the profile is compiled every time, as before.
import * as fs from 'fs';
import * as path from 'path';
import type { ListenerHandover } from '../linux/seccomp';
import { closeFile, openFile, readText, readTextFd, statFd, statPath, touchFd } from '../host-files';
import { log } from '../log';
import { native } from '../native';

/** A profile compiled: what a process's `seccomp` op loads, and what was said on the way. */
export interface CompiledProfile {
  /** The BPF program (runc's ENOSYS stub first, when the profile gets one). */
  program: Buffer;
  /** seccomp(2) flags. */
  flags: number;
  listenerHandover: ListenerHandover;
  listenerPath?: string;
  listenerMetadata: string;
  /** Names libseccomp does not know (their rules were left out). */
  unknownSyscalls: string[];
  /** libseccomp's version. */
  version: string;
  /** Warnings of the planner and the stub, said again whenever the entry is used. */
  warnings: string[];
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
const FORMAT = 2;
/** Entries kept; the least recently used go first. An entry is a few KB to a few tens of KB. */
const MAX_ENTRIES = 64;
/** The names the cache writes: an entry, or one being written. Nothing else there is touched. */
const ENTRY_NAME = /^[0-9a-f]{16}\.json(\.tmp-\d+)?$/;
/** The most instructions a classic BPF program the kernel loads may have. */
const BPF_MAXINSNS = 4096;
/** Below this much free space in --root nothing is written: the states need it more. */
const MIN_FREE_BYTES = 4 << 20;

interface Entry extends Omit<CompiledProfile, 'program'> {
  format: number;
  material: string;
  /** The program, base64. */
  bpf: string;
}

/**
 * The compiled profile for `input` (the profile and the answers it was planned with,
 * src/lifecycle/seccomp.ts): from the cache under `root` when an entry was made from
 * exactly the same, else from `build`, kept for next time. A cache that cannot be read
 * or written (a read-only --root, a full disk) only costs the build.
 */
export function cachedCompiledProfile(root: string, input: unknown, library: LibseccompIdentity, build: () => CompiledProfile): CompiledProfile {
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
    kernel = readText('/proc/sys/kernel/osrelease').trim();
  } catch {
    return undefined;
  }
  // The file's identity, not only its version: a distribution's fix keeps the version.
  const file = [library.path, library.dev, library.ino, library.size, library.mtimeNs];
  const material = [FORMAT, library.version, file, kernel, process.arch, input];
  try {
    return JSON.stringify(material);
  } catch {
    // A BigInt (an argument value from 2^53 on, src/config/exact-uint64.ts): where the
    // schema allows only numbers, an object stands for it, which no number can be (the
    // profile was validated against the schema before it got here).
    return JSON.stringify(material, (_key, value: unknown) => (typeof value === 'bigint' ? { uint64: value.toString() } : value));
  }
}

/** A directory itself (no symlink), the effective user's, and writable by nobody else (no bit of `othersWrite`). */
function ownDirectory(dir: string, othersWrite: number): boolean {
  try {
    const st = statPath(dir);
    return st !== null && st.kind === 'dir' && st.uid === process.geteuid?.() && (st.mode & othersWrite) === 0;
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

function readEntry(file: string, material: string): CompiledProfile | undefined {
  let entry: Entry;
  let fd: number | undefined;
  try {
    fd = openFile(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW, 0);
    const st = statFd(fd);
    if (st === null || st.kind !== 'file' || st.uid !== process.geteuid?.()) return undefined;
    entry = JSON.parse(readTextFd(fd)) as Entry;
    // Used now: the entries used least recently are the ones that go.
    touchFd(fd);
  } catch {
    return undefined; // absent, or not whole (a crash before its rename reached the disk)
  } finally {
    if (fd !== undefined) closeFile(fd);
  }
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  if (entry.format !== FORMAT || entry.material !== material || typeof entry.bpf !== 'string' || typeof entry.version !== 'string') return undefined;
  // seccomp(2) flags: an unsigned 32-bit value.
  if (!Number.isInteger(entry.flags) || entry.flags < 0 || entry.flags > 0xffffffff || (entry.listenerHandover !== 'pidfd' && entry.listenerHandover !== 'sendmsg')) return undefined;
  if ((entry.listenerPath !== undefined && typeof entry.listenerPath !== 'string') || typeof entry.listenerMetadata !== 'string') return undefined;
  if (!strings(entry.unknownSyscalls) || !strings(entry.warnings)) return undefined;
  const program = Buffer.from(entry.bpf, 'base64');
  // A BPF instruction is 8 bytes; anything else is no program libseccomp wrote, nor
  // one longer than the kernel loads (BPF_MAXINSNS).
  if (program.length === 0 || program.length % 8 !== 0 || program.length > BPF_MAXINSNS * 8) return undefined;
  const { flags, listenerHandover, listenerPath, listenerMetadata, unknownSyscalls, version, warnings } = entry;
  return { program, flags, listenerHandover, ...(listenerPath !== undefined ? { listenerPath } : {}), listenerMetadata, unknownSyscalls, version, warnings };
}

/**
 * Written under a private name and renamed: a reader sees a whole entry or none. A
 * write that fails takes its partial file with it: a full --root must not stay full
 * because of the cache.
 */
function writeEntry(dir: string, file: string, material: string, output: CompiledProfile): void {
  const free = fs.statfsSync(dir);
  if (free.bavail * free.bsize < MIN_FREE_BYTES) return;
  const { program, ...rest } = output;
  const entry: Entry = { format: FORMAT, material, bpf: program.toString('base64'), ...rest };
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
