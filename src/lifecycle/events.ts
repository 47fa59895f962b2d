// `events`: resource usage and OOM kills of a live container as runc's event objects.
import { ContainerStateError } from '../errors';
import { watchOom } from '../cgroups/oom-events';
import type { CgroupStats } from '../cgroups/stats';
import { Container } from './container';

export interface StatsEvent {
  type: 'stats';
  id: string;
  data: CgroupStats;
}

/** runc's OOM event: no data. */
export interface OomEvent {
  type: 'oom';
  id: string;
}

function runningContainer(root: string, id: string): Container {
  const container = Container.open(root, id);
  const status = container.status();
  if (status === 'stopped' || status === 'creating') throw new ContainerStateError(`container with id ${id} is not running`);
  return container;
}

/** One stats event; runc's error for a container that is not running. */
export function statsEvent(root: string, id: string): StatsEvent {
  return { type: 'stats', id, data: runningContainer(root, id).cgroups.stats() };
}

/**
 * Calls `emit` with a stats event every `intervalMs`, and with an OOM event at each
 * OOM kill in the container's cgroup, until the container stops (then resolves) or
 * `signal` aborts.
 */
export async function streamEvents(root: string, id: string, intervalMs: number, emit: (e: StatsEvent | OomEvent) => void, signal?: AbortSignal): Promise<void> {
  const oom = watchOom(runningContainer(root, id).cgroups, () => emit({ type: 'oom', id }));
  try {
    await streamStats(root, id, intervalMs, emit, signal);
  } finally {
    oom?.stop();
  }
}

async function streamStats(root: string, id: string, intervalMs: number, emit: (e: StatsEvent) => void, signal?: AbortSignal): Promise<void> {
  emit(statsEvent(root, id));
  for (;;) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (signal?.aborted) return;
    let event: StatsEvent;
    try {
      event = statsEvent(root, id);
    } catch (e) {
      if (e instanceof ContainerStateError) return;
      throw e;
    }
    emit(event);
  }
}
