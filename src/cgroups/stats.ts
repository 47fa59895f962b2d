// Resource usage of a container's cgroup in the JSON shape of runc's `events`
// (runc 1.1.5, its types/events.go; checked against its output on v1):
// {cpu, cpuset, memory, pids, blkio, hugetlb, intel_rdt, network_interfaces}.
// Fields runc marks omitempty are left out when zero; the others are always there.
import * as fs from 'fs';
import { readCgroupFile } from './manager';

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

/** Every field omitempty in runc: device 8:0 prints without its minor. */
export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

export interface CgroupStats {
  cpu: {
    usage: { total?: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    // runc's types.Throttling spells these two in camelCase, unlike the rest of the shape.
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  /** Always there (a struct in runc), all zero where nothing is read. */
  cpuset: Record<string, number | number[]>;
  memory: { cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: Partial<Record<BlkioKey, BlkioEntry[]>>;
  /** max: the peak usage (v1's max_usage_in_bytes); v2 has none. */
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

/** The value runc reports for "no limit" on v1 (the kernel's PAGE_COUNTER_MAX * 4096). */
const V1_UNLIMITED = '9223372036854771712';
/** v2 files say "max"; runc reports it as Go's MaxUint64. */
const V2_UNLIMITED = 2n ** 64n - 1n;

function num(text: string | null): number {
  if (text === null || text === '') return 0;
  if (text === 'max') return exact(V1_UNLIMITED);
  if (/^\d{16,}$/.test(text) && !Number.isSafeInteger(Number(text))) return exact(text);
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

/** A v2 counter or limit, exactly ("max": MaxUint64); 0 for a missing or unreadable file. */
function bigV2(text: string | null): bigint {
  if (text === 'max') return V2_UNLIMITED;
  return text !== null && /^\d+$/.test(text) ? BigInt(text) : 0n;
}

/** A bigint as a stats number, exact beyond 2^53. */
function fromBig(n: bigint): number {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : exact(n.toString());
}

/** Typed as a number for the JSON shape; statsJson prints its exact digits. */
function exact(text: string): number {
  return new ExactNumber(text) as unknown as number;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat), keys sorted as Go's JSON encoder prints a map. */
export function parseKeyValues(text: string | null): Record<string, number> {
  const pairs: [string, number][] = [];
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) pairs.push([k, num(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(pairs);
}

/**
 * JSON text for stats: cgroup counters reach 2^63, beyond what a double holds
 * exactly, so numbers above 2^53 are printed from the file's own digits.
 */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof ExactNumber ? `\u0000${v.text}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}

/** A counter too large for a double, kept as its decimal text. */
export class ExactNumber {
  constructor(readonly text: string) {}
  valueOf(): number {
    return Number(this.text);
  }
}

/** The kernel's list syntax ("0-1,3") expanded. */
function cpuList(text: string | null): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** runc's CPUSet with nothing read: the slices left out, the numbers zero. */
function zeroCpuset(): CgroupStats['cpuset'] {
  const fields = ['cpu_exclusive', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page', 'memory_spread_slab', 'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level'];
  return Object.fromEntries(fields.map((f) => [f, 0]));
}

function withoutZero(entry: MemoryEntry): MemoryEntry {
  return { limit: entry.limit, ...(entry.usage ? { usage: entry.usage } : {}), ...(entry.max ? { max: entry.max } : {}), failcnt: entry.failcnt };
}

function throttling(stat: Record<string, number>, timeScale: number): CgroupStats['cpu']['throttling'] {
  const t: CgroupStats['cpu']['throttling'] = {};
  if (stat.nr_periods) t.periods = stat.nr_periods;
  if (stat.nr_throttled) t.throttledPeriods = stat.nr_throttled;
  const time = (stat.throttled_time ?? 0) || (stat.throttled_usec ?? 0) * timeScale;
  if (time) t.throttledTime = time;
  return t;
}

/**
 * "8:0 Read 123" lines (v1 blkio files), or "8:0 123" (sectors, time: no op); the
 * "Total" line is a sum and is skipped.
 */
export function parseBlkio(text: string | null): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+)(?: (\S+))? (\d+)$/.exec(line.trim());
    if (m) out.push(blkioEntry(Number(m[1]), Number(m[2]), m[3] ?? '', Number(m[4])));
  }
  return out;
}

/** runc's blkio stats, in the order its JSON lists them. */
const BLKIO_KEYS = [
  'ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive',
  'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive',
] as const;
type BlkioKey = (typeof BLKIO_KEYS)[number];

/**
 * Where v1 keeps blkio stats, by I/O scheduler: BFQ's (with its debug files or
 * without), CFQ's, then the throttle layer's, recursive or not. As runc, the first
 * group whose first file has an entry is the one read.
 */
const SCHEDULER_FILES: Array<Array<[string, BlkioKey]>> = (() => {
  const all = (prefix: string): Array<[string, BlkioKey]> => [
    [`${prefix}sectors_recursive`, 'sectorsRecursive'], [`${prefix}io_service_time_recursive`, 'ioServiceTimeRecursive'],
    [`${prefix}io_wait_time_recursive`, 'ioWaitTimeRecursive'], [`${prefix}io_merged_recursive`, 'ioMergedRecursive'],
    [`${prefix}io_queued_recursive`, 'ioQueueRecursive'], [`${prefix}time_recursive`, 'ioTimeRecursive'],
    [`${prefix}io_serviced_recursive`, 'ioServicedRecursive'], [`${prefix}io_service_bytes_recursive`, 'ioServiceBytesRecursive'],
  ];
  const counts = (prefix: string, suffix: string): Array<[string, BlkioKey]> => [
    [`${prefix}io_serviced${suffix}`, 'ioServicedRecursive'], [`${prefix}io_service_bytes${suffix}`, 'ioServiceBytesRecursive'],
  ];
  return [all('blkio.bfq.'), counts('blkio.bfq.', '_recursive'), all('blkio.'), counts('blkio.throttle.', '_recursive'), counts('blkio.throttle.', '')];
})();

function blkioStatsV1(read: (file: string) => string | null): CgroupStats['blkio'] {
  const found: CgroupStats['blkio'] = {};
  for (const group of SCHEDULER_FILES) {
    const first = parseBlkio(read(group[0][0]));
    if (!first.length) continue;
    found[group[0][1]] = first;
    for (const [file, key] of group.slice(1)) {
      const entries = parseBlkio(read(file));
      // runc stops at a later file it cannot read, keeping what it has.
      if (!entries.length) break;
      found[key] = entries;
    }
    break;
  }
  const out: CgroupStats['blkio'] = {};
  for (const key of BLKIO_KEYS) if (found[key]) out[key] = found[key];
  return out;
}

/** One entry, its zero fields left out (all four are omitempty in runc). */
function blkioEntry(major: number, minor: number, op: string, value: number): BlkioEntry {
  const e: BlkioEntry = {};
  if (major) e.major = major;
  if (minor) e.minor = minor;
  if (op) e.op = op;
  if (value) e.value = value;
  return e;
}

/** memory.stat's counters; none (no memory cgroup) leaves `raw` out, as runc's omitempty map. */
function rawIfAny(raw: Record<string, number>): { raw?: Record<string, number> } {
  return Object.keys(raw).length ? { raw } : {};
}

/** v1: each controller's file in its own hierarchy; `dirOf` gives the container's dir there. */
export function statsV1(dirOf: (controller: string) => string | undefined): CgroupStats {
  const read = (controller: string, file: string): string | null => {
    const dir = dirOf(controller);
    return dir ? readCgroupFile(dir, file) : null;
  };
  const nums = (controller: string, file: string): number[] => (read(controller, file) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const acct = parseKeyValues(read('cpuacct', 'cpuacct.stat'));
  // cpuacct.stat counts USER_HZ ticks (100 per second on Linux).
  const TICK_NS = 1e9 / 100;
  // cpuacct.usage_all: "cpu user system" per line, in ns (what runc reads).
  const kernelPer: number[] = [];
  const userPer: number[] = [];
  for (const line of (read('cpuacct', 'cpuacct.usage_all') ?? '').split('\n').slice(1)) {
    const [cpu, user, system] = line.trim().split(/\s+/).map(Number);
    if (cpu === undefined || user === undefined || system === undefined || Number.isNaN(system)) continue;
    userPer.push(user);
    kernelPer.push(system);
  }
  const total = num(read('cpuacct', 'cpuacct.usage'));
  const percpu = nums('cpuacct', 'cpuacct.usage_percpu');
  const usage: CgroupStats['cpu']['usage'] = {
    ...(total ? { total } : {}),
    ...(percpu.length ? { percpu } : {}),
    ...(kernelPer.length ? { percpu_kernel: kernelPer } : {}),
    ...(userPer.length ? { percpu_user: userPer } : {}),
    kernel: (acct.system ?? 0) * TICK_NS,
    user: (acct.user ?? 0) * TICK_NS,
  };

  const mem = (prefix: string): MemoryEntry =>
    withoutZero({
      limit: num(read('memory', `${prefix}.limit_in_bytes`)),
      usage: num(read('memory', `${prefix}.usage_in_bytes`)),
      max: num(read('memory', `${prefix}.max_usage_in_bytes`)),
      failcnt: num(read('memory', `${prefix}.failcnt`)),
    });
  const raw = parseKeyValues(read('memory', 'memory.stat'));
  const memory: CgroupStats['memory'] = {
    usage: mem('memory'),
    swap: mem('memory.memsw'),
    kernel: mem('memory.kmem'),
    kernelTCP: mem('memory.kmem.tcp'),
    ...rawIfAny(raw),
  };
  if (raw.cache) memory.cache = raw.cache;
  const orderedMemory: CgroupStats['memory'] = memory.cache ? { cache: memory.cache, usage: memory.usage, swap: memory.swap, kernel: memory.kernel, kernelTCP: memory.kernelTCP, ...rawIfAny(raw) } : memory;

  let cpuset = zeroCpuset();
  if (dirOf('cpuset')) {
    const n = (f: string): number => num(read('cpuset', `cpuset.${f}`));
    const cpus = cpuList(read('cpuset', 'cpuset.cpus'));
    const mems = cpuList(read('cpuset', 'cpuset.mems'));
    cpuset = {
      ...(cpus.length ? { cpus } : {}),
      cpu_exclusive: n('cpu_exclusive'),
      ...(mems.length ? { mems } : {}),
      mem_hardwall: n('mem_hardwall'),
      mem_exclusive: n('mem_exclusive'),
      memory_migrate: n('memory_migrate'),
      memory_spread_page: n('memory_spread_page'),
      memory_spread_slab: n('memory_spread_slab'),
      memory_pressure: n('memory_pressure'),
      sched_load_balance: n('sched_load_balance'),
      sched_relax_domain_level: n('sched_relax_domain_level'),
    };
  }

  const pids = pidsStats(read('pids', 'pids.current'), read('pids', 'pids.max'));

  const blkio = blkioStatsV1((file) => read('blkio', file));

  const hugetlb: CgroupStats['hugetlb'] = {};
  const hdir = dirOf('hugetlb');
  if (hdir) {
    for (const f of listDir(hdir)) {
      const m = /^hugetlb\.([0-9]+[KMGTPE]?B)\.usage_in_bytes$/.exec(f);
      if (!m) continue;
      const u = num(read('hugetlb', f));
      const max = num(read('hugetlb', `hugetlb.${m[1]}.max_usage_in_bytes`));
      hugetlb[m[1]] = { ...(u ? { usage: u } : {}), ...(max ? { max } : {}), failcnt: num(read('hugetlb', `hugetlb.${m[1]}.failcnt`)) };
    }
  }

  const cpu = { usage, throttling: throttling(parseKeyValues(read('cpu', 'cpu.stat')), 1000) };
  return { cpu, cpuset, memory: orderedMemory, pids, blkio, hugetlb, intel_rdt: {}, network_interfaces: null };
}

/** Both omitempty in runc; "max" (no limit) is reported as none. */
function pidsStats(current: string | null, max: string | null): CgroupStats['pids'] {
  const pids: CgroupStats['pids'] = {};
  const c = num(current);
  if (c) pids.current = c;
  if (max !== null && max !== 'max' && num(max)) pids.limit = num(max);
  return pids;
}

/** v2: every file in the one cgroup dir (runc's fs2 stats, same JSON shape). */
export function statsV2(dir: string): CgroupStats {
  const read = (file: string): string | null => readCgroupFile(dir, file);
  const cpuStat = parseKeyValues(read('cpu.stat'));
  const raw = parseKeyValues(read('memory.stat'));
  const memLimit = bigV2(read('memory.max'));
  const memUsage = bigV2(read('memory.current'));
  // v1's swap entry is memory+swap, and runc reports v2's the same way: usage and
  // limit summed, an unlimited swap staying unlimited (so does an unlimited memory,
  // where runc's uint64 sum wraps around). Without swap accounting, memory alone.
  const swapCurrent = read('memory.swap.current');
  const swapLimit = swapCurrent === null ? 0n : bigV2(read('memory.swap.max'));
  const memswLimit = swapLimit === V2_UNLIMITED || memLimit === V2_UNLIMITED ? V2_UNLIMITED : swapLimit + memLimit;
  const memory: CgroupStats['memory'] = {
    usage: withoutZero({ limit: fromBig(memLimit), usage: fromBig(memUsage), max: num(read('memory.peak')), failcnt: parseKeyValues(read('memory.events')).max ?? 0 }),
    swap: withoutZero({ limit: fromBig(memswLimit), usage: fromBig(bigV2(swapCurrent) + memUsage), failcnt: 0 }),
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 0, failcnt: 0 },
    ...rawIfAny(raw),
  };
  if (raw.file) memory.cache = raw.file;
  const pids = pidsStats(read('pids.current'), read('pids.max'));

  const blkio: CgroupStats['blkio'] = {};
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (read('io.stat') ?? '').split('\n')) {
    const [devno, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(devno ?? '');
    if (!m) continue;
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const e = (op: string): BlkioEntry => blkioEntry(Number(m[1]), Number(m[2]), op, Number(v));
      if (k === 'rbytes') bytes.push(e('Read'));
      else if (k === 'wbytes') bytes.push(e('Write'));
      else if (k === 'rios') ios.push(e('Read'));
      else if (k === 'wios') ios.push(e('Write'));
    }
  }
  if (bytes.length) blkio.ioServiceBytesRecursive = bytes;
  if (ios.length) blkio.ioServicedRecursive = ios;

  const hugetlb: CgroupStats['hugetlb'] = {};
  for (const f of listDir(dir)) {
    const m = /^hugetlb\.([0-9]+[KMGTPE]?B)\.current$/.exec(f);
    if (!m) continue;
    // No peak usage on v2 (hugetlb.<size>.max is the limit): runc leaves max out.
    const u = num(read(f));
    hugetlb[m[1]] = { ...(u ? { usage: u } : {}), failcnt: parseKeyValues(read(`hugetlb.${m[1]}.events`)).max ?? 0 };
  }

  const total = (cpuStat.usage_usec ?? 0) * 1000;
  const usage: CgroupStats['cpu']['usage'] = {
    ...(total ? { total } : {}),
    kernel: (cpuStat.system_usec ?? 0) * 1000,
    user: (cpuStat.user_usec ?? 0) * 1000,
  };
  return {
    cpu: { usage, throttling: throttling(cpuStat, 1000) },
    // runc 1.1.5 reads no cpuset files on v2
    cpuset: zeroCpuset(),
    memory,
    pids,
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}
