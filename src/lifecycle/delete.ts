// `delete`: remove a stopped (or, with --force, any) container and everything tsrun
// created for it: processes, cgroups, the state dir. Also cleans what a crashed
// `create` left (a state dir with or without state.json).
import * as fs from 'fs';
import * as path from 'path';
import { ContainerNotFoundError, ContainerStateError } from '../errors';
import { log } from '../log';
import { native } from '../native';
import { validateContainerId } from '../state/ids';
import { StateStore } from '../state/store';
import { Container } from './container';
import { crashPoint } from '../crash-point';
import { hookState, hooksOf, runHooksWarnOnly } from './hooks';
import { cgroupProcessesAreItsOwn, hasOwnCgroup, hasOwnPidNamespace } from './cgroup-ownership';
import { signalAll } from './kill';
import { readCgroupFile } from '../cgroups/manager';

/**
 * `only`: delete the container only while it is still the one this command made (its
 * init's pid and start time): `run` deletes its container once it has exited, and by
 * then a `delete --force` from elsewhere may have removed it and a `create` made a
 * new one of the same id, which is not ours to kill.
 */
export function deleteContainer(root: string, id: string, force = false, only?: { pid: number; startTime: string }): void {
  validateContainerId(id);
  const store = new StateStore(root);
  // The lock first, then the state: a delete that read the state before waiting for
  // the lock would act on what another command (a running create, another delete)
  // has changed or removed meanwhile.
  let unlock: () => void;
  try {
    unlock = store.lock(id);
  } catch (e) {
    // runc 1.1 answers a forced delete of a container that is already gone with
    // success and no message; the runc shim always sends one after `delete`. A
    // concurrent delete that removed it while we waited ends up here too.
    if (e instanceof ContainerNotFoundError) {
      // A create or delete of it killed midway may have left its dir under a
      // temporary name (store.ts): this retry is what removes it.
      store.sweepAbandoned();
      if (force) return;
    }
    throw e;
  }
  try {
    const state = store.readIfAny(id);
    if (state === null) {
      // A create that died before writing state.json (create holds this lock while
      // it runs, so it is not running any more): nothing but the dir exists. It goes,
      // and, as with runc, only --force makes that a success: there was no container.
      store.remove(id);
      if (force) return;
      throw new ContainerNotFoundError(id);
    }
    if (only && (state.pid !== only.pid || state.startTime !== only.startTime)) {
      log.debug(`delete ${id}: the container of that id is not the one this command made: left alone`);
      return;
    }
    const container = new Container(store, id, state, true);
    const status = container.status();
    if (status !== 'stopped' && status !== 'created' && !force) {
      throw new ContainerStateError(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    destroy(container);
  } finally {
    unlock();
  }
}

/** Kill whatever still runs, wait for it to go, then remove cgroups and state. */
export function destroy(container: Container): void {
  const nat = native();
  // Decided once: a recorded pid that is not our init any more (reused by another
  // process) is neither signalled nor waited for.
  const initAlive = container.alive();
  if (initAlive) {
    try {
      nat.pidfdKill(container.state.pid, 9, container.state.startTime);
    } catch {
      // already gone
    }
  }
  // With a pid namespace of its own, processes put into its cgroups from outside are
  // spared (cgroup-ownership.ts), while it runs and once it has stopped: the cgroups
  // they keep busy are left, as runc leaves them.
  const sparing = container.state.status !== 'creating' && hasOwnPidNamespace(container) && hasOwnCgroup(container);
  try {
    if (cgroupProcessesAreItsOwn(container, initAlive)) {
      // Every other process of the container too (a shared pid namespace, a crash).
      for (const pid of signalAll(container, 9)) nat.waitExit(pid, 5000);
    } else if (sparing && initAlive && container.cgroups.isFrozen()) {
      // Paused: the namespace's processes die of the init's end only once thawed.
      container.cgroups.thaw();
    }
  } catch (e) {
    log.warn(`killing the processes of ${container.id}: ${(e as Error).message}`);
  }
  // An init killed by SIGKILL that still exits slowly is waiting in the kernel for
  // its pid namespace to empty: a zombie there whose parent (outside, such as a
  // subreaper that adopted an exec'd process) has not reaped it keeps it alive.
  const initExited = !initAlive || nat.waitExit(container.state.pid, 5000);
  if (!initExited) {
    log.warn(`the init (pid ${container.state.pid}) of ${container.id} has not exited 5 s after SIGKILL; is a zombie of its pid namespace left unreaped by its parent?`);
  }
  crashPoint('delete:killed');
  let notes: string[];
  try {
    notes = container.cgroups.destroy();
  } catch (e) {
    // The init has gone, and its pid namespace with it: a process still in one of its
    // cgroups is not the container's. Any other failure stands.
    if (!sparing || !initExited || !holdsProcesses(Object.values(container.state.cgroupPaths ?? {}))) throw e;
    notes = [`${(e as Error).message} (processes that are not the container's are left in it)`];
  }
  for (const note of notes) log.warn(note);
  crashPoint('delete:cgroups');
  container.store.remove(container.id);
  // After the container is gone; a failure is a warning (runtime spec).
  const poststop = hooksOf(container.state).poststop;
  if (poststop?.length) runHooksWarnOnly('poststop', poststop, hookState(container.state, 'stopped'));
}

/** Whether a process is in one of these cgroup dirs or below them (a nested container's). */
function holdsProcesses(dirs: readonly string[]): boolean {
  return dirs.some((dir) => {
    try {
      if ((readCgroupFile(dir, 'cgroup.procs') ?? '') !== '') return true;
      return holdsProcesses(fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name)));
    } catch {
      return false;
    }
  });
}
