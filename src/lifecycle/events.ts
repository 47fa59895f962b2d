// `events`: resource usage of a live container as runc's event objects.
import { ContainerStateError } from '../errors';
import type { CgroupStats } from '../cgroups/stats';
import { Container } from './container';

export interface StatsEvent {
  type: 'stats';
  id: string;
  data: CgroupStats;
}

/** One stats event; runc's error for a container that is not running. */
export function statsEvent(root: string, id: string): StatsEvent {
  const container = Container.open(root, id);
  const status = container.status();
  if (status === 'stopped' || status === 'creating') throw new ContainerStateError(`container with id ${id} is not running`);
  return { type: 'stats', id, data: container.cgroups.stats() };
}

/**
 * Calls `emit` with a stats event every `intervalMs` until the container stops
 * (then resolves) or `signal` aborts.
 */
export async function streamStats(root: string, id: string, intervalMs: number, emit: (e: StatsEvent) => void, signal?: AbortSignal): Promise<void> {
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
