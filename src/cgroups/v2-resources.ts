// linux.resources -> cgroup v2 file writes in the container's (single) cgroup, with
// runc's conversions from the v1-shaped spec values (fs2 driver, runc 1.1.5).
// Settings v2 has no file for are refused naming the field, never dropped.
import { ConfigError } from '../errors';
import {
  blkioWeightToIOWeight,
  byteCount,
  cpuSharesToWeight,
  KERNEL_MEMORY_IGNORED,
  SHARES_WHILE_IDLE,
  memorySwapToV2,
  swappinessGiven,
  v2Max,
  type CgroupReader,
  type CgroupWrite,
  type LinuxResources,
} from './resources';
import { hugetlbFileSize, rdmaLine, type PlanOptions, type ResourcePlan } from './v1-resources';

const F = 'linux.resources';

/**
 * Files a `unified` entry may not write: they are how tsrun manages the cgroup
 * itself (membership, freezing, killing, the controller tree).
 */
const RESERVED_UNIFIED = new Set([
  'cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.freeze', 'cgroup.kill', 'cgroup.type',
  'cgroup.controllers', 'cgroup.events', 'cgroup.stat',
]);

function refuse(field: string, why: string): never {
  throw new ConfigError(field, why);
}

/** memory.max as the config says it (-1: max); undefined when it cannot be read. */
function currentMemoryMax(read: CgroupReader): number | undefined {
  const text = read('memory', 'memory.max');
  if (text === null) return undefined;
  if (text === 'max') return -1;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function memoryWrites(r: LinuxResources, read: CgroupReader, opts: PlanOptions, out: ResourcePlan): void {
  const m = r.memory;
  if (!m) return;
  const f = `${F}.memory`;
  const w = (file: string, value: string, field: string): void => {
    out.writes.push({ controller: 'memory', file, value, field: `${f}.${field}` });
  };
  // v2's swap file holds swap alone, the config memory+swap: an update giving only
  // the latter converts it with the limit the cgroup has (runc takes its recorded one).
  const swap = memorySwapToV2(m.swap, m.limit ?? (opts.update && m.swap !== undefined ? currentMemoryMax(read) : undefined), `${f}.swap`);
  const limit = m.limit ?? 0;
  if (opts.update && m.checkBeforeUpdate && limit > 0) {
    const usage = Number(read('memory', 'memory.current') ?? '0');
    if (limit < usage) throw new ConfigError(`${f}.limit`, `rejecting memory limit ${limit} below current usage ${usage}`);
  }
  // Swap first: runc does, so a failure to set swap leaves the memory limit untouched.
  if (swap !== undefined) w('memory.swap.max', swap, 'swap');
  if (limit !== 0) w('memory.max', v2Max(limit), 'limit');
  if (m.reservation) w('memory.low', v2Max(m.reservation), 'reservation');
  if (m.kernel !== undefined || m.kernelTCP !== undefined) out.warnings.push(KERNEL_MEMORY_IGNORED);
  if (swappinessGiven(m.swappiness)) refuse(`${f}.swappiness`, 'not supported on cgroup v2');
  if (m.disableOOMKiller) refuse(`${f}.disableOOMKiller`, 'not supported on cgroup v2');
  // useHierarchy: v2 is always hierarchical, so true is already the case; false cannot be.
  if (m.useHierarchy === false) refuse(`${f}.useHierarchy`, 'cgroup v2 is always hierarchical');
}

function cpuWrites(r: LinuxResources, read: CgroupReader, out: ResourcePlan): void {
  const c = r.cpu;
  if (!c) return;
  const f = `${F}.cpu`;
  const w = (controller: string, file: string, value: string, field: string): void => {
    out.writes.push({ controller, file, value, field: `${f}.${field}` });
  };
  if (c.realtimeRuntime || c.realtimePeriod) refuse(`${f}.${c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'}`, 'realtime scheduling limits are not supported on cgroup v2');
  // An idle group takes no weight (the kernel refuses it): leaving idle comes first,
  // entering it last. 0 is written too (how an update leaves it), where the kernel
  // has the file (5.15 on): there is nothing to leave otherwise.
  const idle = c.idle ?? undefined;
  if (idle === 0 && read('cpu', 'cpu.idle') !== null) w('cpu', 'cpu.idle', '0', 'idle');
  if (c.shares) {
    if (c.shares < 2 || c.shares > 262144) refuse(`${f}.shares`, `must be between 2 and 262144, got ${c.shares}`);
    w('cpu', 'cpu.weight', String(cpuSharesToWeight(c.shares)), 'shares');
  }
  if (c.quota || c.period) {
    // "<quota|max> [period]", as runc writes it. One file holds both: a period given
    // alone keeps the quota in force (runc merges the update over the recorded
    // config; the kernel's own value is the same thing, read here), and a quota
    // alone leaves the period as it is (the kernel keeps it when none is written).
    let value: string;
    if (c.quota) value = c.quota > 0 ? String(c.quota) : 'max';
    else value = (read('cpu', 'cpu.max') ?? '').split(/\s+/)[0] || 'max';
    if (c.period) value += ` ${c.period}`;
    w('cpu', 'cpu.max', value, c.quota ? 'quota' : 'period');
  }
  // 0 too: it is how an update turns the burst off (where the kernel has it, 5.14 on).
  if (c.burst || (c.burst === 0 && read('cpu', 'cpu.max.burst') !== null)) w('cpu', 'cpu.max.burst', String(c.burst), 'burst');
  if (idle !== undefined && idle !== 0) w('cpu', 'cpu.idle', String(idle), 'idle');
  if (idle === 1 && c.shares) out.warnings.push(SHARES_WHILE_IDLE);
  if (c.cpus) w('cpuset', 'cpuset.cpus', c.cpus, 'cpus');
  if (c.mems) w('cpuset', 'cpuset.mems', c.mems, 'mems');
}

function ioWrites(r: LinuxResources, read: CgroupReader, out: ResourcePlan): void {
  const b = r.blockIO;
  if (!b) return;
  const f = `${F}.blockIO`;
  const w = (file: string, value: string, field: string): void => {
    out.writes.push({ controller: 'io', file, value, field: `${f}.${field}` });
  };
  if (b.leafWeight) refuse(`${f}.leafWeight`, 'not supported on cgroup v2');
  // With BFQ, io.bfq.weight takes the v1 range as is; otherwise io.weight gets the converted value.
  const bfq = read('io', 'io.bfq.weight') !== null;
  if (b.weight) {
    if (b.weight < 10 || b.weight > 1000) refuse(`${f}.weight`, `must be between 10 and 1000, got ${b.weight}`);
    if (bfq) w('io.bfq.weight', String(b.weight), 'weight');
    else w('io.weight', String(blkioWeightToIOWeight(b.weight)), 'weight');
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    if (d.leafWeight) refuse(`${f}.weightDevice[${i}].leafWeight`, 'not supported on cgroup v2');
    if (!d.weight) return;
    if (bfq) w('io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, `weightDevice[${i}].weight`);
    else w('io.weight', `${d.major}:${d.minor} ${blkioWeightToIOWeight(d.weight)}`, `weightDevice[${i}].weight`);
  });
  const throttle: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  for (const [key, name] of throttle) {
    const list = (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? [];
    // rate 0 means "no limit" in v1; io.max spells that "max".
    list.forEach((d, i) => w('io.max', `${d.major}:${d.minor} ${name}=${d.rate === 0 ? 'max' : byteCount(d.rate)}`, `${key}[${i}]`));
  }
}

function unifiedWrites(r: LinuxResources, out: ResourcePlan): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const field = `${F}.unified.${key}`;
    if (key.includes('/') || !/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key)) refuse(field, 'is not a cgroup v2 file name like "memory.high"');
    if (RESERVED_UNIFIED.has(key)) refuse(field, 'is managed by the runtime and may not be set');
    // The controller check (and "no such file") happens when the driver writes it.
    out.writes.push({ controller: key.slice(0, key.indexOf('.')), file: key, value, field });
  }
}

/** Plans every v2 write for `r`; `unified` entries come last so they win, as in runc. */
export function planV2Resources(r: LinuxResources, read: CgroupReader, opts: PlanOptions = {}): ResourcePlan {
  const out: ResourcePlan = { writes: [], warnings: [] };
  memoryWrites(r, read, opts, out);
  cpuWrites(r, read, out);
  ioWrites(r, read, out);
  const pids = r.pids?.limit;
  if (pids) out.writes.push({ controller: 'pids', file: 'pids.max', value: pids > 0 ? String(pids) : 'max', field: `${F}.pids.limit` });
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `${F}.hugepageLimits[${i}]`;
    out.writes.push({ controller: 'hugetlb', file: `hugetlb.${hugetlbFileSize(h.pageSize, `${field}.pageSize`)}.max`, value: byteCount(h.limit), field });
  });
  if (r.network?.classID || (r.network?.priorities ?? []).length > 0) {
    refuse(`${F}.network`, 'net_cls and net_prio do not exist on cgroup v2');
  }
  for (const [device, lim] of Object.entries(r.rdma ?? {})) {
    out.writes.push({ controller: 'rdma', file: 'rdma.max', value: rdmaLine(device, lim), field: `${F}.rdma.${device}` });
  }
  unifiedWrites(r, out);
  return out;
}

/** For the driver: a v2 write whose file is missing means the controller is not enabled. */
export function missingFileReason(w: CgroupWrite, controllers: readonly string[]): string {
  if (w.controller !== 'cgroup' && !controllers.includes(w.controller)) {
    return `the ${w.controller} controller is not available in this cgroup (cgroup.controllers: ${controllers.join(' ') || 'none'})`;
  }
  return `${w.file} does not exist`;
}
