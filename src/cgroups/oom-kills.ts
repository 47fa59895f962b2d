// How many processes the OOM killer has ended in a container's memory cgroup, for the
// reason of a failed create (src/lifecycle/create.ts).
import * as fs from 'fs';
import * as path from 'path';
import type { CgroupManager } from './manager';

/** The oom_kill counter (kernel 4.13+) of v1 memory.oom_control or v2 memory.events; 0 where the host cannot say. */
export function oomKills(cgroups: CgroupManager): number {
  const count = (dir: string | undefined, file: string): number | undefined => {
    if (!dir) return undefined;
    try {
      const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(path.join(dir, file), 'utf8'));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  return count(cgroups.controllerPath('memory'), 'memory.oom_control') ?? count(cgroups.controllerPath('unified'), 'memory.events') ?? 0;
}
