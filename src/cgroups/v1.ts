// cgroup v1 driver, for the legacy layout and for the hybrid one (v1 controllers
// plus a cgroup2 hierarchy used only to place processes, as runc does there).
import * as path from 'path';
import type { DeviceCgroupRule } from '../config/types';
import { CgroupError } from '../errors';
import { deviceLines, effectiveDeviceRules } from './devices';
import type { LinuxResources } from './resources';
import { statsV1, type CgroupStats } from './stats';
import { planV1Resources, type PlanOptions } from './v1-resources';
import { v1Frozen } from './freezer-state';
import { BaseManager, type Placement, pollUntil, readCgroupFile, writeCgroupFile, writeCgroupLines } from './manager';

const FREEZE_TIMEOUT_MS = 2000;

export class V1Manager extends BaseManager {
  private find(controller: string): Placement | undefined {
    return this.placements.find((p) => p.h.kind === 'v1' && p.h.controllers.includes(controller));
  }

  /**
   * A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and the
   * kernel refuses to add a task to it until both are set (ENOSPC): copy them from
   * the parent, top-down, into each dir on the way that has them empty.
   */
  protected prepareCreated(p: Placement, dir: string): void {
    this.fillEmptyCpuset(p, dir);
  }

  /** Only cpuset parents are ever written (fillEmptyCpuset). */
  protected override preparesParents(p: Placement): boolean {
    return p.h.kind === 'v1' && p.h.controllers.includes('cpuset');
  }

  /**
   * An existing dir is written only where it is still empty: a parent that a
   * concurrent create made an instant ago and has not filled yet (runc fills empty
   * parents the same way). A value someone set is never changed.
   */
  protected override prepareExisting(p: Placement, dir: string): void {
    this.fillEmptyCpuset(p, dir);
  }

  private fillEmptyCpuset(p: Placement, dir: string): void {
    if (p.h.kind !== 'v1' || !p.h.controllers.includes('cpuset')) return;
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = readCgroupFile(dir, file);
      if (own) continue;
      const parent = readCgroupFile(path.dirname(dir), file);
      if (parent) writeCgroupFile(dir, file, parent);
    }
  }

  setDevices(rules: readonly DeviceCgroupRule[], specDevicePaths: readonly string[] = []): string[] {
    // Computed (and so validated) in full before the first write.
    const lines = deviceLines(effectiveDeviceRules(rules, specDevicePaths), rules.length);
    const devices = this.find('devices');
    if (!devices) {
      // runc treats a missing devices hierarchy as fatal: the container would get every device.
      throw new CgroupError('devices', 'no devices cgroup hierarchy is mounted: refusing to run without device restrictions');
    }
    writeCgroupLines(devices.dir, lines.map((l) => ({ file: l.file, value: l.line })));
    return [];
  }

  set(resources: LinuxResources, opts: PlanOptions = {}): string[] {
    const plan = planV1Resources(resources, (controller, file) => {
      const p = this.find(controller);
      return p ? readCgroupFile(p.dir, file) : null;
    }, opts);
    this.performWrites(
      plan.writes,
      (w) => this.find(w.controller)?.dir,
      (w) => (this.find(w.controller)
        ? `${w.file} does not exist in the ${w.controller} cgroup (not supported by this kernel)`
        : this.placements.length === 0 ? BaseManager.NO_OWN_CGROUP : `the ${w.controller} cgroup controller is not mounted (cgroup v1)`),
      opts.update === true,
    );
    return plan.warnings;
  }

  stats(): CgroupStats {
    return statsV1((controller) => this.find(controller)?.dir);
  }

  private freezer(): Placement {
    const f = this.find('freezer');
    if (!f) throw new CgroupError('freezer', this.placements.length === 0 ? BaseManager.NO_OWN_CGROUP : 'no freezer cgroup hierarchy is mounted: cannot pause or resume');
    return f;
  }

  freeze(): void {
    const { dir } = this.freezer();
    writeCgroupFile(dir, 'freezer.state', 'FROZEN');
    // FREEZING can stall while tasks fork or sit in uninterruptible sleep; thawing and
    // freezing again now and then gets it unstuck (runc does the same).
    const done = pollUntil(
      () => readCgroupFile(dir, 'freezer.state') === 'FROZEN',
      FREEZE_TIMEOUT_MS,
      () => {
        writeCgroupFile(dir, 'freezer.state', 'THAWED');
        writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      },
    );
    if (!done) {
      writeCgroupFile(dir, 'freezer.state', 'THAWED');
      throw new CgroupError(dir, `freezing ${dir} did not complete within ${FREEZE_TIMEOUT_MS} ms`);
    }
  }

  thaw(): void {
    const { dir } = this.freezer();
    writeCgroupFile(dir, 'freezer.state', 'THAWED');
    if (!pollUntil(() => readCgroupFile(dir, 'freezer.state') === 'THAWED', FREEZE_TIMEOUT_MS)) {
      throw new CgroupError(dir, `thawing ${dir} did not complete within ${FREEZE_TIMEOUT_MS} ms`);
    }
  }

  isFrozen(): boolean {
    const f = this.find('freezer');
    return f ? v1Frozen(f.dir) === true : false;
  }

  /** v1 has no cgroup.kill: callers freeze, signal each pid, thaw. */
  killAll(): boolean {
    return false;
  }

  protected primary(): Placement {
    return this.find('devices') ?? this.find('freezer') ?? this.placements[0];
  }
}
