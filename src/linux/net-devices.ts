// linux.netDevices -> one `netDevice` op per device (PROTOCOL.md), once the init is in
// the container's network namespace. At each, tsrun moves the device out of its own
// namespace (src/lifecycle/net-devices.ts) and the init sets it up on its side.
// Pure, like every planner.
import type { Spec } from '../config/types';
import { ConfigError } from '../errors';
import { op, type PlanOp } from './plan-encoding';
import type { NamespacePlan } from './namespaces';

const IFNAMSIZ = 16;

/** The kernel's rule for an interface name (dev_valid_name), said as a reason; null when valid. */
function badName(name: string): string | null {
  if (name === '' || Buffer.byteLength(name) >= IFNAMSIZ) return `must be 1 to ${IFNAMSIZ - 1} bytes long`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (/[/:\s]/.test(name)) return 'must not contain "/", ":" or white space';
  return null;
}

/** A "%d" in a container-side name asks the kernel for the first free number. */
function isTemplate(name: string): boolean {
  return name.includes('%');
}

/** The device's name in the container. */
export function containerDeviceName(hostName: string, device: { name?: string }): string {
  return device.name || hostName;
}

export function planNetDevices(spec: Spec, ns: NamespacePlan, unprivileged: boolean): PlanOp[] {
  const devices = Object.entries(spec.linux?.netDevices ?? {});
  if (devices.length === 0) return [];
  const field = 'linux.netDevices';
  // runc's wording. Without a network namespace of its own the container would have
  // the device already, and the move would take it out of the host's namespace.
  if (!ns.has('network')) throw new ConfigError(field, 'unable to move network devices without a private NET namespace');
  if (unprivileged) throw new ConfigError(field, "moving a network device needs CAP_NET_ADMIN in the runtime's network namespace: not for rootless containers");
  const ops: PlanOp[] = [];
  const taken = new Map<string, string>();
  for (const [hostName, device] of devices) {
    const hostReason = isTemplate(hostName) ? 'must not contain "%"' : badName(hostName);
    if (hostReason) throw new ConfigError(`${field}.${hostName}`, `host device name ${hostReason}`);
    const name = containerDeviceName(hostName, device);
    const reason = badName(name);
    if (reason) throw new ConfigError(`${field}.${hostName}.name`, reason);
    if (isTemplate(name) && !/^[^%]*%d[^%]*$/.test(name)) throw new ConfigError(`${field}.${hostName}.name`, 'a name template holds one "%d" and no other "%"');
    const other = taken.get(name);
    if (other !== undefined && !isTemplate(name)) throw new ConfigError(`${field}.${hostName}.name`, `"${name}" is also the container's name for ${other}`);
    taken.set(name, hostName);
    ops.push(op('netDevice', hostName, name));
  }
  return ops;
}
