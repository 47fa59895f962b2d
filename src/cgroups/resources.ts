// linux.resources (everything but devices, which devices.ts handles): the typed
// model, a validator for input that did not pass the config schema (`update
// --resources`), and the v1 <-> v2 value conversions runc uses, so the same config
// gives the same limits under tsrun and runc on either cgroup layout.
import { ConfigError } from '../errors';
import { parseCpuList } from '../config/cpu-list';

export interface MemoryResources {
  limit?: number;
  reservation?: number;
  /** Memory plus swap (the v1 memsw meaning); -1 unlimited. */
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface BlockIODevice {
  major: number;
  minor: number;
}

export interface WeightDevice extends BlockIODevice {
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice extends BlockIODevice {
  rate: number;
}

export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export interface HugepageLimit {
  pageSize: string;
  limit: number;
}

export interface NetworkResources {
  classID?: number;
  priorities?: { name: string; priority: number }[];
}

export interface RdmaLimit {
  hcaHandles?: number;
  hcaObjects?: number;
}

/** linux.resources without devices. */
export interface LinuxResources {
  memory?: MemoryResources;
  cpu?: CpuResources;
  blockIO?: BlockIOResources;
  pids?: { limit?: number };
  hugepageLimits?: HugepageLimit[];
  network?: NetworkResources;
  rdma?: Record<string, RdmaLimit>;
  unified?: Record<string, string>;
}

/** One write to a cgroup control file; `field` is the config field it comes from. */
export interface CgroupWrite {
  /** v1: the controller whose hierarchy holds the file; v2: the controller the file belongs to. */
  controller: string;
  file: string;
  value: string;
  field: string;
  /** Checks the value the kernel kept (it clamps some): returns the error reason, if any. */
  verify?: (readBack: string) => string | undefined;
  /**
   * Where the kernel may refuse this value (EINVAL) only because of a value a later
   * write of the plan replaces: the file of that later write (same controller).
   * The write is then tried again right after that one succeeds.
   */
  retryAfter?: string;
}

/** What a planner may read of the container's current cgroup (null: no such file). */
export type CgroupReader = (controller: string, file: string) => string | null;

// ---- validation -------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** int64's largest value as JSON.parse reads it (2^63). */
const MAX_BYTES = 2 ** 63;
/** uint64's largest value as JSON.parse reads it (2^64): byteCount writes it back as 2^64-1. */
const MAX_U64 = 2 ** 64;
/** int64's smallest value: a negative CPU quota or pids limit means "none", whatever its size (runc, the kernel). */
const MIN_I64 = -(2 ** 63);

/**
 * An integral double as a decimal, all its digits: JavaScript's own form of one past
 * 2^53 rounds its digits (2^63 is "9223372036854776000"), which reads as a value the
 * config did not give and no bound is.
 */
function integerText(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

function int(o: Obj, key: string, field: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const v = o[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`${field}.${key}`, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) {
    const read = Number.isSafeInteger(v) ? '' : ' (as read: a JSON number past 2^53 is rounded)';
    throw new ConfigError(`${field}.${key}`, `must be between ${integerText(min)} and ${integerText(max)}, got ${integerText(v)}${read}`);
  }
}

function bool(o: Obj, key: string, field: string): void {
  const v = o[key];
  if (v !== undefined && v !== null && typeof v !== 'boolean') throw new ConfigError(`${field}.${key}`, `must be a boolean, got ${JSON.stringify(v)}`);
}

function obj(parent: Obj, key: string, field: string): Obj | undefined {
  const v = parent[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new ConfigError(`${field}.${key}`, 'must be an object');
  return v;
}

function arr(parent: Obj, key: string, field: string): Obj[] {
  const v = parent[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObj)) throw new ConfigError(`${field}.${key}`, 'must be an array of objects');
  return v as Obj[];
}

const U16 = 65535;
const U32 = 4294967295;

/**
 * runc's warning for memory.kernel and memory.kernelTCP, which it never applies: at
 * create for any value given (0 too), at update for one other than 0. Kernels since
 * 5.16 ignore kmem limits, and runc 1.1.5 already left the TCP one alone.
 */
export const KERNEL_MEMORY_IGNORED = 'Kernel memory settings are ignored and will be removed';

/** Said when cpu.shares comes with cpu.idle 1: the kernel then gives the group the lowest weight of its own. */
export const SHARES_WHILE_IDLE = 'linux.resources.cpu.shares: not in force while cpu.idle is 1 (the kernel gives an idle group the lowest weight)';

/**
 * Checks the shape and ranges of linux.resources (minus devices) and returns it
 * typed. The config schema checks the same for config.json; `update --resources`
 * input gets here without it. A member the spec does not define is not refused
 * (the spec's extensibility rule; runc's decoder skips it): load warns about it
 * (src/config/support.ts) and nothing here reads it.
 */
export function validateResources(input: unknown, field = 'linux.resources'): LinuxResources {
  if (!isObj(input)) throw new ConfigError(field, 'must be an object');
  const memory = obj(input, 'memory', field);
  if (memory) {
    const f = `${field}.memory`;
    // Byte counts past 2^53 are taken (runc takes math.MaxInt64, which JSON.parse makes
    // 2^63): only "unlimited" is meant there, and the kernel clamps what it parses.
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) int(memory, k, f, -1, MAX_BYTES);
    // runc reads a swappiness of uint64's largest value (int64's -1) as "not set":
    // Docker sends it for `--memory-swappiness -1`, its API's default. JSON.parse
    // reads 18446744073709551615 as 2^64 (swappinessGiven: the planners skip it).
    if (memory['swappiness'] !== MAX_U64) int(memory, 'swappiness', f, 0, 100);
    for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) bool(memory, k, f);
  }
  const cpu = obj(input, 'cpu', field);
  if (cpu) {
    const f = `${field}.cpu`;
    for (const k of ['shares', 'burst', 'period', 'realtimePeriod']) int(cpu, k, f, 0);
    int(cpu, 'quota', f, MIN_I64);
    int(cpu, 'realtimeRuntime', f, -1);
    int(cpu, 'idle', f, 0, 1);
    for (const k of ['cpus', 'mems']) {
      const v = cpu[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw new ConfigError(`${f}.${k}`, 'must be a string');
      parseCpuList(v, `${f}.${k}`);
    }
  }
  const blkio = obj(input, 'blockIO', field);
  if (blkio) {
    const f = `${field}.blockIO`;
    const lists = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'];
    int(blkio, 'weight', f, 0, U16);
    int(blkio, 'leafWeight', f, 0, U16);
    arr(blkio, 'weightDevice', f).forEach((d, i) => {
      const df = `${f}.weightDevice[${i}]`;
      int(d, 'major', df, 0);
      int(d, 'minor', df, 0);
      int(d, 'weight', df, 0, U16);
      int(d, 'leafWeight', df, 0, U16);
      if (d.major === undefined || d.minor === undefined) throw new ConfigError(df, 'needs major and minor');
    });
    for (const l of lists) {
      arr(blkio, l, f).forEach((d, i) => {
        const df = `${f}.${l}[${i}]`;
        int(d, 'major', df, 0);
        int(d, 'minor', df, 0);
        // Past 2^53 only "unlimited" is meant (the kernel's U64_MAX): taken, as runc does.
        int(d, 'rate', df, 0, MAX_U64);
        if (d.major === undefined || d.minor === undefined || d.rate === undefined) throw new ConfigError(df, 'needs major, minor and rate');
      });
    }
  }
  const pids = obj(input, 'pids', field);
  if (pids) {
    int(pids, 'limit', `${field}.pids`, MIN_I64);
  }
  arr(input, 'hugepageLimits', field).forEach((h, i) => {
    const f = `${field}.hugepageLimits[${i}]`;
    if (typeof h.pageSize !== 'string' || !/^[0-9]+[KMGTPE]?B$/.test(h.pageSize)) throw new ConfigError(`${f}.pageSize`, 'must be a size like "2MB"');
    int(h, 'limit', f, 0, MAX_U64);
  });
  const net = obj(input, 'network', field);
  if (net) {
    int(net, 'classID', `${field}.network`, 0, U32);
    arr(net, 'priorities', `${field}.network`).forEach((p, i) => {
      const f = `${field}.network.priorities[${i}]`;
      if (typeof p.name !== 'string' || p.name === '' || /[\s/]/.test(p.name)) throw new ConfigError(`${f}.name`, 'must be an interface name');
      int(p, 'priority', f, 0, U32);
    });
  }
  const rdma = obj(input, 'rdma', field);
  if (rdma) {
    for (const [dev, lim] of Object.entries(rdma)) {
      const f = `${field}.rdma.${dev}`;
      if (!isObj(lim)) throw new ConfigError(f, 'must be an object');
      if (/[\s=]/.test(dev) || dev === '') throw new ConfigError(f, 'is not a device name');
      int(lim, 'hcaHandles', f, 0, U32);
      int(lim, 'hcaObjects', f, 0, U32);
    }
  }
  const unified = obj(input, 'unified', field);
  if (unified) {
    for (const [k, v] of Object.entries(unified)) {
      if (typeof v !== 'string') throw new ConfigError(`${field}.unified.${k}`, 'must be a string');
    }
  }
  return input as LinuxResources;
}

/**
 * A swappiness to write: one given, and not uint64's largest value (2^64 as
 * JSON.parse reads it), which runc takes for int64's -1, "not set", as Docker sends
 * it for `--memory-swappiness -1` (libcontainer/cgroups/fs/memory.go).
 */
export function swappinessGiven(swappiness: number | undefined | null): swappiness is number {
  return swappiness !== undefined && swappiness !== null && swappiness !== MAX_U64;
}

/** The block I/O lists whose entries name a device (major:minor): an update changes those it names. */
const BLOCK_IO_DEVICE_LISTS = ['weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'];

/**
 * `given` over `recorded`: an entry for a device already there changes it (the last
 * one for that device, which is what the kernel kept of a list naming it twice), a
 * new one is added.
 */
function upsertDevices(recorded: unknown, given: unknown): unknown {
  if (!Array.isArray(given)) return given;
  const out: unknown[] = Array.isArray(recorded) ? [...recorded] : [];
  for (const entry of given) {
    let at = -1;
    for (let i = out.length - 1; i >= 0 && at < 0 && isObj(entry); i--) {
      const o = out[i];
      if (isObj(o) && o['major'] === entry['major'] && o['minor'] === entry['minor']) at = i;
    }
    if (at < 0) out.push(entry);
    else out[at] = { ...(out[at] as Record<string, unknown>), ...(entry as Record<string, unknown>) };
  }
  return out;
}

/**
 * Deep merge of the given settings over the recorded ones: the container's resources
 * after an update, which changes only the fields it gives. Arrays are replaced, but
 * for block I/O's per-device lists, where an entry changes only its device (as
 * runc's update upserts them; the cgroup files themselves work that way).
 */
export function mergeResources(base: unknown, patch: LinuxResources): Record<string, unknown> {
  const out: Record<string, unknown> = isObj(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (!isObj(v) || !isObj(out[k])) {
      out[k] = v;
      continue;
    }
    const merged: Record<string, unknown> = { ...(out[k] as Record<string, unknown>), ...v };
    if (k === 'blockIO') for (const list of BLOCK_IO_DEVICE_LISTS) if (list in v) merged[list] = upsertDevices((out[k] as Record<string, unknown>)[list], v[list]);
    out[k] = merged;
  }
  return out;
}

// ---- conversions (runc's libcontainer/cgroups/utils.go) ----------------------

/**
 * cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 stays 0 (unset). The curve of
 * runc 1.3.2 and crun (opencontainers/cgroups): 10^e with e quadratic in log2(shares),
 * through both ends and the defaults (1024 -> 100). The straight line before it
 * gave the default 1024 shares a weight of 39 against 100 for every process outside
 * containers, so each Kubernetes pod on cgroup v2 got less CPU than it requested.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(Math.pow(10, (l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0 (unset). */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (the v1 memsw limit); v2's memory.swap.max is swap
 * alone. Returns the memory.swap.max value: 'max', a byte count, or undefined for
 * "leave it". As runc: unlimited memory with swap unset means unlimited swap too.
 */
export function memorySwapToV2(swap: number | undefined, limit: number | undefined, field: string): string | undefined {
  const s = swap ?? 0;
  const m = limit ?? 0;
  if (m === -1 && s === 0) return 'max';
  if (s === -1) return 'max';
  if (s === 0) return undefined;
  // Unlimited memory with a swap limit: the swap limit as it is (runc 1.2.1; it has
  // no memory to subtract, and v2 limits swap apart).
  if (m === -1) return byteCount(s);
  if (m === 0) throw new ConfigError(field, 'a swap limit needs a memory limit (linux.resources.memory.limit)');
  if (m < 0) throw new ConfigError(field, `invalid memory limit ${m}`);
  if (s < m) throw new ConfigError(field, `memory+swap limit ${s} must be >= the memory limit ${m}`);
  // runc leaves the file alone when swap == limit; "no swap at all" is what that means, so write 0.
  return byteCount(s - m);
}

/** memory.limit style numbers: -1 -> 'max' (v2). */
export function v2Max(n: number): string {
  return n === -1 ? 'max' : byteCount(n);
}

/**
 * A byte count (or rate) in decimal digits: past 2^53 the exact value of the double
 * (9223372036854775808), where String() would write 9223372036854776000; 2^64,
 * which is what JSON.parse makes of uint64's largest value, as that value.
 */
export function byteCount(n: number): string {
  if (Number.isSafeInteger(n)) return String(n);
  return n >= MAX_U64 ? '18446744073709551615' : BigInt(n).toString();
}
