// A model of the v1 devices cgroup (security/device_cgroup.c): a default behaviour
// plus an exception list, changed by devices.allow/devices.deny writes. The v1
// driver's writes are checked against it, and the v2 device filter encodes its
// result, so both hierarchies give a rule list the same meaning.
import type { DeviceLine } from './devices';

// linux/bpf.h's access bits, which the v2 filter tests directly.
export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;

/** One entry of the kernel's exception list; major/minor null = any ("*"). */
export interface DeviceException {
  type: 'c' | 'b';
  major: number | null;
  minor: number | null;
  /** BPF_DEVCG_ACC_* bits */
  access: number;
}

/** The state of a v1 devices cgroup after the lines were written. */
export interface DeviceCgroupState {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

function accessBits(access: string): number {
  let bits = 0;
  for (const c of access) bits |= c === 'm' ? BPF_DEVCG_ACC_MKNOD : c === 'r' ? BPF_DEVCG_ACC_READ : c === 'w' ? BPF_DEVCG_ACC_WRITE : 0;
  return bits;
}

function parseId(text: string): number | null {
  return text === '*' ? null : Number(text);
}

function parseLine(line: string): DeviceException | 'all' {
  if (line === 'a') return 'all';
  const m = /^([cb]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line);
  if (!m) throw new Error(`internal: unexpected devices line ${JSON.stringify(line)}`);
  return { type: m[1] as 'c' | 'b', major: parseId(m[2]), minor: parseId(m[3]), access: accessBits(m[4]) };
}

function sameDevice(a: DeviceException, b: DeviceException): boolean {
  return a.type === b.type && a.major === b.major && a.minor === b.minor;
}

/**
 * One v1 write, applied the way security/device_cgroup.c applies it: "a" resets to a
 * default with no exceptions; a rule that agrees with the default removes its
 * access bits from the exception for exactly the same device (never from a wider
 * one); a rule that disagrees adds (or widens) an exception.
 */
export function applyDeviceLine(state: DeviceCgroupState, l: DeviceLine): void {
  const allow = l.file === 'devices.allow';
  const rule = parseLine(l.line);
  if (rule === 'all') {
    state.defaultAllow = allow;
    state.exceptions = [];
    return;
  }
  const existing = state.exceptions.find((e) => sameDevice(e, rule));
  if (allow === state.defaultAllow) {
    if (!existing) return;
    existing.access &= ~rule.access;
    if (existing.access === 0) state.exceptions = state.exceptions.filter((e) => e !== existing);
  } else if (existing) {
    existing.access |= rule.access;
  } else {
    state.exceptions.push({ ...rule });
  }
}

/** The state after the lines, from a new v1 cgroup's (allow all; every list here begins with "deny a" anyway). */
export function emulateDeviceCgroup(lines: readonly DeviceLine[]): DeviceCgroupState {
  const state: DeviceCgroupState = { defaultAllow: true, exceptions: [] };
  for (const l of lines) applyDeviceLine(state, l);
  return state;
}

/**
 * Whether, after `l` was applied, the kernel does what the line says on every device
 * it names. A line that disagrees with the default adds or widens the exception of
 * exactly its pattern, which then decides there. One that agrees only takes its bits
 * from that exact exception: another one that overlaps its devices (a wider wildcard,
 * or a narrower rule under a wildcard line) and holds one of those bits still decides.
 */
export function lineHonoured(state: DeviceCgroupState, l: DeviceLine): boolean {
  const rule = parseLine(l.line);
  if (rule === 'all' || (l.file === 'devices.allow') !== state.defaultAllow) return true;
  const overlap = (a: number | null, b: number | null): boolean => a === null || b === null || a === b;
  return !state.exceptions.some((e) => e.type === rule.type && overlap(e.major, rule.major) && overlap(e.minor, rule.minor) && (e.access & rule.access) !== 0);
}

/**
 * Whether the state lets `bit` (BPF_DEVCG_ACC_*) through to that one device: default
 * deny, an exception that holds the bit allows (match_exception); default allow, one
 * that holds it denies (match_exception_partial).
 */
export function kernelAllows(state: DeviceCgroupState, type: 'c' | 'b', major: number, minor: number, bit: number): boolean {
  const hit = state.exceptions.some((e) => e.type === type && (e.major === null || e.major === major) && (e.minor === null || e.minor === minor) && (e.access & bit) !== 0);
  return state.defaultAllow ? !hit : hit;
}
