// Fields of the runtime spec that tsrun does not implement yet. A container must
// never run with more privilege or fewer limits than its config asks, so each of
// these is refused with "not supported yet: <field>" instead of being ignored.
import type { Spec } from './types';
import { NotSupportedError } from '../errors';

// Every linux.resources field of the spec is implemented by the cgroup drivers
// (src/cgroups); a field one layout cannot honour is refused there, naming the field.
const SPEC_RESOURCES = new Set(['devices', 'memory', 'cpu', 'blockIO', 'pids', 'hugepageLimits', 'network', 'rdma', 'unified']);

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
  return Object.keys(linux.resources ?? {}).filter((key) => !SPEC_RESOURCES.has(key)).map((key) => `linux.resources.${key}`);
}
