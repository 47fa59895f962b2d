// An existing container as the lifecycle commands see it: its recorded state and
// its status derived from the live system (DESIGN.md §4: status is derived).
import type * as Cgroups from '../cgroups';
import { frozenAt } from '../cgroups/freezer-state';
import type { CgroupManager } from '../cgroups/manager';
import type { SystemdRecorded } from '../cgroups/systemd';
import type { DeviceCgroupRule } from '../config/types';
import { validateContainerId } from '../state/ids';
import { isAlive, probeStatus } from '../state/status';
import { StateStore } from '../state/store';
import type { ContainerState, ContainerStatus } from '../state/types';

export class Container {
  private cgroupManager?: CgroupManager;

  /**
   * `lockedHere`: this command holds the container's lock (openLocked, delete), so no
   * create of it can be running; `state` and `list` read without it.
   */
  constructor(readonly store: StateStore, readonly id: string, readonly state: ContainerState, private readonly lockedHere = false) {}

  static open(root: string, id: string): Container {
    validateContainerId(id);
    const store = new StateStore(root);
    return new Container(store, id, store.read(id));
  }

  /**
   * The container as it is once this command holds its lock: a state read before
   * would be a create's, or a delete's, still under way (the pid a create recorded
   * first belongs to a process that has exited by the time it records the init).
   */
  static openLocked(root: string, id: string): { container: Container; unlock: () => void } {
    validateContainerId(id);
    const store = new StateStore(root);
    const unlock = store.lock(id);
    try {
      return { container: new Container(store, id, store.read(id), true), unlock };
    } catch (e) {
      unlock();
      throw e;
    }
  }

  get cgroups(): CgroupManager {
    // Loaded here: `state` and `start` never need a manager (the drivers are a third of
    // the modules they would load).
    this.cgroupManager ??= (require('../cgroups') as typeof Cgroups).cgroupManagerFromPaths(this.state.cgroupPaths ?? {}, this.state.cgroupCreated, this.systemdOptions());
    return this.cgroupManager;
  }

  /** A systemd-managed container's unit, and what its recorded config says of its limits (cgroups/systemd.ts). */
  private systemdOptions(): { systemdUnit?: string; systemdRecorded?: SystemdRecorded } {
    const systemdUnit = this.state.systemdUnit;
    if (!systemdUnit) return {};
    const linux = (this.state.config as { linux?: { resources?: { devices?: DeviceCgroupRule[] }; devices?: { path: string }[] } }).linux;
    return {
      systemdUnit,
      systemdRecorded: {
        resources: linux?.resources ?? {},
        devices: linux?.resources?.devices ?? [],
        // Loaded here, as the drivers are: state, start and kill never read a device rule.
        specDevicePaths: (require('../cgroups/devices') as typeof import('../cgroups/devices')).specDevicePaths(linux?.devices),
      },
    };
  }

  /** The init is alive and is the process we started (not a reused pid). */
  alive(): boolean {
    return this.state.pid > 0 && isAlive(this.state.pid, this.state.startTime);
  }

  status(): ContainerStatus {
    return probeStatus(this.state, {
      fifoPath: () => this.store.fifoPath(this.id),
      // From the recorded dirs: building the manager (layout from mountinfo) costs
      // more than the answer, on every state, start and kill.
      isFrozen: () => {
        try {
          return frozenAt(this.state.cgroupPaths ?? {});
        } catch {
          return false;
        }
      },
      // Holding the lock ourselves, no create can be under way: its holder is gone.
      creatorAtWork: () => !this.lockedHere && this.store.lockedElsewhere(this.id),
    });
  }
}
