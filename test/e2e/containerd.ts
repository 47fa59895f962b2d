// Jest glue for the containerd end-to-end suite. The private containerd
// itself (config, start, ctr, teardown) lives in scripts/containerd/harness.js,
// plain JS shared with bench/ctr-run.js so both use one implementation; this
// file gives it types, decides which runtime and which runtime features are
// under test, and wires start/teardown into beforeAll/afterAll.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { repoRoot, RunResult, TSRUN_BINARY } from '../helpers/runtime';
import { findBusybox } from '../helpers/bundle';

/** What a ctr call returns: the same shape as a runtime call. */
export type CmdResult = RunResult;

export interface RunArgsOptions {
  id: string;
  rootfs: string;
  /** Runtime binary, passed as `--runc-binary` (with `--runc-root` in our temp dir). */
  runtime?: string;
  /** A registered runtime name (`--runtime NAME`) instead of `runtime`. */
  runtimeName?: string;
  rm?: boolean;
  detach?: boolean;
  tty?: boolean;
  /** Container stdout/stderr into this file (`--log-uri file://...`), for detached containers. */
  logFile?: string;
  extra?: string[];
  /** Command in the container; absolute paths (a --rootfs container has no PATH). Default /bin/true. */
  args?: string[];
}

export interface WrapperOptions {
  argvLog?: string;
  fdLog?: string;
  copyLogTo?: string;
}

export interface Harness {
  readonly tmp: string;
  readonly namespace: string;
  readonly cgroupParent: string;
  readonly address: string;
  readonly ttrpcAddress: string;
  readonly configPath: string;
  readonly state: string;
  readonly fifoDir: string;
  readonly runcRoot: string;
  readonly shimTmp: string;
  readonly logFile: string;
  readonly pid: number;
  ctrArgs(args: string[]): string[];
  ctr(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CmdResult>;
  cgroupOf(id: string): string;
  trackRootfs(dir: string): void;
  runArgs(o: RunArgsOptions): string[];
  registerRuntime(name: string, runtime: string): string;
  wrapper(name: string, runtime: string, opts: WrapperOptions): string;
  tasks(): Promise<Record<string, { pid: number; status: string }>>;
  waitTaskStatus(id: string, status: string, timeoutMs?: number): Promise<{ pid: number; status: string }>;
  removeContainer(id: string): Promise<void>;
  logTail(n?: number): string;
  stop(): Promise<string[]>;
}

interface HarnessModule {
  Harness: { start(opts?: { label?: string; log?: (s: string) => void; startTimeoutMs?: number }): Promise<Harness> };
  skipReason(): string | undefined;
  which(name: string): string | undefined;
  shq(s: string): string;
  readArgvLog(file: string): string[][];
  globalLeftovers(): string[];
  cgroupHierarchies(): string[];
}

/** The shared harness, loaded by absolute path (this file runs from dist/test/e2e, the script is not compiled). */
export const harnessModule: HarnessModule = require(path.join(repoRoot(), 'scripts', 'containerd', 'harness.js'));

/** The runtime under test: `TSRUN_E2E_RUNTIME`, else this repo's bin/tsrun. */
export function e2eRuntime(): string {
  return process.env.TSRUN_E2E_RUNTIME || TSRUN_BINARY;
}

/** Why the suite cannot run here, or undefined. Only environmental reasons skip. */
export function e2eSkipReason(): string | undefined {
  const r = harnessModule.skipReason();
  if (r) return r;
  try {
    findBusybox();
  } catch (e) {
    return (e as Error).message;
  }
  if (!harnessModule.which('script')) return 'script(1) from util-linux not installed (tty case)';
  return undefined;
}

/**
 * Runtime features some cases need beyond create/start/state/kill/delete.
 * `TSRUN_E2E_FEATURES=exec,pause,ps,tty` (or `all`) states them; otherwise
 * they are probed: a runtime supports a command when `<runtime> <cmd> --help`
 * exits 0, and tty when `create --help` mentions --console-socket. Cases for
 * missing features are skipped with the reason printed, so they switch on by
 * themselves as tsrun grows.
 */
export type Feature = 'exec' | 'pause' | 'ps' | 'tty';
const ALL_FEATURES: Feature[] = ['exec', 'pause', 'ps', 'tty'];

export function runtimeFeatures(runtime: string): Set<Feature> {
  // (Probing costs a few runtime starts; done once per test file.)
  const env = process.env.TSRUN_E2E_FEATURES;
  if (env !== undefined) {
    const list = env.split(',').map((s) => s.trim()).filter(Boolean);
    return new Set(list.includes('all') ? ALL_FEATURES : (list.filter((f) => (ALL_FEATURES as string[]).includes(f)) as Feature[]));
  }
  const res = new Set<Feature>();
  if (!fs.existsSync(runtime)) return res;
  const help = (cmd: string) => {
    const e = { ...process.env };
    delete e.NODE_EXTRA_CA_CERTS;
    return spawnSync(runtime, [cmd, '--help'], { encoding: 'utf8', timeout: 10_000, env: e });
  };
  // A CLI may answer `<unknown command> --help` with its general usage and
  // status 0 (tsrun's does), so the command's own help must name it near the top.
  const has = (cmd: string) => {
    const r = help(cmd);
    const head = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim()).slice(0, 3).join('\n');
    return r.status === 0 && new RegExp(`(^|\\s)${cmd}(\\s|$)`).test(head);
  };
  if (has('exec')) res.add('exec');
  if (has('pause') && has('resume')) res.add('pause');
  if (has('ps')) res.add('ps');
  const create = help('create');
  if (create.status === 0 && /console-socket/.test(`${create.stdout}${create.stderr}`)) res.add('tty');
  return res;
}

/**
 * Start a private containerd in beforeAll and tear it down in afterAll (even
 * when tests failed); the afterAll fails when teardown found leftovers,
 * because "leaves nothing behind" is part of what is tested.
 */
export function useContainerd(label: string): { h: Harness } {
  const ctx = {} as { h: Harness };
  beforeAll(async () => {
    ctx.h = await harnessModule.Harness.start({ label });
  }, 60_000);
  afterAll(async () => {
    if (!ctx.h) return;
    const problems = await ctx.h.stop();
    if (problems.length) throw new Error(`containerd e2e teardown found leftovers:\n  ${problems.join('\n  ')}`);
  }, 120_000);
  return ctx;
}
