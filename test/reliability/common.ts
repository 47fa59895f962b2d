// Shared pieces of the reliability suite (issue 8): sizes for the CI and the full
// runs, async runs of the CLI, and the "one clean line, never a stack trace" check.
//
// Sizes: `npm test` runs the short version. TSRUN_RELIABILITY_FULL=1 runs the
// sizes the issue asks for (50 parallel containers, 500 cycles, 1000 fuzz cases).

import type { RunResult, RuntimeCli, RunOptions } from '../helpers/runtime';
import { stderrLines } from '../helpers/runtime';

export const FULL = process.env.TSRUN_RELIABILITY_FULL === '1';

/** The CI size, or the full one under TSRUN_RELIABILITY_FULL=1. */
export function size(ci: number, full: number): number {
  return FULL ? full : ci;
}

export const NOTHING = { mounts: [], cgroups: [], state: [], processes: [] };

/** Runs a CLI command without blocking the event loop, so many can run at once. */
export function runAsync(cli: RuntimeCli, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return cli.spawn(args, opts).done;
}

/**
 * What every CLI run must look like, whatever it was given: exit 0 or 1 (255 for exec; never
 * killed by a signal, never a crash code), no hang, no JS stack frame, and at most
 * one stderr line (exactly one when it failed).
 */
export function wellBehaved(r: RunResult): { problem?: string } {
  if (r.timedOut) return { problem: 'timed out' };
  // exec fails with 255, as in runc (its callers tell that from the process's own 1).
  const failure = r.args.includes('exec') ? 255 : 1;
  if (r.code !== 0 && r.code !== failure) return { problem: `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}` };
  if (/^\s+at /m.test(r.stderr)) return { problem: 'stack trace on stderr' };
  // Warnings (runc's `level=warning` lines, e.g. an unknown capability) may precede.
  const lines = stderrLines(r).filter((l) => !/level=warning/.test(l));
  if (r.code === failure && lines.length !== 1) return { problem: `${lines.length} error lines on failure` };
  if (r.code === 0 && lines.length > 0) return { problem: 'stderr output on success' };
  return {};
}

/** jest-friendly form: the diff shows the command and its stderr when it misbehaves. */
export function expectWellBehaved(r: RunResult): void {
  expect({ cmd: r.args.join(' '), stderr: r.stderr, ...wellBehaved(r) }).toEqual({ cmd: r.args.join(' '), stderr: r.stderr });
}

/** Failure with exactly one line matching `phrase`. */
export function expectFailure(r: RunResult, phrase: RegExp): void {
  expectWellBehaved(r);
  const error = stderrLines(r).filter((l) => !/level=warning/.test(l)).join('\n');
  expect({ code: r.code, error }).toEqual({ code: 1, error: expect.stringMatching(phrase) });
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of open fds of this process. */
export function fdCount(): number {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (require('fs') as typeof import('fs')).readdirSync('/proc/self/fd').length;
}
