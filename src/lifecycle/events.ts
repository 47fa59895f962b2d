// `events`: resource usage and OOM notifications of a live container as runc's event objects.
import * as fs from 'fs';
import { ContainerNotFoundError, ContainerStateError } from '../errors';
import { watchOom, type OomWatch } from '../cgroups/oom-events';
import { log } from '../log';
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
 * A stats event of a container still there, whatever its status (a stopped one keeps
 * its cgroups until delete); undefined once it is gone: deleted, or its cgroups
 * removed by a delete under way.
 */
function statsWhileThere(root: string, id: string): StatsEvent | undefined {
  let container: Container;
  try {
    container = Container.open(root, id);
  } catch (e) {
    if (e instanceof ContainerNotFoundError) return undefined;
    throw e;
  }
  try {
    return { type: 'stats', id, data: container.cgroups.stats() };
  } catch (e) {
    if (Object.values(container.cgroups.paths()).some((dir) => !fs.existsSync(dir))) return undefined;
    throw e;
  }
}

/**
 * Calls `emit` with a stats event every `intervalMs`, and with an OOM event when the
 * container's cgroup reports OOMs, from a container that is not stopped until it is
 * deleted (then resolves: as runc's, the stream goes on while the container is
 * stopped), `signal` aborts, or `emit` throws (then rejects with that error: a closed
 * stdout ends `events` through the CLI's error path).
 */
export async function streamEvents(root: string, id: string, intervalMs: number, emit: (e: StatsEvent | OomEvent) => void, signal?: AbortSignal): Promise<void> {
  const container = runningContainer(root, id);
  const end = new AbortController();
  const onAbort = (): void => end.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let failure: { error: unknown } | undefined;
  const send = (e: StatsEvent | OomEvent): void => {
    if (failure) return;
    try {
      emit(e);
    } catch (error) {
      failure = { error };
      end.abort();
    }
  };
  let oom: OomWatch | null = null;
  try {
    // The watch ends by itself once no OOM can follow (the cgroup empty or removed).
    // Removed is the container deleted: the stream ends then, as runc's does, not at the
    // next tick (a whole interval later); emptied (v2) is only stopped, and goes on (a
    // deletion after that, on v2, is seen at the next tick: the watch has ended).
    const deleted = (): boolean => Object.values(container.cgroups.paths()).some((dir) => !fs.existsSync(dir));
    oom = watchOom(container.cgroups, { oom: () => send({ type: 'oom', id }), gone: () => deleted() && end.abort() });
  } catch (e) {
    // As runc, which logs NotifyOOM's error and goes on with the stats.
    log.warn(`no OOM notifications for ${id}: ${(e as Error).message}`);
  }
  try {
    await streamStats(root, id, intervalMs, send, end.signal);
  } finally {
    oom?.stop();
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
}

/** Node fires a timer of 2^31 ms or more at once (after 1 ms): longer waits go in parts. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

// The first sample comes after one interval, as runc's ticker gives it (`events --stats`
// is the one-shot form).
async function streamStats(root: string, id: string, intervalMs: number, emit: (e: StatsEvent) => void, signal?: AbortSignal): Promise<void> {
  for (;;) {
    if (signal?.aborted) return;
    for (let left = intervalMs; left > 0 && !signal?.aborted; left -= LONGEST_TIMER_MS) await waitOrAbort(Math.min(left, LONGEST_TIMER_MS), signal);
    if (signal?.aborted) return;
    const event = statsWhileThere(root, id);
    if (event === undefined) return;
    emit(event);
  }
}

function waitOrAbort(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    // Removed at each tick: a long stream must not pile up listeners on the signal.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
