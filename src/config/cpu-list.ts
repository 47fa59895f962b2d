// The kernel's CPU / memory-node list syntax (cpuset.cpus, taskset -c, the spec's
// execCPUAffinity): "0-3,7", with an optional stride "0-15:2/4" (the first 2 of
// every 4 in 0-15). Shared by the cgroup limits and the exec planner.
import { ConfigError } from '../errors';

/** The largest CPU number accepted: far above any machine, small enough for a bitmask. */
const MAX_CPU = 65535;

/** The listed numbers, ascending and without repeats; throws naming `field` on bad syntax. */
export function parseCpuList(text: string, field: string): number[] {
  const out = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    if (part.trim() === '') continue; // "0,,1" and a trailing comma: the kernel skips them too
    const m = /^(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?$/.exec(part.trim());
    if (!m) throw new ConfigError(field, `${JSON.stringify(text)} is not a list like "0-3,7"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new ConfigError(field, `range ${part} is backwards`);
    if (hi > MAX_CPU) throw new ConfigError(field, `${hi} is above ${MAX_CPU}`);
    const used = m[3] === undefined ? 1 : Number(m[3]);
    const group = m[4] === undefined ? 1 : Number(m[4]);
    if (group < 1 || used > group) throw new ConfigError(field, `stride ${part} needs used <= group, group >= 1`);
    for (let start = lo; start <= hi; start += group) {
      for (let i = start; i < start + used && i <= hi; i++) out.add(i);
    }
  }
  return [...out].sort((a, b) => a - b);
}
