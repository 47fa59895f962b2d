// OOM notifications of a container's cgroup, for `events` (runc prints {"type":"oom"}
// objects as they happen). cgroup v1: an eventfd registered on memory.oom_control,
// which the kernel also signals when the cgroup goes away. cgroup v2: memory.events,
// watched for a rise of its oom_kill counter (inotify, through fs.watch).
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../native';
import type { CgroupManager } from './manager';
import { parseKeyValues } from './stats';

export interface OomWatch {
  stop(): void;
}

function watchV1(dir: string, onOom: () => void): OomWatch {
  const fd = native().oomEventFd(dir);
  let stopped = false;
  const counter = Buffer.alloc(8);
  // A blocking read on the thread pool: the event loop stays free for the stats timer.
  const next = (): void => {
    fs.read(fd, counter, 0, 8, null, (err) => {
      if (stopped) return;
      // The eventfd is signalled once more when the cgroup is removed: no OOM then.
      if (err || !fs.existsSync(path.join(dir, 'cgroup.event_control'))) return;
      onOom();
      next();
    });
  };
  next();
  return {
    stop: () => {
      // Not closed: a read may still be blocked on it in the thread pool, and a closed
      // number could be reused under it. The process ends soon after `events` does.
      stopped = true;
    },
  };
}

function watchV2(dir: string, onOom: () => void): OomWatch {
  const file = path.join(dir, 'memory.events');
  const read = (): number => {
    try {
      return Number(parseKeyValues(fs.readFileSync(file, 'utf8')).oom_kill ?? 0);
    } catch {
      return 0; // the cgroup is gone
    }
  };
  let seen = read();
  const watcher = fs.watch(file, () => {
    const now = read();
    if (now > seen) onOom();
    seen = Math.max(seen, now);
  });
  watcher.on('error', () => watcher.close());
  return { stop: () => watcher.close() };
}

/** Calls onOom at each OOM kill in the container's cgroup; null when the host offers no way to hear of it. */
export function watchOom(cgroups: CgroupManager, onOom: () => void): OomWatch | null {
  const v1 = cgroups.controllerPath('memory');
  if (v1 && fs.existsSync(path.join(v1, 'memory.oom_control'))) return watchV1(v1, onOom);
  const v2 = cgroups.controllerPath('unified');
  if (v2 && fs.existsSync(path.join(v2, 'memory.events'))) return watchV2(v2, onOom);
  return null;
}
