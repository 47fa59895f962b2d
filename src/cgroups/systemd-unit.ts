// The systemd cgroup driver's planning, pure: which unit a container gets from its
// cgroupsPath ("slice:prefix:name"), where that unit's cgroup lies, and the unit
// properties that carry its limits and the config's org.systemd.property.*
// annotations. runc's rules (docs/systemd.md there), so that a caller switching
// runtimes finds its containers in the same units.
import { parseCpuList } from '../config/cpu-list';
import { ConfigError } from '../errors';
import type { UnitProperty } from '../systemd/systemd-manager';
import type { DBusValue, Variant } from '../systemd/dbus-wire';
import { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, type DeviceCgroupState } from './device-cgroup-model';
import { cpuSharesToWeight, memorySwapToV2, type LinuxResources } from './resources';

export interface SystemdUnit {
  /** The slice the unit goes in ("system.slice" by default). */
  slice: string;
  /** The unit's name: "<prefix>-<name>.scope". */
  name: string;
  /** The unit's cgroup, below systemd's root: the expanded slice and the unit. */
  cgroup: string;
}

/** The prefix of a unit made for a container whose config names none (runc uses "runc"). */
export const DEFAULT_SCOPE_PREFIX = 'tsrun';

/**
 * systemd writes a slice's ancestry into its name with dashes: "a-b.slice" lies in
 * "a.slice", so its cgroup is "/a.slice/a-b.slice"; "-.slice" is the root.
 */
export function expandSlice(slice: string): string {
  const bad = (): never => {
    throw new ConfigError('linux.cgroupsPath', `invalid slice name: ${slice}`);
  };
  if (!slice.endsWith('.slice') || slice.length <= '.slice'.length || slice.includes('/')) return bad();
  const base = slice.slice(0, -'.slice'.length);
  if (base === '-') return '/';
  let out = '';
  let prefix = '';
  for (const part of base.split('-')) {
    if (part === '') return bad();
    out += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return out;
}

/** The unit of a container: from cgroupsPath, or ":tsrun:<id>" when it is empty. */
export function systemdUnitOf(cgroupsPath: string | undefined, id: string): SystemdUnit {
  const spec = cgroupsPath === undefined || cgroupsPath === '' ? `:${DEFAULT_SCOPE_PREFIX}:${id}` : cgroupsPath;
  const parts = spec.split(':');
  if (parts.length !== 3) {
    throw new ConfigError('linux.cgroupsPath', `expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(spec)} instead`);
  }
  const [sliceWord, prefix, name] = parts as [string, string, string];
  // A slice holds no process of its own: runc makes one only for kubelet's pods, with
  // no process in it; a container needs a scope.
  if (name.endsWith('.slice')) throw new ConfigError('linux.cgroupsPath', `${JSON.stringify(name)} names a slice: a container's unit is a scope`);
  if (name === '') throw new ConfigError('linux.cgroupsPath', 'the unit name (the part after the second ":") is empty');
  if (/[/\0]/.test(prefix + name)) throw new ConfigError('linux.cgroupsPath', `${JSON.stringify(`${prefix}-${name}`)} cannot be a unit name`);
  const slice = sliceWord === '' ? 'system.slice' : sliceWord;
  const unit = `${prefix}-${name}.scope`;
  const expanded = expandSlice(slice);
  return { slice, name: unit, cgroup: `${expanded === '/' ? '' : expanded}/${unit}` };
}

const variant = (sig: string, value: DBusValue): Variant => ({ sig, value });
const prop = (name: string, sig: string, value: DBusValue): UnitProperty => ({ name, value: variant(sig, value) });

/** What a new scope always gets (runc's set): the parent slice, delegation, accounting everywhere. */
export function scopeProperties(slice: string, id: string, pid: number, layout: 'v1' | 'v2'): UnitProperty[] {
  return [
    prop('Description', 's', `tsrun container ${id}`),
    prop('Slice', 's', slice),
    prop('PIDs', 'au', [pid]),
    // The container may make cgroups below its own (a runtime inside, systemd inside).
    prop('Delegate', 'b', true),
    prop('MemoryAccounting', 'b', true),
    prop('CPUAccounting', 'b', true),
    prop(layout === 'v1' ? 'BlockIOAccounting' : 'IOAccounting', 'b', true),
    prop('TasksAccounting', 'b', true),
    // Not ordered after basic.target nor stopped at shutdown by systemd's default rules.
    prop('DefaultDependencies', 'b', false),
  ];
}

const UINT64_MAX = (1n << 64n) - 1n;

/** A limit as systemd's uint64, where -1 (unlimited) is its "infinity". */
function limit(value: number): bigint {
  if (value < 0) return UINT64_MAX;
  const n = BigInt(value);
  return n > UINT64_MAX ? UINT64_MAX : n;
}

/** A CPU or memory-node list as systemd's bitmask bytes (CPU 0 is the low bit of the first byte). */
export function cpuMask(list: string, field: string): number[] {
  const cpus = parseCpuList(list, field);
  const bytes: number[] = [];
  for (const cpu of cpus) {
    const i = cpu >> 3;
    while (bytes.length <= i) bytes.push(0);
    bytes[i] = (bytes[i] as number) | (1 << (cpu & 7));
  }
  return bytes;
}

/**
 * linux.resources as cgroup v1 unit properties (runc's table): systemd writes these
 * itself whenever it applies the unit's settings again (a daemon-reload), so they
 * must say what the cgroup files say. The files are written too, after, for all that
 * systemd has no property for. `systemdVersion` leaves out what an older one lacks.
 */
export function v1ResourceProperties(r: LinuxResources, systemdVersion: number): UnitProperty[] {
  const out: UnitProperty[] = [];
  const mem = r.memory?.limit;
  if (mem !== undefined && mem !== 0) out.push(prop('MemoryLimit', 't', limit(mem)));
  const shares = r.cpu?.shares;
  if (shares !== undefined && shares !== 0) out.push(prop('CPUShares', 't', BigInt(shares)));
  out.push(...cpuQuotaProperties(r.cpu?.quota ?? 0, r.cpu?.period ?? 0, systemdVersion));
  const weight = r.blockIO?.weight;
  if (weight !== undefined && weight !== 0) out.push(prop('BlockIOWeight', 't', BigInt(weight)));
  const pids = r.pids?.limit;
  if (pids !== undefined && (pids > 0 || pids === -1)) out.push(prop('TasksMax', 't', limit(pids)));
  out.push(...cpusetProperties(r, systemdVersion));
  return out;
}

/**
 * linux.resources as cgroup v2 unit properties (runc's table, without the
 * unified.* keys, which go to the files only).
 */
export function v2ResourceProperties(r: LinuxResources, systemdVersion: number): UnitProperty[] {
  const out: UnitProperty[] = [];
  const mem = r.memory?.limit;
  if (mem !== undefined && mem !== 0) out.push(prop('MemoryMax', 't', limit(mem)));
  const low = r.memory?.reservation;
  if (low !== undefined && low !== 0) out.push(prop('MemoryLow', 't', limit(low)));
  const swap = memorySwapToV2(r.memory?.swap, mem, 'linux.resources.memory.swap');
  if (swap !== undefined) out.push(prop('MemorySwapMax', 't', swap === 'max' ? UINT64_MAX : BigInt(swap)));
  const shares = r.cpu?.shares;
  if (shares !== undefined && shares !== 0) out.push(prop('CPUWeight', 't', BigInt(cpuSharesToWeight(shares))));
  out.push(...cpuQuotaProperties(r.cpu?.quota ?? 0, r.cpu?.period ?? 0, systemdVersion));
  const pids = r.pids?.limit;
  if (pids !== undefined && (pids > 0 || pids === -1)) out.push(prop('TasksMax', 't', limit(pids)));
  out.push(...cpusetProperties(r, systemdVersion));
  return out;
}

function cpusetProperties(r: LinuxResources, systemdVersion: number): UnitProperty[] {
  const out: UnitProperty[] = [];
  if (systemdVersion < 244) return out;
  if (r.cpu?.cpus) out.push(prop('AllowedCPUs', 'ay', cpuMask(r.cpu.cpus, 'linux.resources.cpu.cpus')));
  if (r.cpu?.mems) out.push(prop('AllowedMemoryNodes', 'ay', cpuMask(r.cpu.mems, 'linux.resources.cpu.mems')));
  return out;
}

/**
 * systemd keeps a quota as microseconds per second of CPU, in whole percents of a
 * CPU: a quota between two percents is rounded up, so that the cgroup's own
 * cfs_quota_us (written after) stays within what systemd allows.
 */
function cpuQuotaProperties(quota: number, period: number, systemdVersion: number): UnitProperty[] {
  const out: UnitProperty[] = [];
  if (period !== 0 && systemdVersion >= 242) out.push(prop('CPUQuotaPeriodUSec', 't', BigInt(period)));
  if (quota === 0 && period === 0) return out;
  let perSec = UINT64_MAX;
  if (quota > 0) {
    const p = BigInt(period === 0 ? 100000 : period);
    perSec = (BigInt(quota) * 1000000n) / p;
    if (perSec % 10000n !== 0n) perSec = (perSec / 10000n + 1n) * 10000n;
  }
  out.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  return out;
}

/**
 * The device rules (the v1 kernel's end state after them, device-cgroup-model.ts) as
 * DevicePolicy and DeviceAllow: systemd writes the unit's device cgroup again from
 * these whenever it changes any property of the unit (an update), and would write
 * "allow all" (DevicePolicy=auto) over the container's rules otherwise. runc's
 * translation: an allow-all list is policy auto; a list that allows by default
 * with exceptions cannot be said to systemd and becomes deny-all there (the files,
 * written after, say the rest); a deny-by-default list is "strict" with an entry per
 * exception: "char-*" for a type, "char-<group>" (/proc/devices' name for the major)
 * for a major, "/dev/char/M:m" for one device. An exception with a wildcard major and
 * a fixed minor has no form there and is left to the files. `procDevices`:
 * /proc/devices' text.
 */
export function deviceProperties(state: DeviceCgroupState, procDevices: string): { properties: UnitProperty[]; warnings: string[] } {
  const warnings: string[] = [];
  if (state.defaultAllow) {
    if (state.exceptions.length === 0) return { properties: [prop('DevicePolicy', 's', 'auto'), prop('DeviceAllow', 'a(ss)', [])], warnings };
    warnings.push('systemd cannot hold device rules that allow by default: its unit denies all devices, and the cgroup files hold the rules');
    return { properties: [prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', [])], warnings };
  }
  const groups = deviceGroups(procDevices);
  const allow: [string, string][] = [];
  for (const e of state.exceptions) {
    const perms = `${e.access & BPF_DEVCG_ACC_READ ? 'r' : ''}${e.access & BPF_DEVCG_ACC_WRITE ? 'w' : ''}${e.access & BPF_DEVCG_ACC_MKNOD ? 'm' : ''}`;
    const kind = e.type === 'c' ? 'char' : 'block';
    if (e.major === null) {
      if (e.minor !== null) {
        warnings.push(`systemd has no device rule for ${e.type} *:${e.minor}: left to the cgroup files`);
        continue;
      }
      allow.push([`${kind}-*`, perms]);
    } else if (e.minor === null) {
      const group = groups.get(`${e.type} ${e.major}`);
      if (group === undefined) {
        warnings.push(`no device group for ${e.type} ${e.major}:* in /proc/devices: left to the cgroup files`);
        continue;
      }
      allow.push([`${kind}-${group}`, perms]);
    } else {
      allow.push([`/dev/${kind}/${e.major}:${e.minor}`, perms]);
    }
  }
  return { properties: [prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', allow)], warnings };
}

/** /proc/devices: "<type> <major>" -> its group name ("c 136" -> "pts"). */
function deviceGroups(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let type: 'c' | 'b' | undefined;
  for (const line of text.split('\n')) {
    if (/^Character devices:/.test(line)) type = 'c';
    else if (/^Block devices:/.test(line)) type = 'b';
    else {
      const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
      if (m && type) out.set(`${type} ${m[1]}`, m[2] as string);
    }
  }
  return out;
}

/** The prefix of the annotations that become unit properties (tsrun features lists it). */
export const ANNOTATION_PREFIX = 'org.systemd.property.';

/**
 * The config's `org.systemd.property.<Name>` annotations, whose values are GVariant
 * text ("uint64 123", "'text'", "true", "1.5", "['a', 'b']"), as unit properties. The
 * forms read: booleans, strings, typed and untyped integers (untyped: int32,
 * GVariant's default), doubles, and arrays of one of those. As runc: a name is 3 or
 * more ASCII letters, and one ending in a lowercase letter and "Sec"
 * (TimeoutStopSec) is the property in microseconds (TimeoutStopUSec), its value
 * taken as seconds.
 */
export function annotationProperties(annotations: Readonly<Record<string, string>>): UnitProperty[] {
  const out: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    let name = key.slice(ANNOTATION_PREFIX.length);
    const field = `annotations["${key}"]`;
    if (!/^[A-Za-z]{3,}$/.test(name)) throw new ConfigError(field, `${JSON.stringify(name)} is not a systemd property name (3 or more ASCII letters)`);
    // The unit's slice is where tsrun finds its cgroups: said before any unit starts
    // (runc goes along and then looks for them in the cgroupsPath's slice).
    if (name === 'Slice') throw new ConfigError(field, 'the slice is the one linux.cgroupsPath names ("slice:prefix:name"): give it there');
    let value = parseGVariantText(text, field);
    if (/[a-z]Sec$/.test(name)) {
      name = `${name.slice(0, -'Sec'.length)}USec`;
      value = secondsToMicroseconds(value, field, text);
    }
    out.push({ name, value });
  }
  return out;
}

function secondsToMicroseconds(v: Variant, field: string, text: string): Variant {
  if (typeof v.value === 'number' && v.sig === 'd') {
    if (!(v.value >= 0)) throw new ConfigError(field, `${JSON.stringify(text)}: seconds cannot be negative`);
    return variant('t', BigInt(Math.floor(v.value * 1e6)));
  }
  if ((typeof v.value !== 'number' && typeof v.value !== 'bigint') || !'ynqiuxt'.includes(v.sig)) throw new ConfigError(field, `${JSON.stringify(text)}: a number of seconds is wanted`);
  const n = BigInt(v.value);
  if (n < 0n) throw new ConfigError(field, `${JSON.stringify(text)}: seconds cannot be negative`);
  return variant('t', (n * 1000000n) & UINT64_MAX);
}

const INTEGER_TYPES: Record<string, { sig: string; min: bigint; max: bigint }> = {
  byte: { sig: 'y', min: 0n, max: 255n },
  int16: { sig: 'n', min: -(1n << 15n), max: (1n << 15n) - 1n },
  uint16: { sig: 'q', min: 0n, max: (1n << 16n) - 1n },
  int32: { sig: 'i', min: -(1n << 31n), max: (1n << 31n) - 1n },
  uint32: { sig: 'u', min: 0n, max: (1n << 32n) - 1n },
  int64: { sig: 'x', min: -(1n << 63n), max: (1n << 63n) - 1n },
  uint64: { sig: 't', min: 0n, max: UINT64_MAX },
};
const SIG_TO_TYPE: Record<string, string> = { y: 'byte', n: 'int16', q: 'uint16', i: 'int32', u: 'uint32', x: 'int64', t: 'uint64' };

function parseGVariantText(text: string, field: string): Variant {
  const bad = (why: string): never => {
    throw new ConfigError(field, `${JSON.stringify(text)}: ${why}`);
  };
  const s = text.trim();
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) return bad('an array must end with "]"');
    const inner = s.slice(1, -1).trim();
    const items = inner === '' ? [] : splitTopLevel(inner).map((item) => parseGVariantText(item, field));
    if (items.length === 0) return bad('the type of an empty array cannot be told');
    const sig = items[0]?.sig as string;
    if (items.some((v) => v.sig !== sig)) return bad('array items of different types');
    return variant(`a${sig}`, items.map((v) => v.value));
  }
  if (s === 'true' || s === 'false') return variant('b', s === 'true');
  const double = /^(?:double\s+)?(-?\d+\.\d*(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+)$/.exec(s);
  if (double) return variant('d', Number(double[1]));
  const quoted = /^'((?:[^'\\]|\\.)*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(s);
  if (quoted) return variant('s', (quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1'));
  const typed = /^(?:(byte|int16|uint16|int32|uint32|int64|uint64)\s+|@([ynqiuxt])\s+)?(-?\d+)$/.exec(s);
  if (!typed) return bad('not a GVariant value tsrun reads (a boolean, a quoted string, an integer, a double, or an array of them)');
  const typeName = typed[1] ?? (typed[2] ? SIG_TO_TYPE[typed[2]] : 'int32') ?? 'int32';
  const t = INTEGER_TYPES[typeName] as { sig: string; min: bigint; max: bigint };
  const n = BigInt(typed[3] as string);
  if (n < t.min || n > t.max) return bad(`out of range for ${typeName}`);
  return variant(t.sig, t.sig === 't' || t.sig === 'x' ? n : Number(n));
}

/** Splits "a, 'b,c', d" at the commas outside quotes. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur += c;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}
