// cgroup v2 driver (unified layout).
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceCgroupRule } from '../config/types';
import { CgroupError } from '../errors';
import { native } from '../native';
import { effectiveDeviceRules } from './devices';
import type { LinuxResources } from './resources';
import { statsV2, type CgroupStats } from './stats';
import type { PlanOptions } from './v1-resources';
import { encodeInsns, planDeviceFilter } from './v2-devices-bpf';
import { missingFileReason, planV2Resources } from './v2-resources';
import { v2Frozen } from './freezer-state';
import { BaseManager, type ManagerDeps, type Placement, pollUntil, readCgroupFile, writeCgroupFile } from './manager';

const FREEZE_TIMEOUT_MS = 2000;

function eventsField(dir: string, field: string): string | undefined {
  const text = readCgroupFile(dir, 'cgroup.events') ?? '';
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === field) return v;
  }
  return undefined;
}

export class V2Manager extends BaseManager {
  private readonly attachFn: (dir: string, insns: Buffer) => void;

  constructor(deps: ManagerDeps) {
    super(deps);
    this.attachFn = deps.attachDeviceFilter ?? ((dir, insns) => native().attachDeviceFilter(dir, insns));
  }

  /**
   * In v2 a cgroup has only the controllers its parent enables in
   * cgroup.subtree_control. For each intermediate dir we create, enable everything
   * it has, so the leaf gets what the pre-existing ancestor offers. Never in the
   * leaf (the container's processes live there, and v2 forbids processes in a
   * cgroup that enables controllers for children), and in a dir we did not create
   * only while nobody has configured it (prepareExisting).
   */
  protected prepareCreated(p: Placement, dir: string, isLeaf: boolean): void {
    if (!isLeaf) this.enableControllers(dir);
  }

  /**
   * An existing parent whose subtree_control is still empty is one a concurrent
   * create made an instant ago and has not configured yet (or one nobody
   * configured): enable what it offers, as its maker would (runc enables the
   * controllers of every ancestor). A parent someone configured is left alone.
   */
  protected override prepareExisting(p: Placement, dir: string): void {
    if (dir === p.dir || (readCgroupFile(dir, 'cgroup.subtree_control') ?? '') !== '') return;
    this.enableControllers(dir);
  }

  private enableControllers(dir: string): void {
    const available = (readCgroupFile(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
    if (available.length === 0) return;
    try {
      writeCgroupFile(dir, 'cgroup.subtree_control', available.map((c) => `+${c}`).join(' '));
    } catch {
      // One controller may refuse (e.g. a realtime-process restriction on cpu):
      // enable the others one by one rather than none.
      for (const c of available) {
        try {
          writeCgroupFile(dir, 'cgroup.subtree_control', `+${c}`);
        } catch {
          // that controller stays off; a later limit on it reports the error
        }
      }
    }
  }

  /**
   * The same rule list v1 writes (the config's rules, then runc's defaults), as a
   * device eBPF program on the leaf: planned (and validated) in full before the
   * addon loads and attaches it.
   */
  setDevices(rules: readonly DeviceCgroupRule[], specDevicePaths: readonly string[] = []): string[] {
    const insns = encodeInsns(planDeviceFilter(effectiveDeviceRules(rules, specDevicePaths), rules.length));
    const dir = this.leaf;
    try {
      this.attachFn(dir, insns);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CgroupError(dir, `device filter for ${dir}: ${err.message}`);
    }
    return [];
  }

  set(resources: LinuxResources, opts: PlanOptions = {}): string[] {
    const dir = this.leaf;
    const plan = planV2Resources(resources, (_controller, file) => readCgroupFile(dir, file), opts);
    const controllers = (readCgroupFile(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
    this.performWrites(plan.writes, () => dir, (w) => missingFileReason(w, controllers), opts.update === true);
    return plan.warnings;
  }

  stats(): CgroupStats {
    return statsV2(this.leaf);
  }

  private get leaf(): string {
    const p = this.placements[0];
    // A rootless container without a cgroup of its own records none.
    if (!p) throw new CgroupError('', BaseManager.NO_OWN_CGROUP);
    return p.dir;
  }

  freeze(): void {
    const dir = this.leaf;
    if (readCgroupFile(dir, 'cgroup.freeze') === null) {
      throw new CgroupError(dir, `${dir}/cgroup.freeze does not exist (kernel older than 5.2): cannot pause`);
    }
    writeCgroupFile(dir, 'cgroup.freeze', '1');
    if (!pollUntil(() => eventsField(dir, 'frozen') === '1', FREEZE_TIMEOUT_MS)) {
      try {
        writeCgroupFile(dir, 'cgroup.freeze', '0');
      } catch {
        // the timeout is the error to report
      }
      throw new CgroupError(dir, `freezing ${dir} did not complete within ${FREEZE_TIMEOUT_MS} ms`);
    }
  }

  thaw(): void {
    const dir = this.leaf;
    writeCgroupFile(dir, 'cgroup.freeze', '0');
    if (!pollUntil(() => eventsField(dir, 'frozen') !== '1', FREEZE_TIMEOUT_MS)) {
      throw new CgroupError(dir, `thawing ${dir} did not complete within ${FREEZE_TIMEOUT_MS} ms`);
    }
  }

  /** Asked to freeze (also while the kernel is still completing it). */
  isFrozen(): boolean {
    if (this.placements.length === 0) return false;
    return v2Frozen(this.leaf);
  }

  killAll(): boolean {
    if (this.placements.length === 0) return false;
    const dir = this.leaf;
    if (!fs.existsSync(path.join(dir, 'cgroup.kill'))) return false;
    writeCgroupFile(dir, 'cgroup.kill', '1');
    return true;
  }

  protected primary(): Placement {
    return this.placements[0];
  }
}
