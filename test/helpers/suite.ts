// Glue for container test files: one temp dir and one cgroup parent per file,
// a runtime CLI with its own --root inside the temp dir, and an afterAll that
// force-cleans whatever is left even when tests failed.

import * as fs from 'fs';
import * as path from 'path';
import { Bundle, BundleOptions, findBusybox, makeBundle, newTestEnv, TestEnv } from './bundle';
import { cleanupEverything, isEmpty, Leftovers, snapshot } from './cleanup';
import { RUNC_BINARY, RunResult, RuntimeCli, runtimeCli } from './runtime';

/**
 * Why container tests cannot run here, or undefined when they can. Only
 * environmental reasons skip; a missing or broken runtime binary must fail.
 */
export function containerSkipReason(): string | undefined {
  if (process.getuid && process.getuid() !== 0) return 'integration tests need root (real containers)';
  try {
    findBusybox();
  } catch (e) {
    return (e as Error).message;
  }
  if (!fs.existsSync('/sys/fs/cgroup')) return 'no /sys/fs/cgroup';
  return undefined;
}

/** Why a differential suite (runc vs the runtime under test) cannot run here, if it cannot. */
export function differentialSkipReason(): string | undefined {
  return containerSkipReason() ?? (fs.existsSync(RUNC_BINARY) ? undefined : `runc is not installed at ${RUNC_BINARY} (apt-get install runc)`);
}

/** `describe`, or `describe.skip` with the reason printed once. */
export function describeIf(reason: string | undefined): jest.Describe {
  if (reason) {
    // eslint-disable-next-line no-console
    console.warn(`skipping: ${reason}`);
    return describe.skip;
  }
  return describe;
}

export interface Suite {
  env: TestEnv;
  cli: RuntimeCli;
  bundle(opts?: BundleOptions): Bundle;
  /** Leftovers in this suite's scope (temp dir, cgroup parent, state root). */
  leftovers(): Leftovers;
  /**
   * Between tests: remove whatever containers, processes, mounts and cgroup
   * leaves are left, keeping the temp dir and cgroup parent for later tests.
   * Returns the leftovers found before cleaning (empty = nothing was left).
   */
  forceClean(): Leftovers;
  /** Another CLI (e.g. runc next to tsrun) sharing the env; cleaned up too. */
  addCli(binary: string, name: string, root?: string): RuntimeCli;
}

/** Call at describe level. The env is created lazily in beforeAll. */
export function useSuite(label: string, binary: string): Suite {
  const clis: RuntimeCli[] = [];
  const suite = {} as Suite;
  beforeAll(() => {
    if (!fs.existsSync(binary)) {
      throw new Error(`runtime binary ${binary} does not exist (set TSRUN_TEST_RUNTIME or build bin/tsrun)`);
    }
    const env = newTestEnv(label);
    suite.env = env;
    suite.cli = runtimeCli(binary, path.join(env.tmp, 'state'));
    clis.push(suite.cli);
    suite.bundle = (opts) => makeBundle(env, opts);
    suite.leftovers = () => snapshot(env, clis.map((c) => c.root));
    suite.forceClean = () => {
      const found = snapshot(env, clis.map((c) => c.root));
      if (!isEmpty(found)) {
        const problems = cleanupEverything(env, clis, true);
        if (problems.length) throw new Error(`cleanup incomplete:\n  ${problems.join('\n  ')}`);
      }
      return found;
    };
    suite.addCli = (bin, name, root) => {
      const c = runtimeCli(bin, root ?? path.join(env.tmp, `state-${name}`), path.join(env.tmp, 'io'));
      clis.push(c);
      return c;
    };
  });
  afterAll(() => {
    if (!suite.env) return;
    const problems = cleanupEverything(suite.env, clis);
    if (problems.length) throw new Error(`cleanup incomplete:\n  ${problems.join('\n  ')}`);
  });
  return suite;
}

/**
 * Assert a runtime command succeeded silently on stderr. The failure diff shows
 * the command line and the runtime's own stderr, which is what one needs to
 * debug a runtime, rather than just "expected 0, received 1".
 */
export function expectOk(r: RunResult): RunResult {
  expect({ cmd: r.args.join(' '), code: r.code, stderr: r.stderr, timedOut: r.timedOut }).toEqual({
    cmd: r.args.join(' '),
    code: 0,
    stderr: '',
    timedOut: false,
  });
  return r;
}
