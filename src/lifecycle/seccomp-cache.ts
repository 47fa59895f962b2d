// What libseccomp made of a filter, kept under --root for the next create or exec
// that asks for the same filter. libseccomp takes 10-20 ms to build a profile such as
// Docker's or podman's default for three architectures, and an engine gives every
// container the same one. An entry holds everything it was made from (the filter,
// the library's version and file, the kernel, the architecture) and is used only when
// all of it is the same, so a program is never taken for another filter's: the file
// name is a hash, and a hash that collides only misses. --root is the runtime's own
// directory (0700, or the rootless user's), the same trust as the states beside it;
// the '~' in the directory's name is one no container id can have.
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

/** The library a program is built with (native seccompLibrary). */
export interface LibseccompIdentity {
  version: string;
  path: string;
}

export const SECCOMP_CACHE_DIR = '~seccomp-cache';
/** Bumped whenever an entry's layout or meaning changes. */
const FORMAT = 1;
/** Entries kept; the oldest go first. A profile's program is a few KB to a few tens of KB. */
const MAX_ENTRIES = 64;

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
  if (material === undefined) return build();
  const dir = path.join(root, SECCOMP_CACHE_DIR);
  const file = path.join(dir, `${native().hash64(material)}.json`);
  const found = readEntry(file, material);
  if (found) return found;
  const output = build();
  try {
    writeEntry(dir, file, material, output);
  } catch (e) {
    log.debug(`seccomp cache: not kept (${(e as Error).message})`);
  }
  return output;
}

/** Everything the output depends on; undefined when the library's file cannot be told (nothing is cached then). */
function keyMaterial(input: unknown, library: LibseccompIdentity): string | undefined {
  if (!library.path) return undefined;
  let lib: fs.Stats;
  let kernel: string;
  try {
    lib = fs.statSync(library.path);
    kernel = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return undefined;
  }
  // The file's identity, not only its version: a distribution's fix keeps the version.
  const file = [library.path, lib.dev, lib.ino, lib.size, lib.mtimeMs, lib.ctimeMs];
  return JSON.stringify([FORMAT, library.version, file, kernel, process.arch, input]);
}

function readEntry(file: string, material: string): LibseccompOutput | undefined {
  let entry: Entry;
  try {
    entry = JSON.parse(fs.readFileSync(file, 'utf8')) as Entry;
  } catch {
    return undefined; // absent, or not whole (a crash before its rename reached the disk)
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
 * Written under a private name and renamed: a reader sees a whole entry or none. The
 * directory is made only inside an existing --root: the root itself is the state
 * store's to make, with its own mode.
 */
function writeEntry(dir: string, file: string, material: string, output: LibseccompOutput): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const entry: Entry = {
    format: FORMAT,
    material,
    bpf: output.bpf.toString('base64'),
    unknownSyscalls: output.unknownSyscalls,
    version: output.version,
    highest: output.highest,
  };
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
  fs.renameSync(tmp, file);
  evictOldest(dir);
}

/** Keeps MAX_ENTRIES entries, removing the oldest (and temporary files of writers long gone). */
function evictOldest(dir: string): void {
  const names = fs.readdirSync(dir);
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
