// linux.netDevices at the init's `sync netDevice <host>`: tsrun, in its own network
// namespace, moves the device into the container's and sets it up there, through the
// netlink socket the init sent it (`netlink socket`) from that namespace. The planner
// (src/linux/net-devices.ts) has checked the names.
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';
import { containerDeviceName } from '../linux/net-devices';
import { native } from '../native';

export function moveNetDevice(spec: Spec, netlinkFd: number | undefined, hostName: string): void {
  const devices = spec.linux?.netDevices ?? {};
  if (!Object.prototype.hasOwnProperty.call(devices, hostName)) throw new TsrunError(`the init asked for network device ${hostName}, which the config does not name`);
  if (netlinkFd === undefined) throw new TsrunError(`the init asked for network device ${hostName} before sending its netlink socket`);
  native().moveNetDevice(netlinkFd, hostName, containerDeviceName(hostName, devices[hostName]));
}
