// A private podman for the end-to-end suite: its storage, run and tmp dirs in a
// temp dir of its own (vfs storage: no overlay mounts), cgroupfs with a cgroup
// parent of its own, no network, the runtime under test passed as --runtime.
// podman calls the runtime through conmon, with conmon's flags (--log,
// --log-format json, --pid-file, --console-socket, exec --process ...).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { makeBundle } from '../helpers/bundle';
import { SECCOMP_CACHE_DIR } from '../../src/lifecycle/seccomp-cache';
import type { RunResult } from '../helpers/runtime';

const PODMAN = '/usr/bin/podman';
const CONMON = '/usr/bin/conmon';
const BLOB_INFO_CACHE = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
const SYSTEM_CONF = '/usr/share/containers/containers.conf';

/** containers.conf text with "tsrun" among the runtimes podman gives --log-format json. */
export function withTsrunJsonLogs(conf: string): string {
  const line = 'runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "tsrun"]';
  if (/^\s*runtime_supports_json\s*=/m.test(conf)) throw new Error(`${SYSTEM_CONF} sets runtime_supports_json already: the suite would override it`);
  return /^\[engine\]\s*$/m.test(conf) ? conf.replace(/^\[engine\]\s*$/m, `[engine]\n${line}`) : `${conf}\n[engine]\n${line}\n`;
}

/** Why this host cannot run the suite, or undefined. */
export function podmanSkipReason(runtime: string): string | undefined {
  if (process.getuid?.() !== 0) return 'podman e2e needs root';
  if (!fs.existsSync(PODMAN) || !fs.existsSync(CONMON)) return `needs ${PODMAN} and ${CONMON} (Debian's podman)`;
  if (!fs.existsSync(runtime)) return `runtime ${runtime} does not exist`;
  return undefined;
}

/**
 * `--ulimit` values no process here has to raise. podman's defaults raise
 * RLIMIT_NOFILE to 1048576, which needs CAP_SYS_RESOURCE (this sandbox lacks it,
 * and runc fails the same way there), and podman itself runs conmon with NPROC
 * 32768: 1024 of each (or less, if this process has less) is always a lowering.
 */
function lowUlimits(): string[] {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const low = (label: string): string => {
    const m = new RegExp(`^${label}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(limits);
    if (!m) throw new Error(`no "${label}" in /proc/self/limits`);
    const n = Math.min(1024, m[1] === 'unlimited' ? 1024 : Number(m[1]));
    return `${n}:${n}`;
  };
  return ['--ulimit', `nofile=${low('Max open files')}`, '--ulimit', `nproc=${low('Max processes')}`];
}

export interface Podman {
  readonly tmp: string;
  readonly cgroupParent: string;
  /** The busybox image the suite imported. */
  readonly image: string;
  /** The rootfs the image was made from (its files, as the containers see them). */
  readonly rootfs: string;
  /** podman with the private dirs and the runtime under test (or `runtime`: runc, for a comparison). */
  run(args: string[], opts?: { input?: string; timeoutMs?: number; runtime?: string }): RunResult;
  /** The command line `run` would execute, for wrapping (script(1) for a terminal). */
  argv(args: string[], runtime?: string): string[];
  /** Flags every container of the suite gets: no network, the cgroup parent, limits it may set. */
  readonly containerFlags: string[];
  /** Removes every container, the image, the dirs and the cgroups; returns what it could not. */
  stop(): string[];
}

export function startPodman(runtime: string): Podman {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-podman-'));
  fs.chmodSync(tmp, 0o755);
  const cgroupParent = `/tsrun-podman-${crypto.randomBytes(4).toString('hex')}`;
  const global = [
    '--root', path.join(tmp, 'storage'),
    '--runroot', path.join(tmp, 'run'),
    '--tmpdir', path.join(tmp, 'libpod'),
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
  ];
  // podman passes --log-format json only to the runtimes containers.conf lists in
  // runtime_supports_json (runc, crun, ... by default); the README tells podman
  // users to add "tsrun" there, and so does the suite: podman then reads tsrun's
  // errors as it reads runc's. podman 4.3 reads only the file CONTAINERS_CONF names:
  // the package's, with that one line added (an administrator's
  // /etc/containers/containers.conf does not apply to this private podman).
  const conf = path.join(tmp, 'containers.conf');
  fs.writeFileSync(conf, withTsrunJsonLogs(fs.existsSync(SYSTEM_CONF) ? fs.readFileSync(SYSTEM_CONF, 'utf8') : ''));
  const argv = (args: string[], other?: string): string[] => ['/usr/bin/env', `CONTAINERS_CONF=${conf}`, PODMAN, ...global, '--runtime', other ?? runtime, ...args];
  const run = (args: string[], opts: { input?: string; timeoutMs?: number; runtime?: string } = {}): RunResult => {
    const [file, ...rest] = argv(args, opts.runtime);
    const r = spawnSync(file as string, rest, { encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL' });
    return { args: [file as string, ...rest], code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: r.error !== undefined && r.signal === 'SIGKILL' };
  };

  // podman 4.3 keeps its blob-info cache here whatever --root says; what the suite
  // makes of it, it removes.
  const hostCache = ['/var/lib/containers', '/var/lib/containers/cache', BLOB_INFO_CACHE].filter((p) => !fs.existsSync(p));
  const programs = seccompProgramsKept();
  const stop = (): string[] => [...stopPodman(run, tmp, cgroupParent), ...removeMade(hostCache), ...programs.removeNew()];
  try {
    const rootfs = makeBundle({ tmp, cgroupParent }).rootfs;
    fs.mkdirSync(path.join(rootfs, 'seed'));
    fs.writeFileSync(path.join(rootfs, 'seed', 'from-image'), 'seeded\n');
    fs.writeFileSync(path.join(rootfs, 'tmp', 'from-image'), 'seeded\n');
    const tar = path.join(tmp, 'rootfs.tar');
    const packed = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`tar: ${packed.stderr}`);
    const image = 'localhost/tsrun-e2e-busybox:1';
    const imported = run(['import', tar, image]);
    if (imported.code !== 0) throw new Error(`podman import: ${imported.stderr}`);
    return { tmp, cgroupParent, image, rootfs, run, argv, containerFlags: ['--network', 'none', '--cgroup-parent', cgroupParent, ...lowUlimits()], stop };
  } catch (e) {
    const problems = stop();
    throw new Error(`${(e as Error).message}${problems.length ? ` (and cleaning up: ${problems.join('; ')})` : ''}`);
  }
}

/**
 * podman's own removal first; then, for what a failed run left: the processes in
 * the suite's cgroups (conmon, containers) are killed, mounts below the temp dir
 * undone, the dir removed (not if a mount stays: nothing is deleted through one),
 * and the cgroups removed.
 */
function stopPodman(run: Podman['run'], tmp: string, cgroupParent: string): string[] {
  const problems: string[] = [];
  for (const args of [['rm', '--all', '--force', '--time', '0'], ['rmi', '--all', '--force']]) {
    const r = run(args);
    if (r.code !== 0) problems.push(`podman ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  problems.push(...killCgroupProcesses(cgroupParent));
  // podman mounts a /dev/shm per container below its storage; `rm` unmounts them.
  const ours = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && m.startsWith(`${tmp}/`))
    .sort((a, b) => b.length - a.length);
  let mounted = false;
  for (const m of ours) {
    const r = spawnSync('umount', ['-l', m], { encoding: 'utf8' });
    if (r.status === 0) problems.push(`left mounted: ${m} (unmounted)`);
    else {
      mounted = true;
      problems.push(`cannot unmount ${m}: ${r.stderr.trim()}`);
    }
  }
  if (mounted) problems.push(`${tmp} kept: a mount below it remains`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  problems.push(...removeCgroupParent(cgroupParent));
  return problems;
}

/**
 * podman gives the runtime no --root of the suite's (and `--runtime-flag root=` does
 * not reach the clean-up podman that conmon starts), so tsrun works in its default
 * root, /run/tsrun, and keeps compiled seccomp programs there for later containers.
 * The entries the suite's containers added are removed at the end, with the
 * directory if the suite made it.
 */
function seccompProgramsKept(): { removeNew(): string[] } {
  const dir = path.join('/run/tsrun', SECCOMP_CACHE_DIR);
  const existed = fs.existsSync(dir);
  const before = new Set(existed ? fs.readdirSync(dir) : []);
  return {
    removeNew: () => {
      if (!fs.existsSync(dir)) return [];
      for (const name of fs.readdirSync(dir)) if (!before.has(name)) fs.rmSync(path.join(dir, name), { force: true });
      try {
        if (!existed) fs.rmdirSync(dir);
      } catch (e) {
        return [`cannot remove ${dir}: ${(e as Error).message}`];
      }
      return [];
    },
  };
}

/** Removes the paths the suite made (deepest first), if they are still there. */
function removeMade(paths: string[]): string[] {
  const problems: string[] = [];
  for (const p of [...paths].sort((a, b) => b.length - a.length)) {
    try {
      if (p === BLOB_INFO_CACHE) fs.rmSync(p, { force: true });
      else if (fs.existsSync(p)) fs.rmdirSync(p);
    } catch (e) {
      problems.push(`cannot remove ${p}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** The suite's cgroup dirs of one hierarchy, deepest first ([] when it has none). */
function cgroupDirsBelow(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // gone meanwhile (podman's own cleanup), or never made
  }
  return [...entries.filter((e) => e.isDirectory()).flatMap((e) => cgroupDirsBelow(path.join(dir, e.name))), dir];
}

function hierarchyParents(cgroupParent: string): string[] {
  const root = '/sys/fs/cgroup';
  return fs.readdirSync(root).map((h) => path.join(root, h, cgroupParent)).filter((d) => fs.existsSync(d));
}

/**
 * Kills what is still in the suite's cgroups (conmon and containers a failed run
 * left; all of them the suite's own). Frozen first where a freezer is, so no pid
 * is reused between reading it and the kill.
 */
function killCgroupProcesses(cgroupParent: string): string[] {
  const problems: string[] = [];
  const freezer = path.join('/sys/fs/cgroup/freezer', cgroupParent);
  const frozen = fs.existsSync(freezer);
  if (frozen) fs.writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');
  try {
    for (const parent of hierarchyParents(cgroupParent)) {
      for (const dir of cgroupDirsBelow(parent)) {
        let pids: number[] = [];
        try {
          pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
        } catch {
          continue; // removed meanwhile
        }
        if (pids.length > 0) problems.push(`processes left in ${dir}: ${pids.join(' ')} (killed)`);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    }
  } finally {
    if (frozen) fs.writeFileSync(path.join(freezer, 'freezer.state'), 'THAWED');
  }
  return problems;
}

/**
 * The suite's cgroups in every hierarchy, deepest first: podman's `conmon` cgroup
 * is expected; a container leaf left behind is reported (`podman rm` removes them).
 */
function removeCgroupParent(cgroupParent: string): string[] {
  const problems: string[] = [];
  for (const parent of hierarchyParents(cgroupParent)) {
    for (const dir of cgroupDirsBelow(parent)) {
      if (dir !== parent && path.basename(dir) !== 'conmon' && path.dirname(dir) === parent) problems.push(`cgroup left by podman: ${dir}`);
      let removed = false;
      for (let attempt = 0; attempt < 100 && !removed; attempt++) {
        try {
          fs.rmdirSync(dir);
          removed = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') removed = true;
          else spawnSync('sleep', ['0.02']); // killed processes leave the cgroup as they exit
        }
      }
      if (!removed) problems.push(`cannot remove ${dir}`);
    }
  }
  return problems;
}
