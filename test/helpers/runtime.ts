// Drives a runtime binary (tsrun or runc) through its CLI. Every CLI test goes
// through here so the same test can run against either binary: that is how
// the suites themselves are validated against runc while tsrun is being built.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';

/** Repository root, found from this file whether run from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'tsrun') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`tsrun repository root not found above ${__dirname}`);
    dir = up;
  }
}

export const TSRUN_BINARY = path.join(repoRoot(), 'bin', 'tsrun');
export const RUNC_BINARY = process.env.TSRUN_TEST_RUNC || '/usr/sbin/runc';

/** The binary under test: `TSRUN_TEST_RUNTIME`, else this repo's bin/tsrun. */
export function runtimeUnderTest(): string {
  return process.env.TSRUN_TEST_RUNTIME || TSRUN_BINARY;
}

export type Flavor = 'runc' | 'tsrun';

/** runc is recognised by name so tests can accept its (older) error phrases. */
export function flavorOf(binary: string): Flavor {
  return /runc/.test(path.basename(binary)) ? 'runc' : 'tsrun';
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  args: string[];
}

export interface RunOptions {
  /** Kill the runtime with SIGKILL after this many ms (default 30 s). */
  timeoutMs?: number;
  /**
   * Capture stdout/stderr into these files instead of fresh ones (kept). For
   * `create`, the container inherits these, so its output can be read later.
   */
  stdoutFile?: string;
  stderrFile?: string;
  /** Do not prepend `--root <root>` (tests of global flag spellings). */
  noRoot?: boolean;
  /** Extra environment for the runtime process. */
  env?: Record<string, string>;
}

/**
 * Values placed in every runtime's environment so tests can prove that host
 * variables never reach the container (NODE_* especially: tsrun is Node).
 */
export const HOST_ENV_CANARIES: Record<string, string> = {
  NODE_TSRUN_TEST_CANARY: 'leaked',
  TSRUN_TEST_HOST_CANARY: 'leaked',
};

function runtimeEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...HOST_ENV_CANARIES, ...extra };
  // Adds ~40 ms to every Node start and callers such as containerd never set it.
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

let ioCounter = 0;

export class RuntimeCli {
  readonly flavor: Flavor;
  private readonly ioDir: string;

  constructor(
    readonly binary: string,
    readonly root: string,
    ioDir?: string,
  ) {
    this.flavor = flavorOf(binary);
    this.ioDir = ioDir ?? path.join(path.dirname(root), 'io');
  }

  /**
   * Output goes to files, never pipes: a created or detached container inherits
   * the runtime's stdout/stderr, and with pipes spawnSync would wait for the
   * container to exit before returning.
   */
  private ioFiles(opts: RunOptions): { out: string; err: string; keep: boolean } {
    fs.mkdirSync(this.ioDir, { recursive: true });
    ioCounter++;
    return {
      out: opts.stdoutFile ?? path.join(this.ioDir, `${process.pid}-${ioCounter}.out`),
      err: opts.stderrFile ?? path.join(this.ioDir, `${process.pid}-${ioCounter}.err`),
      keep: !!(opts.stdoutFile || opts.stderrFile),
    };
  }

  fullArgs(args: string[], opts: RunOptions = {}): string[] {
    return opts.noRoot ? args : ['--root', this.root, ...args];
  }

  run(args: string[], opts: RunOptions = {}): RunResult {
    const full = this.fullArgs(args, opts);
    const io = this.ioFiles(opts);
    const outFd = fs.openSync(io.out, 'a');
    const errFd = fs.openSync(io.err, 'a');
    let r;
    try {
      r = spawnSync(this.binary, full, {
        stdio: ['ignore', outFd, errFd],
        env: runtimeEnv(opts.env),
        timeout: opts.timeoutMs ?? 30_000,
        killSignal: 'SIGKILL',
      });
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
    const res = this.collect(full, io, r.status, r.signal, (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT');
    if (r.error && !res.timedOut) throw new Error(`cannot run ${this.binary}: ${r.error.message}`);
    return res;
  }

  /** Foreground run that the test can signal or kill while it runs. */
  spawn(args: string[], opts: RunOptions = {}): { pid: number; done: Promise<RunResult> } {
    const full = this.fullArgs(args, opts);
    const io = this.ioFiles(opts);
    const outFd = fs.openSync(io.out, 'a');
    const errFd = fs.openSync(io.err, 'a');
    const child = spawn(this.binary, full, { stdio: ['ignore', outFd, errFd], env: runtimeEnv(opts.env) });
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const done = new Promise<RunResult>((resolve, reject) => {
      let timedOut = false;
      const t = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      // 'exit', not 'close': there are no pipes to wait for.
      child.on('exit', (code, signal) => {
        clearTimeout(t);
        resolve(this.collect(full, io, code, signal, timedOut));
      });
    });
    return { pid: child.pid ?? -1, done };
  }

  private collect(
    args: string[],
    io: { out: string; err: string; keep: boolean },
    status: number | null,
    signal: NodeJS.Signals | null,
    timedOut: boolean,
  ): RunResult {
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
    const stdout = read(io.out);
    const stderr = read(io.err);
    if (!io.keep) {
      fs.rmSync(io.out, { force: true });
      fs.rmSync(io.err, { force: true });
    }
    // A runtime killed by a signal gets the shell's 128+n code, so tests can
    // compare it with runc's own convention for a container killed by a signal.
    const code = status ?? (signal ? 128 + os.constants.signals[signal] : -1);
    return { code, signal, stdout, stderr, timedOut, args };
  }

  create(id: string, bundle: string, extra: string[] = [], opts: RunOptions = {}): RunResult {
    return this.run(['create', '--bundle', bundle, ...extra, id], opts);
  }

  start(id: string, opts: RunOptions = {}): RunResult {
    return this.run(['start', id], opts);
  }

  stateRaw(id: string): RunResult {
    return this.run(['state', id]);
  }

  /** Parsed `state` output; throws with the runtime's stderr when it fails. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  state(id: string): any {
    const r = this.stateRaw(id);
    if (r.code !== 0) throw new Error(`state ${id} failed (${r.code}): ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
  }

  kill(id: string, signal?: string, extra: string[] = []): RunResult {
    return this.run(['kill', ...extra, id, ...(signal ? [signal] : [])]);
  }

  delete(id: string, force = false): RunResult {
    return this.run(['delete', ...(force ? ['--force'] : []), id]);
  }

  runContainer(id: string, bundle: string, extra: string[] = [], opts: RunOptions = {}): RunResult {
    return this.run(['run', '--bundle', bundle, ...extra, id], opts);
  }

  list(extra: string[] = []): RunResult {
    return this.run(['list', ...extra]);
  }

  /** Poll `state` until the status matches (no fixed sleeps: runtimes differ in speed). */
  async waitStatus(id: string, status: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const r = this.stateRaw(id);
      if (r.code === 0) {
        last = JSON.parse(r.stdout).status;
        if (last === status) return last;
      } else {
        last = `error: ${r.stderr.trim()}`;
      }
      if (Date.now() > deadline) throw new Error(`container ${id} did not reach ${status} (last: ${last})`);
      await sleep(20);
    }
  }
}

export function runtimeCli(binary: string, root: string, ioDir?: string): RuntimeCli {
  return new RuntimeCli(binary, root, ioDir);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True while /proc/<pid> exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process sleeps in the kernel opening a FIFO that has no other end yet. */
export function blockedOpeningFifo(pid: number): boolean {
  try {
    // The kernel function it sleeps in: wait_for_partner (fifo_open on older kernels).
    return ['wait_for_partner', 'fifo_open'].includes(fs.readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false;
  }
}

/** Poll a condition (no fixed sleeps: runtimes differ in speed). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function waitPidGone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Error phrase expectations: tsrun's own (strict) and runc 1.1's, where they differ. */
export function expectedError(flavor: Flavor, phrases: { tsrun: RegExp; runc?: RegExp }): RegExp {
  return flavor === 'runc' && phrases.runc ? phrases.runc : phrases.tsrun;
}

/** Lines of stderr, without empty ones. */
export function stderrLines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

/**
 * The messages of a failure's stderr, one per line: runc and tsrun (without --log)
 * print logrus lines, `time=... level=error msg="..."` with Go quoting; a plain
 * line is taken as is.
 */
export function errorMessage(r: RunResult): string {
  return stderrLines(r)
    .map((l) => {
      const m = /level=error msg=("(?:[^"\\]|\\.)*"|\S*)/.exec(l);
      if (!m) return l;
      if (!m[1].startsWith('"')) return m[1];
      try {
        return JSON.parse(m[1]) as string;
      } catch {
        return m[1];
      }
    })
    .join('\n');
}
