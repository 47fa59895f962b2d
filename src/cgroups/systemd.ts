// The systemd cgroup driver (--systemd-cgroup): the container's cgroups belong to a
// transient scope unit that systemd starts with the init in it, in the slice that
// cgroupsPath names. The files are still written here, by the cgroupfs driver this
// one wraps (systemd has properties for a few limits only), and the hierarchies
// systemd does not manage get their dirs from it too, as runc's driver does.
import * as fs from 'fs';
import * as path from 'path';
import { CgroupError } from '../errors';
import { SystemdError, SystemdManager, type UnitProperty } from '../systemd/systemd-manager';
import type { DeviceCgroupRule } from '../config/types';
import type { CgroupLayout } from './detect';
import { writeCgroupFile, type BaseManager, type CgroupManager, type Placement } from './manager';
import { ownCgroupDir, parseProcCgroup } from './path';
import { mergeResources, validateResources, type LinuxResources } from './resources';
import type { CgroupStats } from './stats';
import { emulateDeviceCgroup } from './device-cgroup-model';
import { deviceLines, effectiveDeviceRules } from './devices';
import { annotationProperties, deviceProperties, scopeProperties, v1ResourceProperties, v2ResourceProperties, type SystemdUnit } from './systemd-unit';
import type { PlanOptions } from './v1-resources';

/**
 * Where systemd puts the unit's cgroup in each hierarchy: below systemd's own root,
 * the dir PID 1 is in without its init.scope (the hierarchy's root on a host, the
 * container's cgroup when systemd runs in a container with a cgroup namespace).
 */
export function systemdPlacements(hierarchies: readonly Placement['h'][], unit: SystemdUnit, readInitCgroup: () => string): Placement[] {
  const init = parseProcCgroup(readInitCgroup());
  return hierarchies.map((h) => {
    let root = ownCgroupDir(h, init);
    if (path.basename(root) === 'init.scope') root = path.dirname(root);
    return { h, dir: path.join(root, unit.cgroup) };
  });
}

/** Hierarchies systemd itself moves the unit's processes into: its own named one, and the unified one. */
function systemdOwns(p: Placement): boolean {
  return p.h.kind === 'v2' || p.h.controllers.includes('name=systemd');
}

/** What create knows of the unit it starts: the container's id, slice, annotations and limits. */
export interface SystemdStart {
  id: string;
  slice: string;
  annotations: Readonly<Record<string, string>>;
  /** linux.resources (validated) and linux.resources.devices, with the paths linux.devices names. */
  resources: LinuxResources;
  devices: readonly DeviceCgroupRule[];
  specDevicePaths: readonly string[];
}

/**
 * What a later command knows of a container's limits (its recorded config): an
 * update tells systemd the container's settings after it, not only the fields it
 * changes, and puts back the device rules systemd rewrites.
 */
export interface SystemdRecorded {
  /** linux.resources as recorded (updates merged in). */
  resources: unknown;
  devices: readonly DeviceCgroupRule[];
  specDevicePaths: readonly string[];
}

export class SystemdCgroupManager implements CgroupManager {
  private bus: SystemdManager | undefined;
  /**
   * The unit is this container's: a later command's (restored), or started by this
   * create. Until then its dirs may be another container's unit's, whose processes
   * pids(), killAll() and destroy() must never reach.
   */
  private owned: boolean;
  /** What systemd could not be told of the device rules at the start (setDevices returns them). */
  private startWarnings: string[] = [];
  private version: number | undefined;

  /**
   * inner: the cgroupfs driver over the unit's dirs; systemdUnit: the scope's name;
   * start: what create knows of the unit it starts (absent for the later commands,
   * whose unit exists: they set its properties and stop it).
   */
  constructor(
    private readonly inner: BaseManager,
    readonly systemdUnit: string,
    private readonly start?: SystemdStart,
    private readonly recorded?: SystemdRecorded,
    private readonly connect: () => SystemdManager = () => SystemdManager.connect(),
  ) {
    this.owned = start === undefined;
  }

  get layout(): CgroupLayout {
    return this.inner.layout;
  }

  private systemd(): SystemdManager {
    this.bus ??= this.connect();
    return this.bus;
  }

  private systemdVersion(): number {
    this.version ??= this.systemd().version();
    return this.version;
  }

  paths(): Record<string, string> {
    return this.inner.paths();
  }

  controllerPath(controller: string): string | undefined {
    return this.inner.controllerPath(controller);
  }

  created(): string[] {
    return this.inner.created();
  }

  /**
   * Only asks for systemd (a host without it fails here, before anything is made):
   * the dirs are made once systemd has started the unit (apply). Made before, the
   * ones below a slice systemd makes at that moment are gone after it.
   */
  create(): void {
    this.systemd();
    // Another container's unit of the same name (the same cgroupsPath): its processes
    // are in these dirs, and a failing create would kill them and stop its unit. The
    // cgroupfs driver's rule (runc 1.2's; runc 1.1.5 warns and goes on).
    const busy = this.inner.occupiedLeaf();
    if (busy) throw new CgroupError(busy, `container's cgroup is not empty: ${busy} already exists and has processes in it or below it (systemd unit ${this.systemdUnit})`);
  }

  /**
   * Starts the unit with `pid` in it and waits for systemd's job, checks that systemd
   * put it where paths() says, then places it in the hierarchies systemd leaves alone
   * (making their dirs: on v1, systemd makes dirs only for the controllers it uses).
   * The limits and device rules go with the start: set later, systemd would apply
   * them by realizing the unit's slices again, and on v1 it then moves the process out
   * of a devices dir below a slice it made a moment ago (runc's process ends up there).
   * They come after the annotations, as runc sets them after the start: a property both
   * name (org.systemd.property.TasksMax and linux.resources.pids) is the config's
   * limit, which the files written after say too, not a unit property saying another.
   */
  apply(pid: number): void {
    if (!this.start) throw new CgroupError(this.systemdUnit, `systemd unit ${this.systemdUnit} exists already: a process joins it through its dirs`);
    const { id, slice, annotations } = this.start;
    this.startWarnings = [];
    const properties = [
      ...scopeProperties(slice, id, pid, this.layout === 'unified' ? 'v2' : 'v1'),
      ...annotationProperties(annotations),
      ...this.deviceProperties(this.start.devices, this.start.specDevicePaths, this.startWarnings),
      ...this.resourceProperties(this.start.resources),
    ];
    this.systemd().startTransientUnit(this.systemdUnit, properties);
    this.owned = true;
    this.checkPlacement(pid);
    this.inner.create({ occupiedOk: true });
    for (const p of this.inner.placementList()) {
      if (!systemdOwns(p)) writeCgroupFile(p.dir, 'cgroup.procs', String(pid));
    }
  }

  private deviceProperties(rules: readonly DeviceCgroupRule[], specDevicePaths: readonly string[] | undefined, warnings: string[]): UnitProperty[] {
    // Only v1 has a devices controller; v2's device program is tsrun's own (systemd's
    // would be a second one, which the kernel runs too: it is left out).
    if (this.layout === 'unified') return [];
    const lines = deviceLines(effectiveDeviceRules(rules, specDevicePaths), rules.length);
    const planned = deviceProperties(emulateDeviceCgroup(lines), fs.readFileSync('/proc/devices', 'utf8'));
    warnings.push(...planned.warnings);
    return planned.properties;
  }

  private resourceProperties(resources: LinuxResources): UnitProperty[] {
    return this.layout === 'unified' ? v2ResourceProperties(resources, this.systemdVersion()) : v1ResourceProperties(resources, this.systemdVersion());
  }

  /** The unit's processes are where paths() says: else every later command would look in the wrong place. */
  private checkPlacement(pid: number): void {
    const own = this.inner.placementList().find(systemdOwns);
    if (!own) return;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch (e) {
      throw new CgroupError(own.dir, `reading /proc/${pid}/cgroup: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const actual = ownCgroupDir(own.h, parseProcCgroup(text));
    if (actual !== own.dir) throw new CgroupError(own.dir, `systemd put unit ${this.systemdUnit}'s process in ${actual}, not in ${own.dir}`);
  }

  /**
   * The files, as the cgroupfs driver writes them. At create the unit got the rules
   * with its start; afterwards they go to the unit first (systemd writes the device
   * cgroup again from them whenever a property of the unit changes). Warnings: what
   * systemd cannot hold.
   */
  setDevices(rules: readonly DeviceCgroupRule[], specDevicePaths?: readonly string[]): string[] {
    let warnings = this.startWarnings;
    if (!this.start) {
      warnings = [];
      this.systemd().setUnitProperties(this.systemdUnit, this.deviceProperties(rules, specDevicePaths, warnings));
    }
    this.inner.setDevices(rules, specDevicePaths);
    return warnings;
  }

  /**
   * The unit's properties first (systemd writes them again when it reloads; at
   * create they went with the start), then every file. The properties say the
   * container's settings after the change (an update gives only what it changes: a
   * period alone must not make systemd drop the quota). systemd applies a property
   * change by writing the unit's device cgroup again from its own copy of the rules,
   * deny-all first, and that copy lacks what it cannot hold: the container is frozen
   * meanwhile (as runc freezes it) and its rules are written again before it thaws,
   * so that none of its processes is refused a device it may use.
   */
  set(resources: LinuxResources, opts?: PlanOptions): string[] {
    if (this.start) return this.inner.set(resources, opts);
    const after = this.recorded ? validateResources(mergeResources(this.recorded.resources, resources)) : resources;
    const props = this.resourceProperties(after);
    const rewriteDevices = this.recorded !== undefined && this.layout !== 'unified';
    const freeze = props.length > 0 && !this.inner.isFrozen();
    if (freeze) this.inner.freeze();
    try {
      this.systemd().setUnitProperties(this.systemdUnit, props);
      if (props.length > 0 && rewriteDevices && this.recorded) this.inner.setDevices(this.recorded.devices, this.recorded.specDevicePaths);
    } finally {
      if (freeze) this.inner.thaw();
    }
    return this.inner.set(resources, opts);
  }

  stats(): CgroupStats {
    return this.inner.stats();
  }

  freeze(): void {
    this.inner.freeze();
  }

  thaw(): void {
    this.inner.thaw();
  }

  isFrozen(): boolean {
    return this.inner.isFrozen();
  }

  killAll(): boolean {
    return this.owned && this.inner.killAll();
  }

  pids(): number[] {
    return this.owned ? this.inner.pids() : [];
  }

  /**
   * Stops the unit (systemd removes the dirs it made), then removes what is left.
   * A unit still holding processes (ones delete spared: not the container's) is left
   * to systemd, which ends it when they are gone. Nothing is touched for a create
   * that never started its unit. As runc, a systemd that cannot be asked does not stop
   * the rest (a warning says so); only a stop job that does not end is an error.
   */
  destroy(): string[] {
    if (!this.owned) return [];
    const notes: string[] = [];
    try {
      if (this.inner.pids().length > 0) {
        notes.push(`systemd unit ${this.systemdUnit} still holds processes that are not the container's: left to systemd`);
      } else {
        const warning = this.systemd().stopUnit(this.systemdUnit);
        if (warning) notes.push(warning);
      }
    } catch (e) {
      if (e instanceof SystemdError && e.timedOut) throw e;
      notes.push(`systemd unit ${this.systemdUnit} not stopped: ${(e as Error).message}`);
    } finally {
      this.close();
    }
    return [...notes, ...this.inner.destroy()];
  }

  /**
   * Closes the connection to systemd, if one is open: systemd sends every job's and
   * unit's signals to each of its private connections, and one nobody reads (a
   * foreground run's, for its container's whole life) fills up.
   */
  close(): void {
    this.bus?.close();
    this.bus = undefined;
  }
}
