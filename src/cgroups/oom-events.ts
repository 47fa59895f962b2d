// OOM notifications of a container's cgroup, for `events` (runc prints {"type":"oom"}
// objects as they happen). cgroup v1: an eventfd registered on memory.oom_control,
// which the kernel signals at each OOM of the cgroup and once more when the cgroup
// goes away. cgroup v2: memory.events, watched (inotify, through fs.watch) for rises
// of its oom_kill counter, and cgroup.events for the cgroup emptying.
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../native';
import type { CgroupManager } from './manager';
import { parseKeyValues } from './stats';

export interface OomWatch {
  stop(): void;
}

export interface OomListener {
  /**
   * One call each time the kernel is found to have reported OOMs since the last look,
   * however many it counted meanwhile: runc sends one event per read of the counter,
   * and one kill in a cgroup with a swap limit can count dozens of notifications.
   */
  oom(): void;
  /** The cgroup is gone (v1) or has no process left (v2): no OOM can follow. */
  gone(): void;
}

function watchV1(dir: string, listener: OomListener): OomWatch {
  const fd = native().oomEventFd(dir);
  let stopped = false;
  const counter = Buffer.alloc(8);
  // A blocking read on the thread pool: the event loop stays free for the stats timer.
  // stop() wakes it by adding to the counter itself; the fd is closed only here, once
  // no read is pending on it.
  let closed = false;
  const close = (): void => {
    closed = true;
    fs.closeSync(fd);
  };
  const next = (): void => {
    fs.read(fd, counter, 0, 8, null, (err) => {
      if (stopped || err) return close();
      // The counter holds the notifications since the last read; removing the cgroup
      // adds one that is no OOM.
      let notifications = Number(counter.readBigUInt64LE(0));
      const gone = !fs.existsSync(path.join(dir, 'cgroup.event_control'));
      if (gone) notifications--;
      if (notifications > 0) listener.oom();
      if (gone) {
        close();
        return listener.gone();
      }
      next();
    });
  };
  next();
  return {
    stop: () => {
      if (stopped || closed) return;
      stopped = true;
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n, 0);
      fs.writeSync(fd, one);
    },
  };
}

function watchV2(dir: string, listener: OomListener): OomWatch {
  const read = (name: string, key: string): number => {
    try {
      return Number(parseKeyValues(fs.readFileSync(path.join(dir, name), 'utf8'))[key] ?? 0);
    } catch {
      return 0; // the cgroup is gone
    }
  };
  let seen = read('memory.events', 'oom_kill');
  const checkKills = (): void => {
    const now = read('memory.events', 'oom_kill');
    if (now > seen) listener.oom();
    seen = Math.max(seen, now);
  };
  const memory = fs.watch(path.join(dir, 'memory.events'), checkKills);
  // A kill between the first read and the watch would otherwise wait for the next change.
  checkKills();
  let cgroup: fs.FSWatcher | undefined;
  const stop = (): void => {
    memory.close();
    cgroup?.close();
  };
  cgroup = fs.watch(path.join(dir, 'cgroup.events'), () => {
    if (read('cgroup.events', 'populated') !== 0) return;
    checkKills();
    stop();
    listener.gone();
  });
  memory.on('error', stop);
  cgroup.on('error', stop);
  return { stop };
}

/**
 * Calls the listener at each OOM notification of the container's cgroup. Null when
 * the host offers no way to hear of them (no memory controller for the container).
 */
export function watchOom(cgroups: CgroupManager, listener: OomListener): OomWatch | null {
  const v1 = cgroups.controllerPath('memory');
  if (v1 && fs.existsSync(path.join(v1, 'memory.oom_control'))) return watchV1(v1, listener);
  const v2 = cgroups.controllerPath('unified');
  if (v2 && fs.existsSync(path.join(v2, 'memory.events'))) return watchV2(v2, listener);
  return null;
}
