// linux.netDevices, tsrun's side. The init sends its network namespace (`netns`), then
// stops at `sync netDevice <host>` for each device; tsrun moves the device from its own
// namespace into that one and sets it up there (the planner, src/linux/net-devices.ts,
// has checked the names). It acts in the container's namespace through a netlink
// socket made there, with tsrun's own credentials, by a helper tsrun-init: joining a
// namespace is the init program's job (DESIGN.md §3), and a socket the container's
// init made inside its own user namespace could not move a device back out.
import type { Spec } from '../config/types';
import { TsrunError } from '../errors';
import { CLONE_FLAGS } from '../linux/namespaces';
import { containerDeviceName } from '../linux/net-devices';
import { op } from '../linux/plan-encoding';
import { native } from '../native';
import { converseToExit } from './init-session';

/** A NETLINK_ROUTE socket in the namespace netnsFd, made by a helper init that then exits. */
function netlinkSocketIn(netnsFd: number): number {
  const nat = native();
  // PROTOCOL.md layout: no preserved fds, so the plan is fd 3, the sync socket 4 and
  // the one extra fd (the namespace) 5.
  const plan = [op('fds', 0, 1), op('setns', CLONE_FLAGS.network, '/proc/self/fd/5'), op('netlinkSocket'), op('exit', 0)];
  const child = nat.spawnInit({ plan: nat.encodePlan(plan), stdio: [0, 1, 2], preserveFds: 0, extraFds: [netnsFd] });
  let socket: number | undefined;
  try {
    converseToExit(child.syncFd, {
      onSync: (tag) => {
        throw new TsrunError(`unexpected sync point "${tag}" from the netlink helper`);
      },
      onPid: () => undefined,
      onNetlinkSocket: () => {
        socket = nat.syncRecvFd(child.syncFd, 'netlink socket');
      },
    });
  } catch (e) {
    if (socket !== undefined) nat.closeFd(socket);
    throw e;
  } finally {
    nat.closeFd(child.syncFd);
    try {
      nat.waitPid(child.pid);
    } catch {
      // Only reaping: whether the helper did its job is told by the socket it sent.
    }
  }
  if (socket === undefined) throw new TsrunError('the netlink helper ended without sending its socket');
  return socket;
}

/** One create's devices: the container's namespace, and the socket made there on first use. */
export class NetDeviceMover {
  private socket: number | undefined;
  /** The devices moved so far: their host names and where they are in the container. */
  private moved: { hostName: string; name: string; wasUp: boolean }[] = [];

  constructor(
    private readonly spec: Spec,
    private readonly netnsFd: number,
  ) {}

  move(hostName: string): void {
    const devices = this.spec.linux?.netDevices ?? {};
    if (!Object.prototype.hasOwnProperty.call(devices, hostName)) throw new TsrunError(`the init asked for network device ${hostName}, which the config does not name`);
    const nat = native();
    if (this.socket === undefined) {
      try {
        this.socket = netlinkSocketIn(this.netnsFd);
      } catch (e) {
        throw new TsrunError(`network device ${hostName}: making a netlink socket in the container's network namespace (a helper tsrun-init): ${(e as Error).message}`);
      }
      // Every device is checked before the first moves: a failed create takes the
      // container's namespace with it, and a virtual device moved there (a veth
      // pair) is destroyed with it, so a later entry's typo must fail first.
      for (const [name, device] of Object.entries(devices)) nat.checkNetDevice(this.netnsFd, this.socket, name, containerDeviceName(name, device));
    }
    try {
      const moved = nat.moveNetDevice(this.netnsFd, this.socket, hostName, containerDeviceName(hostName, devices[hostName]));
      this.moved.push({ hostName, ...moved });
    } catch (e) {
      // The failed create takes the namespace with it, and the devices moved before
      // this one (a veth dies there): put them back first (a bridge or vrf, which the
      // kernel will not move, shows only now).
      const socket = this.socket;
      const fates = this.moved.reverse().map((m) => {
        try {
          return `${m.hostName}, moved before it: ${nat.returnNetDevice(this.netnsFd, socket, m.hostName, m.name, m.wasUp)}`;
        } catch (r) {
          return `${m.hostName}, moved before it: not moved back (${(r as Error).message})`;
        }
      });
      this.moved = [];
      if (fates.length > 0 && e instanceof Error) e.message += `; ${fates.join('; ')}`;
      throw e;
    }
  }

  close(): void {
    const nat = native();
    if (this.socket !== undefined) nat.closeFd(this.socket);
    nat.closeFd(this.netnsFd);
  }
}
