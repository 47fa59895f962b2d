// linux.netDevices -> one `sync netDevice <host>` point per device (PROTOCOL.md), once
// the init is in all of its namespaces (the create planner puts the `netns` op, which
// sends tsrun the init's network namespace, before the first). At each, tsrun moves the
// device from its own namespace into the container's and sets it up there
// (src/lifecycle/net-devices.ts). Pure, like every planner: it refuses what the kernel
// would, naming the field.
import type { Spec } from '../config/types';
import { ConfigError } from '../errors';
import { op, type PlanOp } from './plan-encoding';
import type { NamespacePlan } from './namespaces';

const IFNAMSIZ = 16;

/** The sync tag's prefix; the host name follows. */
export const NET_DEVICE_SYNC = 'netDevice ';

/**
 * The kernel's rule for an interface name (dev_valid_name), said as a reason; null
 * when valid. The kernel tests bytes: its isspace() also takes 0xA0, which is inside
 * UTF-8 characters such as "à" (C3 A0).
 */
function badName(name: string): string | null {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ) return `must be 1 to ${IFNAMSIZ - 1} bytes long`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  const refused = (b: number) => b === 0x2f || b === 0x3a || b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0;
  if (bytes.some(refused)) return 'must not contain "/", ":" or a byte the kernel takes for white space';
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
    ops.push(op('sync', `${NET_DEVICE_SYNC}${hostName}`));
  }
  return ops;
}
