// The calls tsrun makes to systemd's manager object (org.freedesktop.systemd1.Manager)
// for the systemd cgroup driver: start a transient unit holding the container's
// init, change its properties, stop it. Over systemd's private socket, which root
// always has when systemd is PID 1 (no message bus daemon needed, no Hello).
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { DBusConnection, DBusError } from './dbus-connection';
import { unmarshal, type Variant } from './dbus-wire';

const DESTINATION = 'org.freedesktop.systemd1';
const OBJECT = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';

/** How long systemd has to answer a call or finish a job: runc's 30 s. */
const TIMEOUT_MS = 30_000;

export const PRIVATE_SOCKET = '/run/systemd/private';

/** A unit property as StartTransientUnit and SetUnitProperties take it. */
export interface UnitProperty {
  name: string;
  value: Variant;
}

export class SystemdError extends TsrunError {
  /** timedOut: systemd did not finish a job in time (its state is unknown). */
  constructor(readonly unit: string, message: string, readonly timedOut = false) {
    super(message);
  }
}

/** Whether the host was booted with systemd (sd_booted(3)'s test, as runc makes it). */
export function isRunningSystemd(): boolean {
  try {
    return fs.lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

export class SystemdManager {
  private constructor(private readonly bus: DBusConnection) {}

  static connect(socketPath = PRIVATE_SOCKET): SystemdManager {
    if (!isRunningSystemd()) throw new TsrunError('systemd not running on this host, cannot use systemd cgroups manager');
    const bus = DBusConnection.open(socketPath, TIMEOUT_MS);
    const manager = new SystemdManager(bus);
    try {
      // Job signals come to subscribed clients.
      manager.callManager('Subscribe');
    } catch (e) {
      bus.close();
      throw e;
    }
    return manager;
  }

  close(): void {
    this.bus.close();
  }

  private callManager(member: string, signature?: string, args?: Parameters<DBusConnection['call']>[0]['args']): ReturnType<DBusConnection['call']> {
    return this.bus.call({ destination: DESTINATION, path: OBJECT, interface: MANAGER, member, ...(signature ? { signature, args } : {}) });
  }

  /** Waits for the job's JobRemoved signal and returns its result ("done", "failed", ...). */
  private waitForJob(job: string, unit: string): string {
    const signal = this.bus.waitForSignal((m) => m.member === 'JobRemoved' && m.interface === MANAGER && m.signature === 'uoss' && m.body.length > 0 && jobOf(m.body) === job, Date.now() + TIMEOUT_MS);
    if (!signal) throw new SystemdError(unit, `timeout waiting for systemd to finish its job for ${unit}`, true);
    return resultOf(signal.body);
  }

  /**
   * StartTransientUnit, mode "replace", waiting for its job. A unit of that name left
   * over in the failed state is reset and the start tried once more (runc's rule).
   */
  startTransientUnit(unit: string, properties: readonly UnitProperty[]): void {
    const props = properties.map((p) => [p.name, p.value]);
    let job: string;
    try {
      job = this.callManager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', props, []])[0] as string;
    } catch (e) {
      if (!(e instanceof DBusError) || e.errorName !== 'org.freedesktop.systemd1.UnitExists') throw this.wrap(unit, e);
      this.resetFailedUnit(unit);
      try {
        job = this.callManager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit, 'replace', props, []])[0] as string;
      } catch (again) {
        throw this.wrap(unit, again);
      }
    }
    let result: string;
    try {
      result = this.waitForJob(job, unit);
    } catch (e) {
      this.resetFailedUnit(unit);
      throw e;
    }
    if (result !== 'done') {
      this.resetFailedUnit(unit);
      throw new SystemdError(unit, `error creating systemd unit \`${unit}\`: got \`${result}\``);
    }
  }

  /**
   * StopUnit, mode "replace", waiting for its job; a unit systemd no longer knows (a
   * scope ends by itself once its processes have) is not an error. A failed unit is
   * reset so that systemd forgets it.
   */
  stopUnit(unit: string): string | undefined {
    let warning: string | undefined;
    try {
      const job = this.callManager('StopUnit', 'ss', [unit, 'replace'])[0] as string;
      const result = this.waitForJob(job, unit);
      if (result !== 'done') warning = `error removing unit \`${unit}\`: got \`${result}\``;
    } catch (e) {
      if (!(e instanceof DBusError) || e.errorName !== 'org.freedesktop.systemd1.NoSuchUnit') throw this.wrap(unit, e);
    }
    this.resetFailedUnit(unit);
    return warning;
  }

  /** ResetFailedUnit; errors are not reported (the unit may be gone, or not failed). */
  resetFailedUnit(unit: string): void {
    try {
      this.callManager('ResetFailedUnit', 's', [unit]);
    } catch {
      // nothing to reset
    }
  }

  /** SetUnitProperties, runtime only (as runc sets them: gone at reboot with the container). */
  setUnitProperties(unit: string, properties: readonly UnitProperty[]): void {
    if (properties.length === 0) return;
    try {
      this.callManager('SetUnitProperties', 'sba(sv)', [unit, true, properties.map((p) => [p.name, p.value])]);
    } catch (e) {
      throw this.wrap(unit, e);
    }
  }

  /** The manager's Version property's leading number (e.g. 252 of "252.38-1~deb12u1"); -1 when unknown. */
  version(): number {
    try {
      const [v] = this.bus.call({ destination: DESTINATION, path: OBJECT, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', args: [MANAGER, 'Version'] });
      const text = String((v as Variant).value).replace(/^v/, '');
      const n = Number.parseInt(text, 10);
      return Number.isNaN(n) ? -1 : n;
    } catch {
      return -1;
    }
  }

  private wrap(unit: string, e: unknown): Error {
    if (e instanceof DBusError) return new SystemdError(unit, `systemd, unit ${unit}: ${e.message}`);
    return e instanceof Error ? e : new SystemdError(unit, String(e));
  }
}

function jobOf(body: Buffer): string | undefined {
  try {
    return unmarshalJobRemoved(body).job;
  } catch {
    return undefined;
  }
}

function resultOf(body: Buffer): string {
  return unmarshalJobRemoved(body).result;
}

function unmarshalJobRemoved(body: Buffer): { job: string; unit: string; result: string } {
  const [, job, unit, result] = unmarshal('uoss', body) as [number, string, string, string];
  return { job, unit, result };
}
