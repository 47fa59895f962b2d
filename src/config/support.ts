// Fields of the runtime spec that tsrun does not implement yet. A container must
// never run with more privilege or fewer limits than its config asks, so each of
// these is refused with "not supported yet: <field>" instead of being ignored.
import type { Spec } from './types';
import { NotSupportedError } from '../errors';

// Every linux.resources field is implemented by the cgroup drivers (src/cgroups);
// a field one layout cannot honour is refused there, naming the field.
const SUPPORTED_RESOURCES = new Set(['devices', 'memory', 'cpu', 'blockIO', 'pids', 'hugepageLimits', 'network', 'rdma', 'unified']);

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
}

export function checkSupported(spec: Spec): void {
  const proc = spec.process;
  const linux = spec.linux ?? {};
  const refused: [string, unknown][] = [
    ['linux.intelRdt', linux.intelRdt],
  ];
  for (const [key, value] of Object.entries(linux.resources ?? {})) {
    if (!SUPPORTED_RESOURCES.has(key)) refused.push([`linux.resources.${key}`, value]);
  }
  for (const [field, value] of refused) if (present(value)) throw new NotSupportedError(field);
}
