// Device access rules for the devices cgroup: the config's linux.resources.devices,
// validated and turned into the lines the v1 devices.allow / devices.deny files take.
import * as path from 'path';
import type { DeviceCgroupRule } from '../config/types';
import { ConfigError } from '../errors';
import { applyDeviceLine, BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, emulateDeviceCgroup, kernelAllows, lineHonoured, type DeviceCgroupState } from './device-cgroup-model';

/**
 * The rules runc (1.1.5, checked against its devices.list) appends after the
 * config's own rules, so every container can use these whatever the config says:
 * mknod of any node (the node is still useless without an allow rule for it),
 * /dev/null, random, full, tty, zero, urandom, the pts slaves (major 136), ptmx and
 * /dev/net/tun. The path is what runc uses to drop a default when linux.devices
 * defines a device at the same path.
 */
export const DEFAULT_DEVICE_RULES: ReadonlyArray<{ path?: string; rule: DeviceCgroupRule }> = [
  { rule: { allow: true, type: 'c', access: 'm' } },
  { rule: { allow: true, type: 'b', access: 'm' } },
  { path: '/dev/null', rule: { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' } },
  { path: '/dev/random', rule: { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' } },
  { path: '/dev/full', rule: { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' } },
  { path: '/dev/tty', rule: { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' } },
  { path: '/dev/zero', rule: { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' } },
  { path: '/dev/urandom', rule: { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 136, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' } },
];

/** The paths linux.devices defines, as effectiveDeviceRules compares them with the defaults'. */
export function specDevicePaths(devices: readonly { path: string }[] | undefined): string[] {
  return (devices ?? []).map((d) => path.posix.normalize(d.path));
}

/**
 * The full ordered rule list a container gets: its own rules, then runc's defaults
 * (minus defaults whose path linux.devices redefines, as runc does).
 */
export function effectiveDeviceRules(rules: readonly DeviceCgroupRule[], specDevicePaths: readonly string[] = []): DeviceCgroupRule[] {
  const redefined = new Set(specDevicePaths);
  return [...rules, ...DEFAULT_DEVICE_RULES.filter((d) => !d.path || !redefined.has(d.path)).map((d) => d.rule)];
}

export interface DeviceLine {
  file: 'devices.allow' | 'devices.deny';
  line: string;
}

function number(value: number | undefined | null, field: string): string {
  if (value === undefined || value === null || value === -1) return '*';
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(field, `must be a non-negative integer, got ${value}`);
  return String(value);
}

/** True for a rule that matches every device with every access (the kernel's "a"). */
export function isWildcardAll(rule: DeviceCgroupRule): boolean {
  const type = rule.type ?? 'a';
  const wild = (v: number | undefined | null): boolean => v === undefined || v === null || v === -1;
  return type === 'a' && wild(rule.major) && wild(rule.minor) && ['r', 'w', 'm'].every((c) => (rule.access ?? '').includes(c));
}

/**
 * The v1 file writes for one rule. The kernel reads "a" as "reset everything" and
 * ignores the rest of the line, so a type "a" rule that is narrower than "all
 * devices, rwm" is written as the same rule for "c" and for "b" instead.
 */
export function deviceRuleLines(rule: DeviceCgroupRule, index: number): DeviceLine[] {
  const field = `linux.resources.devices[${index}]`;
  const type: string = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') throw new ConfigError(`${field}.type`, `must be "a", "b" or "c", got ${JSON.stringify(type)}`);
  // runc: "device access at %d field cannot be empty".
  const access = rule.access ?? '';
  if (access === '') throw new ConfigError(`${field}.access`, 'must not be empty');
  if (!/^[rwm]+$/.test(access)) throw new ConfigError(`${field}.access`, `may only contain r, w and m, got ${JSON.stringify(access)}`);
  const major = number(rule.major, `${field}.major`);
  const minor = number(rule.minor, `${field}.minor`);
  const file = rule.allow ? 'devices.allow' : 'devices.deny';
  if (isWildcardAll(rule)) return [{ file, line: 'a' }];
  const types = type === 'a' ? ['c', 'b'] : [type];
  return types.map((t) => ({ file, line: `${t} ${major}:${minor} ${access}` }));
}

/**
 * Deny everything first, then each rule in order: the order the kernel applies them
 * in. configCount: how many of the rules are the config's (the rest are runc's
 * defaults, effectiveDeviceRules), for messages.
 */
export function deviceLines(rules: readonly DeviceCgroupRule[], configCount = rules.length): DeviceLine[] {
  const perRule = rules.map((r, i) => deviceRuleLines(r, i));
  const lines: DeviceLine[] = [{ file: 'devices.deny', line: 'a' }, ...perRule.flat()];
  checkExpressible(rules, perRule, configCount);
  return lines;
}

/**
 * The kernel keeps device rules as exceptions to one default (v1's model, which the
 * v2 filter follows), so a list such as "allow c *:* rwm, deny c 10:229 rwm" cannot
 * be written there: the deny finds no exception of exactly that device to take from,
 * and /dev/fuse stays open. The lines are replayed through the kernel's model, each
 * checked as it goes (lineHonoured: does the kernel now do what it says on every
 * device it names?). When every line is, the end state means what the list means
 * (the last rule that matches a device and holds an access decides): a rule changes
 * both only on the devices it names. When one is not, a later rule may still put it
 * right (runc's default "allow c *:* m" after a config's "deny c *:* m"), and only the
 * end state is enforced: it is compared with the list's meaning on every device the
 * rules can tell apart, and the list refused, naming that line's rule, if they differ
 * (runc refuses the same kind of list, "cannot punch hole in existing wildcard
 * rule"), except where the kernel only refuses a mknod the list allows, which is taken
 * as runc takes it (its emulator ends the same way): "allow a *:* rwm, deny c
 * 10:229 rwm" is a legal list whose /dev/fuse then also refuses mknod, as runc's
 * default "allow c *:* m" after it cannot reach that one device. The end state never
 * lets through more than the list, nor refuses a read or write it allows.
 */
function checkExpressible(rules: readonly DeviceCgroupRule[], perRule: readonly DeviceLine[][], configCount: number): void {
  const state = emulateDeviceCgroup([{ file: 'devices.deny', line: 'a' }]);
  let first = -1;
  rules.forEach((rule, i) => {
    for (const line of perRule[i]!) {
      applyDeviceLine(state, line);
      if (first < 0 && !lineHonoured(state, line)) first = i;
    }
  });
  if (first >= 0 && differsBeyondMknod(rules, state)) refuse(rules[first]!, first, configCount);
}

/**
 * Whether the end state differs from the list's meaning, on any device the rules can
 * tell apart (each type, each major and minor they name, and one they do not), other
 * than by refusing a mknod the list allows. Paid only when a line was not honoured on
 * its own.
 */
function differsBeyondMknod(rules: readonly DeviceCgroupRule[], state: DeviceCgroupState): boolean {
  const named = (key: 'major' | 'minor'): number[] => {
    const ids = new Set<number>();
    for (const r of rules) if (typeof r[key] === 'number' && (r[key] as number) >= 0) ids.add(r[key] as number);
    let unnamed = 0;
    while (ids.has(unnamed)) unnamed++;
    return [...ids, unnamed];
  };
  const fits = (v: number | undefined | null, id: number): boolean => v === undefined || v === null || v === -1 || v === id;
  const meant = (type: 'c' | 'b', major: number, minor: number, access: string): boolean => {
    for (let i = rules.length - 1; i >= 0; i--) {
      const r = rules[i]!;
      if (((r.type ?? 'a') === 'a' || r.type === type) && fits(r.major, major) && fits(r.minor, minor) && (r.access ?? '').includes(access)) return r.allow;
    }
    return false;
  };
  const bits: ReadonlyArray<[string, number]> = [['m', BPF_DEVCG_ACC_MKNOD], ['r', BPF_DEVCG_ACC_READ], ['w', BPF_DEVCG_ACC_WRITE]];
  const minors = named('minor');
  for (const type of ['c', 'b'] as const) {
    for (const major of named('major')) {
      for (const minor of minors) {
        for (const [access, bit] of bits) {
          const allowed = kernelAllows(state, type, major, minor, bit);
          if (allowed !== meant(type, major, minor, access) && (allowed || access !== 'm')) return true;
        }
      }
    }
  }
  return false;
}

function refuse(rule: DeviceCgroupRule, index: number, configCount: number): never {
  const text = deviceRuleLines(rule, index).map((l) => `${l.file === 'devices.allow' ? 'allow' : 'deny'} ${l.line}`).join(', ');
  const why = 'it would punch a hole in, or narrow, an earlier wildcard rule, and the kernel keeps device rules as exceptions to one default';
  if (index < configCount) throw new ConfigError(`linux.resources.devices[${index}]`, `cannot express "${text}" after the rules before it: ${why}`);
  throw new ConfigError('linux.resources.devices', `cannot express runc's default rule "${text}" after the config's rules: ${why}`);
}
