// `update`: change the resource limits of a live container, and record them in its
// state so later commands (and `delete`) see the container as it is now.
import { ContainerStateError } from '../errors';
import { KERNEL_MEMORY_IGNORED, mergeResources, validateResources, type LinuxResources } from '../cgroups/resources';
import { log } from '../log';
import { Container } from './container';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The linux.resources fields `update` applies: those runc's update copies into the
 * container's cgroup config (runc 1.1.5, plus cpu.burst, cpu.idle and
 * memory.checkBeforeUpdate of 1.2, and the block I/O leaf weight and per-device
 * weights and throttles of 1.3.3 and 1.4). Everything else in a --resources document is
 * ignored without a word, as runc does: containerd sends the container's whole
 * resources on every update, devices and all. memory.kernel and kernelTCP are kept
 * here only to be warned about and dropped (withoutKernelMemory).
 */
const UPDATABLE: Record<string, readonly string[] | 'value'> = {
  memory: ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP', 'checkBeforeUpdate'],
  cpu: ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle'],
  blockIO: ['weight', 'leafWeight', 'weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'],
  pids: ['limit'],
  unified: 'value',
};

/**
 * The updatable part of a decoded --resources document, validated. Unknown and
 * ignored fields are dropped before validation, so only what is applied can be
 * refused (Go's decoder, in runc, skips unknown fields too).
 */
export function updatableResources(input: unknown, field = 'resources'): LinuxResources {
  if (!isObject(input)) return validateResources(input, field);
  const picked: Record<string, unknown> = {};
  for (const [key, keep] of Object.entries(UPDATABLE)) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    if (keep === 'value' || !isObject(v)) {
      picked[key] = v; // validation names it if it is not an object
      continue;
    }
    const sub: Record<string, unknown> = {};
    for (const k of keep) if (v[k] !== undefined) sub[k] = v[k];
    picked[key] = sub;
  }
  return validateResources(picked, field);
}

/**
 * runc's update never applies kernel memory settings, given by flag or document: it
 * drops them, saying so for a value other than 0 (runc 1.1.5 is quiet about a 0).
 * create leaves them too (the resource planners warn there).
 */
export function withoutKernelMemory(resources: LinuxResources, warn: (message: string) => void): LinuxResources {
  const memory = resources.memory;
  if (!memory || (memory.kernel === undefined && memory.kernelTCP === undefined)) return resources;
  if (memory.kernel || memory.kernelTCP) warn(KERNEL_MEMORY_IGNORED);
  const kept = { ...memory };
  delete kept.kernel;
  delete kept.kernelTCP;
  return { ...resources, memory: kept };
}

/**
 * memory.checkBeforeUpdate holds for every later update until one changes it: runc
 * 1.2 keeps it in the container's cgroup config (its update copies the field only
 * when the document gives it), so `update --memory` alone checks too. Taken from the
 * recorded resources when a new memory limit comes without it.
 */
export function withRecordedCheckBeforeUpdate(resources: LinuxResources, recorded: unknown): LinuxResources {
  const memory = resources.memory;
  if (!memory || memory.limit === undefined || memory.limit === null || memory.checkBeforeUpdate !== undefined) return resources;
  const recordedMemory = isObject(recorded) ? recorded['memory'] : undefined;
  const check = isObject(recordedMemory) ? recordedMemory['checkBeforeUpdate'] : undefined;
  if (check !== true) return resources;
  return { ...resources, memory: { ...memory, checkBeforeUpdate: true } };
}

export function updateContainer(root: string, id: string, asked: LinuxResources): void {
  const given = withoutKernelMemory(asked, (m) => log.warn(m));
  const { container, unlock } = Container.openLocked(root, id);
  try {
    const status = container.status();
    if (status === 'stopped' || status === 'creating') throw new ContainerStateError('container not running');
    const current = container.store.read(id);
    const recordedLinux = current.config['linux'];
    const resources = withRecordedCheckBeforeUpdate(given, isObject(recordedLinux) ? recordedLinux['resources'] : undefined);
    const config = { ...current.config };
    const linux = isObject(config['linux']) ? { ...config['linux'] } : {};
    linux['resources'] = mergeResources(linux['resources'], resources);
    config['linux'] = linux;
    // The new limits are recorded first: a state that cannot be written (a --root
    // on a full disk) then refuses the update before the cgroup changes, where a
    // write after it would leave the cgroup changed and the state as it was. A
    // refused cgroup write (which puts back what it had written) puts the recorded
    // state back too.
    container.store.write(id, { ...current, config });
    let warnings: string[];
    try {
      warnings = container.cgroups.set(resources, { update: true });
    } catch (e) {
      try {
        container.store.write(id, current);
      } catch (restoreError) {
        log.warn(`putting back the recorded limits of ${id} failed (${(restoreError as Error).message}): its state and cgroup may disagree`);
      }
      throw e;
    }
    for (const warning of warnings) log.warn(warning);
  } finally {
    unlock();
  }
}
