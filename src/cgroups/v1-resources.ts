// linux.resources -> cgroup v1 file writes, in the order the kernel needs them.
// Pure: the current values it needs (memsw limit, memory usage) come from `read`.
// Zero means "not set" for the numeric fields, as in runc (1.1.5).
import { ConfigError } from '../errors';
import { byteCount, KERNEL_MEMORY_IGNORED, swappinessGiven, SHARES_WHILE_IDLE, type BlockIODevice, type CgroupReader, type CgroupWrite, type LinuxResources, type ThrottleDevice } from './resources';

export interface ResourcePlan {
  writes: CgroupWrite[];
  warnings: string[];
}

export interface PlanOptions {
  /** `update` rather than `create`: memory.checkBeforeUpdate applies. */
  update?: boolean;
}

const F = 'linux.resources';

function dev(d: BlockIODevice): string {
  return `${d.major}:${d.minor}`;
}

function sharesVerify(shares: number): (got: string) => string | undefined {
  return (got) => {
    const n = Number(got);
    if (n === shares) return undefined;
    // The kernel clamps to [2, 262144]; runc reports the bound it hit.
    return shares > n ? `the maximum allowed cpu-shares is ${n}` : `the minimum allowed cpu-shares is ${n}`;
  };
}

function memoryWrites(r: LinuxResources, read: CgroupReader, opts: PlanOptions, out: ResourcePlan): void {
  const m = r.memory;
  if (!m) return;
  const f = `${F}.memory`;
  const w = (file: string, value: number, field: string): void => {
    out.writes.push({ controller: 'memory', file, value: byteCount(value), field: `${f}.${field}` });
  };
  const limit = m.limit ?? 0;
  // Unlimited memory with swap unset means unlimited memory+swap too (runc), but
  // only where the kernel accounts swap: without memsw (swapaccount=0, no
  // CONFIG_MEMCG_SWAP) there is nothing to lift, and writing it would fail.
  const curMemsw = limit !== 0 ? read('memory', 'memory.memsw.limit_in_bytes') : null;
  const swap = limit === -1 && (m.swap ?? 0) === 0 && curMemsw !== null ? -1 : m.swap ?? 0;
  if (limit > 0 && swap > 0 && swap < limit) {
    throw new ConfigError(`${f}.swap`, `memory+swap limit ${swap} must be >= the memory limit ${limit}`);
  }
  if (opts.update && m.checkBeforeUpdate && limit > 0) {
    const usage = Number(read('memory', 'memory.usage_in_bytes') ?? '0');
    if (limit < usage) throw new ConfigError(`${f}.limit`, `rejecting memory limit ${limit} below current usage ${usage}`);
  }
  // The kernel keeps memsw >= limit at every moment, so the order of the two writes
  // depends on whether the new limits grow or shrink.
  if (limit !== 0 && swap !== 0) {
    const cur = Number(curMemsw ?? '0');
    if (swap === -1 || cur < swap) {
      w('memory.memsw.limit_in_bytes', swap, 'swap');
      w('memory.limit_in_bytes', limit, 'limit');
    } else {
      w('memory.limit_in_bytes', limit, 'limit');
      w('memory.memsw.limit_in_bytes', swap, 'swap');
    }
  } else if (limit !== 0) {
    w('memory.limit_in_bytes', limit, 'limit');
  } else if (swap !== 0) {
    w('memory.memsw.limit_in_bytes', swap, 'swap');
  }
  if (m.reservation) w('memory.soft_limit_in_bytes', m.reservation, 'reservation');
  if (m.kernel !== undefined || m.kernelTCP !== undefined) out.warnings.push(KERNEL_MEMORY_IGNORED);
  if (swappinessGiven(m.swappiness)) w('memory.swappiness', m.swappiness, 'swappiness');
  if (m.disableOOMKiller) w('memory.oom_control', 1, 'disableOOMKiller');
  if (m.useHierarchy) w('memory.use_hierarchy', 1, 'useHierarchy');
}

function cpuWrites(r: LinuxResources, read: CgroupReader, out: ResourcePlan): void {
  const c = r.cpu;
  if (!c) return;
  const f = `${F}.cpu`;
  const w = (controller: string, file: string, value: string | number, field: string, verify?: CgroupWrite['verify']): void => {
    out.writes.push({ controller, file, value: String(value), field: `${f}.${field}`, verify });
  };
  // An idle group takes no shares (the kernel refuses them): leaving idle comes first,
  // entering it last. 0 is written too (how an update leaves it), where the kernel
  // has the file (5.15 on): there is nothing to leave otherwise.
  const idle = c.idle ?? undefined;
  if (idle === 0 && read('cpu', 'cpu.idle') !== null) w('cpu', 'cpu.idle', idle, 'idle');
  if (c.shares) w('cpu', 'cpu.shares', c.shares, 'shares', sharesVerify(c.shares));
  // Period before quota: a quota is checked against the period in force. A shorter
  // period can be refused (EINVAL) under the old quota, when old quota / new period
  // exceeds what the parent allows; the new quota then goes first and the period
  // after it (runc's fs driver does the same).
  if (c.period) {
    w('cpu', 'cpu.cfs_period_us', c.period, 'period');
    if (c.quota) out.writes[out.writes.length - 1].retryAfter = 'cpu.cfs_quota_us';
  }
  // Any negative quota is "none" to the kernel (and runc); -1 is the one it shows.
  if (c.quota) w('cpu', 'cpu.cfs_quota_us', c.quota < 0 ? -1 : c.quota, 'quota');
  // 0 too: it is how an update turns the burst off (where the kernel has it, 5.14 on).
  if (c.burst || (c.burst === 0 && read('cpu', 'cpu.cfs_burst_us') !== null)) w('cpu', 'cpu.cfs_burst_us', c.burst, 'burst');
  if (c.realtimePeriod) w('cpu', 'cpu.rt_period_us', c.realtimePeriod, 'realtimePeriod');
  if (c.realtimeRuntime) w('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, 'realtimeRuntime');
  if (idle !== undefined && idle !== 0) w('cpu', 'cpu.idle', idle, 'idle');
  if (idle === 1 && c.shares) out.warnings.push(SHARES_WHILE_IDLE);
  if (c.cpus) w('cpuset', 'cpuset.cpus', c.cpus, 'cpus');
  if (c.mems) w('cpuset', 'cpuset.mems', c.mems, 'mems');
}

function blkioWrites(r: LinuxResources, read: CgroupReader, out: ResourcePlan): void {
  const b = r.blockIO;
  if (!b) return;
  const f = `${F}.blockIO`;
  const w = (file: string, value: string | number, field: string): void => {
    out.writes.push({ controller: 'blkio', file, value: String(value), field: `${f}.${field}` });
  };
  // CFQ's blkio.weight is gone from current kernels; BFQ offers blkio.bfq.weight
  // with the same range. runc 1.1.5 writes whichever exists.
  const bfq = read('blkio', 'blkio.weight') === null && read('blkio', 'blkio.bfq.weight') !== null;
  const prefix = bfq ? 'blkio.bfq.' : 'blkio.';
  if (b.weight) w(`${prefix}weight`, b.weight, 'weight');
  if (b.leafWeight) w('blkio.leaf_weight', b.leafWeight, 'leafWeight');
  (b.weightDevice ?? []).forEach((d, i) => {
    if (d.weight) w(`${prefix}weight_device`, `${dev(d)} ${d.weight}`, `weightDevice[${i}].weight`);
    if (d.leafWeight) w('blkio.leaf_weight_device', `${dev(d)} ${d.leafWeight}`, `weightDevice[${i}].leafWeight`);
  });
  const throttle: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttle) {
    ((b[key] as ThrottleDevice[] | undefined) ?? []).forEach((d, i) => w(file, `${dev(d)} ${byteCount(d.rate)}`, `${key}[${i}]`));
  }
}

/**
 * The page size as the kernel names it in hugetlb.<size>.* files: the largest unit
 * that divides it ("2048KB" -> "2MB", "1GB").
 */
export function hugetlbFileSize(pageSize: string, field: string): string {
  const m = /^([0-9]+)([KMGTPE]?)B$/.exec(pageSize);
  if (!m) throw new ConfigError(field, `${JSON.stringify(pageSize)} is not a size like "2MB"`);
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let bytes = BigInt(m[1]) << BigInt(10 * units.indexOf(m[2]));
  let u = 0;
  while (u < units.length - 1 && bytes >= 1024n && bytes % 1024n === 0n) {
    bytes /= 1024n;
    u++;
  }
  return `${bytes}${units[u]}B`;
}

/** Plans every v1 write for `r`. `unified` is refused: it has no meaning on v1. */
export function planV1Resources(r: LinuxResources, read: CgroupReader, opts: PlanOptions = {}): ResourcePlan {
  if (r.unified && Object.keys(r.unified).length > 0) {
    // runc: "invalid configuration: cannot use unified on cgroup v1".
    throw new ConfigError(`${F}.unified`, 'invalid configuration: cannot use unified on cgroup v1');
  }
  const out: ResourcePlan = { writes: [], warnings: [] };
  memoryWrites(r, read, opts, out);
  cpuWrites(r, read, out);
  blkioWrites(r, read, out);
  const pids = r.pids?.limit;
  if (pids) out.writes.push({ controller: 'pids', file: 'pids.max', value: pids > 0 ? String(pids) : 'max', field: `${F}.pids.limit` });
  (r.hugepageLimits ?? []).forEach((h, i) => {
    out.writes.push({ controller: 'hugetlb', file: `hugetlb.${hugetlbFileSize(h.pageSize, `${F}.hugepageLimits[${i}].pageSize`)}.limit_in_bytes`, value: byteCount(h.limit), field: `${F}.hugepageLimits[${i}]` });
  });
  if (r.network?.classID) out.writes.push({ controller: 'net_cls', file: 'net_cls.classid', value: String(r.network.classID), field: `${F}.network.classID` });
  (r.network?.priorities ?? []).forEach((p, i) => {
    out.writes.push({ controller: 'net_prio', file: 'net_prio.ifpriomap', value: `${p.name} ${p.priority}`, field: `${F}.network.priorities[${i}]` });
  });
  for (const [device, lim] of Object.entries(r.rdma ?? {})) {
    out.writes.push({ controller: 'rdma', file: 'rdma.max', value: rdmaLine(device, lim), field: `${F}.rdma.${device}` });
  }
  return out;
}

export function rdmaLine(device: string, lim: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts = [device];
  if (lim.hcaHandles !== undefined && lim.hcaHandles !== null) parts.push(`hca_handle=${lim.hcaHandles}`);
  if (lim.hcaObjects !== undefined && lim.hcaObjects !== null) parts.push(`hca_object=${lim.hcaObjects}`);
  return parts.join(' ');
}
