// What a call leaves in V8's young generation, for tests of code on every command's
// path: a command that fills it pays a scavenge (src/linux/plan-encoding.ts).
import { GCProfiler, getHeapSpaceStatistics } from 'v8';

const youngUsed = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

/**
 * Bytes by which `fn` grows the young generation, measured over a call during which
 * no collection ran (a collection would hide what it allocated). Infinity when one
 * ran during each of three calls: after the first, the young generation is nearly
 * empty, so only a call that allocates that much keeps setting one off.
 */
export function youngGrowthOf(fn: () => unknown): number {
  fn(); // compiled and warmed up outside the measurement
  for (let attempt = 0; attempt < 3; attempt++) {
    const profiler = new GCProfiler();
    profiler.start();
    const before = youngUsed();
    fn();
    const grown = youngUsed() - before;
    if (profiler.stop().statistics.length === 0) return grown;
  }
  return Infinity;
}
