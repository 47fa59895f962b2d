// linux.netDevices at the init's `sync netDevice <host>`: the init is in the container's
// network namespace, and tsrun, still in its own, moves the device there and sets it
// up (the planner, src/linux/net-devices.ts, has checked the names).
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';
import { containerDeviceName } from '../linux/net-devices';
import { native } from '../native';

export function moveNetDevice(spec: Spec, pid: number, hostName: string): void {
  const devices = spec.linux?.netDevices ?? {};
  if (!Object.prototype.hasOwnProperty.call(devices, hostName)) throw new TsrunError(`the init asked for network device ${hostName}, which the config does not name`);
  native().moveNetDevice(pid, hostName, containerDeviceName(hostName, devices[hostName]));
}
