// Entry point: detect the layout, resolve (or restore) the container's dirs, pick the driver.
import * as fs from 'fs';
import * as path from 'path';
import { CgroupError } from '../errors';
import { readText } from '../host-files';
import { detectLayout, hostCgroupRoot, mountIsSeen, type CgroupLayoutInfo } from './detect';
import type { CgroupManager, Placement } from './manager';
import { innerCgroupPath, parseProcCgroup, resolveCgroupDir } from './path';
import type { SystemdRecorded, SystemdStart } from './systemd';
import type { SystemdUnit } from './systemd-unit';
import { V1Manager } from './v1';
import { V2Manager } from './v2';

export type { CgroupManager } from './manager';
export type { CgroupLayout } from './detect';

export interface CreateCgroupManagerOptions {
  /** linux.cgroupsPath ('' or undefined: runc's default, the relative path "<id>"). */
  cgroupsPath?: string;
  id: string;
  /** Where the hierarchies are mounted; default /sys/fs/cgroup. */
  root?: string;
  /** Default: read /proc/self/mountinfo. */
  readMountinfo?: () => string;
  /** Default: read /proc/self/cgroup (needed only for a relative cgroupsPath). */
  readSelfCgroup?: () => string;
  /**
   * --systemd-cgroup at create: the container's cgroups are a transient systemd scope
   * (cgroupsPath "slice:prefix:name"), started with the limits and device rules;
   * annotations carry org.systemd.property.*.
   */
  systemd?: Omit<SystemdStart, 'id' | 'slice'>;
  /** Default: read /proc/1/cgroup (systemd's own place, for the systemd driver). */
  readInitCgroup?: () => string;
  /**
   * For commands after create: use the dirs recorded in state.json (cgroupPaths,
   * cgroupCreated) instead of resolving cgroupsPath again, which for a relative path
   * would depend on the cgroup of whoever runs the command.
   */
  restore?: { paths: Record<string, string>; created?: string[]; systemdUnit?: string; systemdRecorded?: SystemdRecorded };
  /** Tests only: a fake tree's rmdir. */
  rmdir?: (dir: string) => void;
  /** Tests only: receives the v2 device program instead of the addon. */
  attachDeviceFilter?: (dir: string, insns: Buffer) => void;
}

/**
 * This process's own layout, read once: `run` makes a manager at create and another
 * at delete (0.3 ms each time). Between them lies the container's whole life in the
 * foreground; a hierarchy unmounted meanwhile would be looked for all the same, and
 * its cleanup would fail as if its dir were gone. The host's cgroup mounts are not
 * expected to move while containers run.
 */
let ownLayout: { root: string; info: CgroupLayoutInfo } | undefined;

function hostLayout(root: string): CgroupLayoutInfo {
  if (ownLayout?.root !== root) ownLayout = { root, info: detectLayout(readText('/proc/self/mountinfo'), root, mountIsSeen) };
  return ownLayout.info;
}

export function createCgroupManager(opts: CreateCgroupManagerOptions): CgroupManager {
  const root = opts.root ?? hostCgroupRoot();
  const info = opts.readMountinfo ? detectLayout(opts.readMountinfo(), root) : hostLayout(root);

  let placements: Placement[];
  let unit: SystemdUnit | undefined;
  if (opts.restore) {
    const recorded = opts.restore.paths;
    placements = [];
    for (const h of info.hierarchies) {
      const dir = recorded[h.key];
      if (dir === undefined) continue; // mounted after the container was made: it has no cgroup there
      const clean = path.resolve(dir);
      if (!clean.startsWith(`${h.mountPoint}/`)) {
        throw new CgroupError(dir, `recorded cgroup ${dir} is not below ${h.mountPoint}: refusing to use it`);
      }
      placements.push({ h, dir: clean });
    }
  } else if (opts.systemd) {
    unit = (require('./systemd-unit') as typeof import('./systemd-unit')).systemdUnitOf(opts.cgroupsPath, opts.id);
    placements = systemdDriver().systemdPlacements(info.hierarchies, unit, opts.readInitCgroup ?? (() => fs.readFileSync('/proc/1/cgroup', 'utf8')));
  } else {
    const inner = innerCgroupPath(opts.cgroupsPath, opts.id);
    let own: Map<string, string> | undefined;
    const readOwn = (): Map<string, string> => {
      own ??= parseProcCgroup(opts.readSelfCgroup ? opts.readSelfCgroup() : readText('/proc/self/cgroup'));
      return own;
    };
    placements = info.hierarchies.map((h) => ({ h, dir: resolveCgroupDir(h, inner, info.layout === 'unified', readOwn) }));
  }

  const deps = {
    layout: info.layout,
    placements,
    restored: opts.restore !== undefined,
    created: opts.restore?.created,
    rmdir: opts.rmdir,
    attachDeviceFilter: opts.attachDeviceFilter,
  };
  const fsDriver = info.layout === 'unified' ? new V2Manager(deps) : new V1Manager(deps);
  if (unit && opts.systemd) return new (systemdDriver().SystemdCgroupManager)(fsDriver, unit.name, { ...opts.systemd, id: opts.id, slice: unit.slice });
  const restoredUnit = opts.restore?.systemdUnit;
  return restoredUnit ? new (systemdDriver().SystemdCgroupManager)(fsDriver, restoredUnit, undefined, opts.restore?.systemdRecorded) : fsDriver;
}

/** Loaded by the containers that use it only: every other command is spared its modules (D-Bus among them). */
function systemdDriver(): typeof import('./systemd') {
  return require('./systemd') as typeof import('./systemd');
}

/**
 * A manager for an existing container, from what its state.json recorded
 * (cgroupPaths and cgroupCreated). destroy() removes the leaves, and only if they
 * are empty (rmdir refuses a cgroup with processes).
 */
export function cgroupManagerFromPaths(
  paths: Record<string, string>,
  created?: string[],
  opts: Omit<CreateCgroupManagerOptions, 'restore' | 'id' | 'cgroupsPath' | 'systemd'> & { systemdUnit?: string; systemdRecorded?: SystemdRecorded } = {},
): CgroupManager {
  const { systemdUnit, systemdRecorded, ...rest } = opts;
  return createCgroupManager({ ...rest, id: '', restore: { paths, created, ...(systemdUnit ? { systemdUnit, systemdRecorded } : {}) } });
}
