// Fields of the runtime spec that tsrun does not implement yet. A container must
// never run with more privilege or fewer limits than its config asks, so each of
// these is refused with "not supported yet: <field>" instead of being ignored.
import type { Spec } from './types';
import { ConfigError, NotSupportedError } from '../errors';

// Every linux.resources field of the spec is implemented by the cgroup drivers
// (src/cgroups); a field one layout cannot honour is refused there, naming the field.
const SPEC_RESOURCES = new Set(['devices', 'memory', 'cpu', 'blockIO', 'pids', 'hugepageLimits', 'network', 'rdma', 'unified']);

/**
 * The members the spec defines in each linux.resources object whose members are
 * fields (the others are lists, or maps keyed by device or file). Any other member
 * is a newer spec's: ignored with a word, as runc's Go decoder skips it.
 */
const SPEC_RESOURCE_FIELDS: Readonly<Record<'memory' | 'cpu' | 'blockIO' | 'pids', readonly string[]>> = {
  memory: ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'],
  cpu: ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle'],
  blockIO: ['weight', 'leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'],
  pids: ['limit'],
};

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
}

/**
 * Throws for a spec field tsrun does not implement; returns the linux.resources
 * fields the spec does not define, which the caller ignores with a word: the spec's
 * extensibility rule says a runtime MUST ignore an unknown property, not fail on it
 * (a config from a newer spec, as runc ignores it).
 */
export function checkSupported(spec: Spec): string[] {
  const linux = spec.linux ?? {};
  if (present(linux.intelRdt)) throw new NotSupportedError('linux.intelRdt');
  const resources = (linux.resources ?? {}) as Record<string, unknown>;
  const unknown: string[] = [];
  for (const key of Object.keys(resources)) {
    if (!SPEC_RESOURCES.has(key)) unknownMember(`linux.resources`, key, SPEC_RESOURCES, unknown);
  }
  for (const [group, known] of Object.entries(SPEC_RESOURCE_FIELDS)) {
    const members = resources[group];
    if (typeof members !== 'object' || members === null || Array.isArray(members)) continue;
    for (const key of Object.keys(members)) {
      if (!known.includes(key)) unknownMember(`linux.resources.${group}`, key, known, unknown);
    }
  }
  return unknown;
}

/**
 * A member the spec does not define: added to `unknown`, to be ignored with a word,
 * unless it differs from a known one only in case. Go's decoder matches member names
 * without regard to case: runc applies "Limit" as limit, and "Pids" as pids. Ignoring
 * it would run the container less limited than runc does, so it is refused instead.
 */
function unknownMember(parent: string, key: string, known: Iterable<string>, unknown: string[]): void {
  for (const k of known) {
    if (k.toLowerCase() === key.toLowerCase()) {
      throw new ConfigError(`${parent}.${key}`, `is not a field of the spec (runc reads it as ${k}, Go matching names without regard to case): write it as ${k}`);
    }
  }
  unknown.push(`${parent}.${key}`);
}
