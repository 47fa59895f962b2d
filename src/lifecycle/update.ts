// `update`: change the resource limits of a live container, and record them in its
// state so later commands (and `delete`) see the container as it is now.
import { ContainerStateError } from '../errors';
import type { LinuxResources } from '../cgroups/resources';
import { log } from '../log';
import { Container } from './container';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of the given settings over the recorded ones (arrays are replaced). */
export function mergeResources(base: unknown, patch: LinuxResources): Record<string, unknown> {
  const out: Record<string, unknown> = isObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? { ...(out[k] as Record<string, unknown>), ...v } : v;
  }
  return out;
}

export function updateContainer(root: string, id: string, resources: LinuxResources): void {
  const container = Container.open(root, id);
  const unlock = container.store.lock(id);
  try {
    const status = container.status();
    if (status === 'stopped' || status === 'creating') throw new ContainerStateError('container not running');
    for (const warning of container.cgroups.set(resources, { update: true })) log.warn(warning);
    const current = container.store.read(id);
    const config = { ...current.config };
    const linux = isObject(config['linux']) ? { ...config['linux'] } : {};
    linux['resources'] = mergeResources(linux['resources'], resources);
    config['linux'] = linux;
    container.store.write(id, { ...current, config });
  } finally {
    unlock();
  }
}
