// `update`: runc's flags, or a JSON LinuxResources from --resources FILE or '-'
// (stdin; containerd uses that). With --resources the other flags are ignored, as
// in runc. Parsing only: the lifecycle applies it.
import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import type { LinuxResources } from '../../cgroups/resources';
import type * as Resources from '../../cgroups/resources';
import { dropNullMembers } from '../../config/json';
import { ConfigError, NotSupportedError, TsrunError } from '../../errors';
import { containerId, type GlobalOptions } from './common';

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadResources = (): typeof Resources => require('../../cgroups/resources');

/** Loaded when the command runs: start-up loads only what the command needs. */
const loadUpdate = (): typeof import('../../lifecycle/update') => require('../../lifecycle/update');

/** runc's wording ("invalid value for memory: ..."), still carrying the flag as the field. */
function flagError(flag: string, reason: string): ConfigError {
  const e = new ConfigError(`--${flag}`, reason);
  e.message = `invalid value for ${flag}: ${reason}`;
  return e;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * A byte size the way runc 1.1.5 reads --memory (docker/go-units RAMInBytes): a
 * decimal number, an optional space, an optional binary unit k/m/g/t/p with an
 * optional "i" and "b" ("512m", "1.5g", "100KiB", "10 m"); "-1" is unlimited.
 * The pattern lets "1.2.3" through to Go's ParseFloat, which refuses it: so does
 * this, in the same words (JavaScript's parseFloat would read 1.2 and go on).
 */
export function parseRamSize(flag: string, text: string): number {
  if (text === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) throw flagError(flag, `invalid size: '${text}'`);
  const num = m[1];
  if (num.indexOf('.') !== num.lastIndexOf('.')) throw flagError(flag, `strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const value = Number(num);
  if (!Number.isFinite(value)) throw flagError(flag, `strconv.ParseFloat: parsing ${JSON.stringify(num)}: value out of range`);
  // Go truncates the float to an int64; the sizes here are never negative.
  return Math.floor(value * UNITS[(m[2] ?? '').toLowerCase()]);
}

/**
 * An integer flag as runc reads it. `goSyntax`: urfave/cli's Int and Uint flags
 * (strconv base 0: 0x1f, 0o17, 017, 0b101, 1_000); otherwise strconv base 10
 * (an optional sign, decimal digits). Unsigned ones take no sign at all.
 */
export function parseInteger(flag: string, text: string, signed: boolean, goSyntax = false, max = Number.MAX_SAFE_INTEGER): number {
  const m = (signed ? /^([+-]?)(.*)$/ : /^()(.*)$/).exec(text)!;
  const digits = goSyntax ? goIntegerDigits(m[2]!) : /^\d+$/.test(m[2]!) ? m[2]! : undefined;
  if (digits === undefined) throw flagError(flag, `${JSON.stringify(text)} is not ${signed ? 'an' : 'an unsigned'} integer`);
  const n = (m[1] === '-' ? -1 : 1) * Number(digits);
  if (!Number.isSafeInteger(n) || n > max) throw flagError(flag, `${text} is out of range`);
  return n;
}

/** Go's integer literal (no sign) as something Number() reads exactly as Go does, or undefined. */
function goIntegerDigits(text: string): string | undefined {
  const prefixed = /^0([xXoObB])(_?[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)$/.exec(text);
  if (prefixed) {
    const base = { x: 16, o: 8, b: 2 }[prefixed[1]!.toLowerCase() as 'x' | 'o' | 'b'];
    const body = prefixed[2]!.replace(/_/g, '');
    if (![...body].every((c) => parseInt(c, 16) < base)) return undefined;
    return `0${prefixed[1]!.toLowerCase()}${body}`;
  }
  // Underscores only between digits; a leading 0 makes it octal.
  if (!/^\d+(?:_\d+)*$/.test(text)) return undefined;
  const body = text.replace(/_/g, '');
  if (body.length > 1 && body.startsWith('0')) return /^[0-7]+$/.test(body) ? `0o${body.slice(1)}` : undefined;
  return body;
}

export type UpdateFlags = Partial<Record<
  'memory' | 'memory-swap' | 'memory-reservation' | 'kernel-memory' | 'kernel-memory-tcp' | 'cpu-share' | 'cpu-quota' | 'cpu-period' |
  'cpu-burst' | 'cpu-idle' | 'cpu-rt-runtime' | 'cpu-rt-period' | 'cpuset-cpus' | 'cpuset-mems' | 'pids-limit' | 'blkio-weight' |
  'l3-cache-schema' | 'mem-bw-schema',
  string
>>;

/** The LinuxResources the flags ask for; only given flags appear in it. */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  if (f['l3-cache-schema'] !== undefined) throw new NotSupportedError('--l3-cache-schema (Intel RDT)');
  if (f['mem-bw-schema'] !== undefined) throw new NotSupportedError('--mem-bw-schema (Intel RDT)');
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  const sizes: [keyof UpdateFlags, keyof typeof memory][] = [
    ['memory', 'limit'], ['memory-swap', 'swap'], ['memory-reservation', 'reservation'], ['kernel-memory', 'kernel'], ['kernel-memory-tcp', 'kernelTCP'],
  ];
  for (const [flag, key] of sizes) {
    const v = f[flag];
    if (v !== undefined && v !== '') (memory as Record<string, number>)[key] = parseRamSize(flag, v);
  }
  if (Object.keys(memory).length > 0) r.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const ints: [keyof UpdateFlags, keyof typeof cpu, boolean][] = [
    ['cpu-share', 'shares', false], ['cpu-quota', 'quota', true], ['cpu-period', 'period', false], ['cpu-burst', 'burst', false],
    ['cpu-idle', 'idle', true], ['cpu-rt-runtime', 'realtimeRuntime', true], ['cpu-rt-period', 'realtimePeriod', false],
  ];
  for (const [flag, key, signed] of ints) {
    const v = f[flag];
    if (v !== undefined && v !== '') (cpu as Record<string, number>)[key] = parseInteger(flag, v, signed);
  }
  if (f['cpuset-cpus']) cpu.cpus = f['cpuset-cpus'];
  if (f['cpuset-mems']) cpu.mems = f['cpuset-mems'];
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  // runc declares these two as urfave/cli Int and Uint flags: Go's integer syntax.
  if (f['pids-limit'] !== undefined && f['pids-limit'] !== '') r.pids = { limit: parseInteger('pids-limit', f['pids-limit'], true, true) };
  if (f['blkio-weight'] !== undefined && f['blkio-weight'] !== '') {
    const w = parseInteger('blkio-weight', f['blkio-weight'], false, true, 65535);
    if (w !== 0) r.blockIO = { weight: w };
  }
  return loadResources().validateResources(r, 'update');
}

/**
 * A JSON LinuxResources (runc's --resources): what update applies of it, validated;
 * the rest (devices, hugepageLimits, unknown fields...) is ignored, as runc does.
 */
export function resourcesFromJson(text: string, source: string): LinuxResources {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new TsrunError(`decoding resources from ${source}: ${(e as Error).message}`);
  }
  // As runc's Go decoder: null, the whole document or a member's value, changes nothing.
  if (input === null) input = {};
  else dropNullMembers(input);
  return loadUpdate().updatableResources(input, 'resources');
}

const FLAGS: [keyof UpdateFlags, string][] = [
  ['blkio-weight', 'Specifies per cgroup weight, range is from 10 to 1000'],
  ['cpu-period', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-quota', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpu-burst', 'CPU time (in usecs) a period may use beyond the quota, saved up from earlier periods'],
  ['cpu-share', 'CPU shares (relative weight vs. other containers)'],
  ['cpu-idle', '1: the cgroup runs as SCHED_IDLE; 0: as normal'],
  ['cpu-rt-period', 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default'],
  ['cpu-rt-runtime', 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period'],
  ['cpuset-cpus', 'CPU(s) to use'],
  ['cpuset-mems', 'Memory node(s) to use'],
  ['kernel-memory', 'Kernel memory limit (in bytes); ignored by current kernels'],
  ['kernel-memory-tcp', 'Kernel memory limit for tcp buffer (in bytes)'],
  ['memory', 'Memory limit (in bytes)'],
  ['memory-reservation', 'Memory reservation or soft_limit (in bytes)'],
  ['memory-swap', "Total memory usage (memory + swap); set '-1' to enable unlimited swap"],
  ['pids-limit', 'Maximum number of pids allowed in the container'],
  ['l3-cache-schema', 'The string of Intel RDT/CAT L3 cache schema (not supported)'],
  ['mem-bw-schema', 'The string of Intel RDT/MBA memory bandwidth schema (not supported)'],
];

export const update: CommandModule<GlobalOptions, GlobalOptions & UpdateFlags & { resources?: string }> = {
  command: 'update [container-id]',
  describe: 'update container resource constraints',
  builder: (y) => {
    let b = y
      .positional('container-id', { type: 'string', describe: 'the container id' })
      .option('resources', { alias: 'r', type: 'string', describe: "path to the file containing the resources to update or '-' to read from the standard input" });
    for (const [name, describe] of FLAGS) b = b.option(name, { type: 'string', describe, ...(name === 'cpu-share' ? { alias: 'cpu-shares' } : {}) });
    return b;
  },
  handler: (argv) => {
    const id = containerId(argv, 'update');
    let resources: LinuxResources;
    // An empty value names no file, as runc reads it: the flags are used.
    if (argv.resources !== undefined && argv.resources !== '') {
      const source = argv.resources === '-' ? 'standard input' : argv.resources;
      let text: string;
      try {
        text = fs.readFileSync(argv.resources === '-' ? 0 : argv.resources, 'utf8');
      } catch (e) {
        throw new TsrunError(`reading resources from ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      resources = resourcesFromJson(text, source);
    } else {
      const flags: UpdateFlags = {};
      for (const [name] of FLAGS) {
        const v = (argv as Record<string, unknown>)[name];
        if (v !== undefined) flags[name] = String(v);
      }
      resources = resourcesFromFlags(flags);
    }
    loadUpdate().updateContainer(argv.root, id, resources);
  },
};
