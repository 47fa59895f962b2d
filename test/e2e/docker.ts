// A private dockerd for the end-to-end suite, the way Docker users reach a
// runtime: dockerd -> its own containerd -> containerd-shim-runc-v2 -> the
// runtime (registered with --add-runtime; the shim calls it with runc's flags:
// --root, --log, --log-format json, create --bundle --pid-file, start, update
// --resources -, ps --format json, pause, delete ...). Everything of the daemon
// lives in a temp dir of its own: data and exec roots, the API socket, the pid
// file and an empty daemon.json (an administrator's /etc/docker/daemon.json does
// not apply). No network: no bridge, no iptables, no ip_forward, containers with
// --network none; vfs storage (no overlay mounts); cgroupfs with a cgroup parent
// of its own. Host paths dockerd and its containerd make whatever the flags say
// (/etc/docker/key.json, /run/docker, shim sockets in /run/containerd/s) are
// removed afterwards when they were not there before.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { makeBundle } from '../helpers/bundle';
import { repoRoot, type RunResult } from '../helpers/runtime';

const DOCKERD = '/usr/sbin/dockerd';
const DOCKER = '/usr/bin/docker';
/** The name the runtime under test is registered under (`docker run --runtime tsrun`). */
export const RUNTIME_NAME = 'tsrun';
/** Paths outside the temp dir that dockerd 20.10 or its containerd make. */
const HOST_PATHS = ['/etc/docker', '/etc/docker/key.json', '/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s'];
const SHIM_SOCKETS = '/run/containerd/s';

interface HostScope {
  allPids(): number[];
  pidAlive(pid: number): boolean;
  processesInScope(cgroupParent: string, rootfsDirs: readonly string[]): number[];
  thawCgroups(parent: string): void;
  killUntilGone(pids: () => number[]): number[];
  unmountUnder(dir: string): string[];
  mountsUnder(dir: string): string[];
  cgroupDirsOf(parent: string): { hierarchy: string; dir: string; parentDir: string }[];
  removeCgroupDir(dir: string): string | undefined;
  sleepSync(ms: number): void;
}
/** Loaded by absolute path: this file runs from dist/test/e2e, the script is not compiled. */
const scope: HostScope = require(path.join(repoRoot(), 'scripts', 'lib', 'host-scope.js'));
const { spawnWithStdioOnly } = require(path.join(repoRoot(), 'scripts', 'lib', 'daemon-spawn.js')) as typeof import('../../scripts/lib/daemon-spawn');

/** Why this host cannot run the suite, or undefined. */
export function dockerSkipReason(runtime: string): string | undefined {
  if (process.getuid?.() !== 0) return 'docker e2e needs root';
  if (!fs.existsSync(DOCKERD) || !fs.existsSync(DOCKER)) return `needs ${DOCKERD} and ${DOCKER} (Debian's docker.io)`;
  if (!fs.existsSync(runtime)) return `runtime ${runtime} does not exist`;
  return undefined;
}

export interface Docker {
  readonly tmp: string;
  readonly cgroupParent: string;
  /** The busybox image the suite imported. */
  readonly image: string;
  /** docker (the client) against the private daemon. */
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): RunResult;
  /** The command line `run` would execute, for wrapping (script(1) for a terminal). */
  argv(args: string[]): string[];
  /** Every container is removed, then the daemon stopped by PID and its leftovers removed; returns the problems found. */
  stop(): Promise<string[]>;
}

function pidFileValue(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function startDocker(runtime: string): Promise<Docker> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-docker-'));
  const cgroupParent = `/tsrun-docker-${crypto.randomBytes(4).toString('hex')}`;
  const socket = path.join(tmp, 'docker.sock');
  const pidFile = path.join(tmp, 'dockerd.pid');
  const logFile = path.join(tmp, 'dockerd.log');
  const preexisting = new Set(HOST_PATHS.filter((p) => fs.existsSync(p)));
  const shimSocketsBefore = new Set(fs.existsSync(SHIM_SOCKETS) ? fs.readdirSync(SHIM_SOCKETS) : []);
  fs.writeFileSync(path.join(tmp, 'daemon.json'), '{}\n');
  // What a service manager gives dockerd: no NODE_* or jest variables, which would
  // reach containerd, the shims and so the runtime.
  const env = { PATH: process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  const daemonArgs = [
    '--config-file', path.join(tmp, 'daemon.json'),
    '--data-root', path.join(tmp, 'data'),
    '--exec-root', path.join(tmp, 'exec'),
    '--pidfile', pidFile,
    '--host', `unix://${socket}`,
    '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--ip-masq=false',
    '--storage-driver', 'vfs',
    '--exec-opt', 'native.cgroupdriver=cgroupfs',
    '--cgroup-parent', cgroupParent,
    '--add-runtime', `${RUNTIME_NAME}=${runtime}`,
  ];
  const logFd = fs.openSync(logFile, 'a');
  let daemonPid: number | undefined;
  let exited = false;
  try {
    const child = spawnWithStdioOnly(DOCKERD, daemonArgs, logFd, env);
    daemonPid = child.pid;
    child.on('exit', () => (exited = true));
    child.on('error', () => (exited = true));
  } finally {
    fs.closeSync(logFd);
  }

  const argv = (args: string[]): string[] => [DOCKER, '--host', `unix://${socket}`, ...args];
  const run = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): RunResult => {
    const [file, ...rest] = argv(args);
    const r = spawnSync(file as string, rest, { encoding: 'utf8', input: opts.input ?? '', timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', env });
    return { args: [file as string, ...rest], code: r.status ?? -1, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: r.error !== undefined && r.signal === 'SIGKILL' };
  };
  const logTail = (): string => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  };

  let stopped = false;
  const stop = async (): Promise<string[]> => {
    if (stopped) return [];
    stopped = true;
    const problems: string[] = [];
    // 1. The clean path, while the daemon runs: docker removes its containers
    //    (the runtime's delete) and their cgroup leaves.
    if (!exited) {
      const ids = run(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) {
        const r = run(['rm', '--force', ...ids], { timeoutMs: 60_000 });
        if (r.code !== 0) problems.push(`docker rm --force: ${r.stderr.trim()}`);
      }
    }
    // 2. dockerd by its PID (it stops its own containerd): SIGTERM, then SIGKILL.
    for (const pid of [daemonPid, pidFileValue(pidFile)].filter((p): p is number => p !== undefined)) {
      if (!scope.pidAlive(pid)) continue;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 300 && scope.pidAlive(pid); i++) await sleep(50);
      if (scope.pidAlive(pid)) {
        problems.push(`dockerd ${pid} ignored SIGTERM; killed`);
        process.kill(pid, 'SIGKILL');
      }
    }
    // 3. What is left of the daemon's tree (containerd, shims: they name the temp
    //    dir in their command lines) and of the containers (in the cgroup parent).
    scope.thawCgroups(cgroupParent);
    const leftovers = (): number[] => {
      const named = scope.allPids().filter((pid) => pid !== process.pid && scope.pidAlive(pid) && cmdlineOf(pid).includes(tmp));
      return [...new Set([...named, ...scope.processesInScope(cgroupParent, [])])];
    };
    const found = leftovers();
    if (found.length) problems.push(`processes left: ${found.map((p) => `${p}(${cmdlineOf(p).slice(0, 60)})`).join(' ')}`);
    const alive = scope.killUntilGone(leftovers);
    if (alive.length) problems.push(`processes still alive: ${alive.join(' ')}`);
    // 4. Mounts below the temp dir (none when every container was removed).
    const mounts = scope.mountsUnder(tmp);
    if (mounts.length) problems.push(`mounts left: ${mounts.join(' ')}`);
    const stillMounted = scope.unmountUnder(tmp);
    if (stillMounted.length) problems.push(`cannot unmount: ${stillMounted.join(' ')}`);
    // 5. The cgroup parent: the container leaves are the runtime's to remove.
    const dirs = scope.cgroupDirsOf(cgroupParent).map((c) => c.dir).sort((a, b) => b.length - a.length);
    const leaves = dirs.filter((d) => path.basename(d) !== cgroupParent.slice(1));
    if (leaves.length) problems.push(`container cgroups left: ${leaves.join(' ')}`);
    for (const dir of dirs) {
      const problem = scope.removeCgroupDir(dir);
      if (problem) problems.push(problem);
    }
    // 6. Host paths the daemon made. Shim sockets go with their shims.
    const newSockets = (fs.existsSync(SHIM_SOCKETS) ? fs.readdirSync(SHIM_SOCKETS) : []).filter((s) => !shimSocketsBefore.has(s));
    if (newSockets.length) problems.push(`shim sockets left: ${newSockets.join(' ')}`);
    for (const s of newSockets) fs.rmSync(path.join(SHIM_SOCKETS, s), { force: true });
    for (const p of [...HOST_PATHS].reverse()) {
      if (preexisting.has(p) || !fs.existsSync(p)) continue;
      try {
        if (fs.statSync(p).isDirectory()) fs.rmdirSync(p); // only if empty
        else fs.rmSync(p);
      } catch {
        // not empty: someone else's files are in it now
      }
    }
    // 7. The temp dir, unless a mount stays below it (nothing is deleted through one).
    if (stillMounted.length) problems.push(`${tmp} kept: a mount below it remains`);
    else fs.rmSync(tmp, { recursive: true, force: true });
    return problems;
  };

  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`dockerd exited during start-up:\n${logTail()}`);
      if (fs.existsSync(socket) && run(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 }).code === 0) break;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socket}:\n${logTail()}`);
      await sleep(100);
    }
    const rootfs = makeBundle({ tmp, cgroupParent }).rootfs;
    const tar = path.join(tmp, 'rootfs.tar');
    const packed = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`tar: ${packed.stderr}`);
    const image = 'tsrun-e2e-busybox:1';
    // An imported image has no configuration of its own: PATH comes from docker's default.
    const imported = run(['import', tar, image], { timeoutMs: 60_000 });
    if (imported.code !== 0) throw new Error(`docker import: ${imported.stderr}`);
    return { tmp, cgroupParent, image, run, argv, stop };
  } catch (e) {
    const problems = await stop();
    throw new Error(`${(e as Error).message}${problems.length ? ` (and cleaning up: ${problems.join('; ')})` : ''}`);
  }
}

function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
