// Writes the uid/gid maps of the init's fresh user namespace (the `sync usermap`
// point), as planned by src/linux/id-mappings.ts: directly, or through the setuid
// newuidmap/newgidmap helpers when an unprivileged caller maps more than its own id.
import * as fs from 'fs';
import { childProcess } from '../child-process';
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';
import { mapFileText, mapHelperArgs, planIdMappings, type MapWriter } from '../linux/id-mappings';
import type { IdMapping } from '../config/types';

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

function writeMap(pid: number, kind: 'uid' | 'gid', writer: MapWriter, maps: IdMapping[]): void {
  const field = `linux.${kind}Mappings`;
  if (writer === 'direct') {
    try {
      // One write(2): the kernel accepts a map once, and only whole.
      fs.writeFileSync(`/proc/${pid}/${kind}_map`, mapFileText(maps));
    } catch (e) {
      throw new TsrunError(`${field}: write /proc/${pid}/${kind}_map: ${errnoOf(e)}`);
    }
    return;
  }
  const helper = kind === 'uid' ? 'newuidmap' : 'newgidmap';
  const r = childProcess().spawnSync(helper, [String(pid), ...mapHelperArgs(maps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) {
    const why = errnoOf(r.error) === 'ENOENT' ? `${helper} not found (install the uidmap package)` : `${helper}: ${errnoOf(r.error)}`;
    throw new TsrunError(`${field}: mapping more than the caller's own id needs ${why}`);
  }
  if (r.status !== 0) throw new TsrunError(`${field}: ${helper} failed: ${(r.stderr || `exit status ${r.status}`).trim()}`);
}

export function writeIdMappings(pid: number, spec: Spec): void {
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  const plan = planIdMappings(spec.linux?.uidMappings, spec.linux?.gidMappings, euid, egid);
  writeMap(pid, 'uid', plan.uid.writer, plan.uid.mappings);
  if (plan.denySetgroups) {
    try {
      fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    } catch (e) {
      throw new TsrunError(`write /proc/${pid}/setgroups: ${errnoOf(e)}`);
    }
  }
  writeMap(pid, 'gid', plan.gid.writer, plan.gid.mappings);
}
