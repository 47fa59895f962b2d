// Which processes in a container's cgroups tsrun may take for the container's
// (and kill, for delete and kill --all) once its init cannot vouch for them.
import type { Spec } from '../config/types';
import type { ContainerState } from '../state/types';
import type { Container } from './container';

/** The container has cgroups of its own recorded (a rootless one without a delegated cgroup has none). */
export function hasOwnCgroup(container: Container): boolean {
  return Object.keys(container.state.cgroupPaths ?? {}).length > 0;
}

/** Whether the container has a pid namespace of its own (not one joined by path). */
export function hasOwnPidNamespace(container: Container): boolean {
  const namespaces = (container.state.config as unknown as Spec).linux?.namespaces ?? [];
  return namespaces.some((n) => n.type === 'pid' && !n.path);
}

/**
 * Whether whatever is in the container's cgroups now may be taken for the
 * container's and killed. Never touch a process tsrun did not start (DESIGN.md
 * section 5):
 * - With a pid namespace of its own, every process of the container is in it: the
 *   init's end takes them all (the kernel kills the rest of the namespace). While the
 *   init lives, anything else in its cgroups was put there from outside (a host tool,
 *   a container whose cgroup is nested below) and is left alone, as runc leaves it.
 *   Once a finished container's init is gone, whatever is there was created since
 *   into the leaf it left empty.
 * - Without one, while its init lives, they are its own: create refused a cgroup
 *   anyone was in, and no other create accepts it while the init is there.
 * - A create that died before it spawned its init: none of them.
 * - Otherwise (a create that died halfway, whose processes may wait there forever
 *   for it; a shared pid namespace, whose processes may outlive the init, killed
 *   as runc does) they are taken for its own unless another container of this
 *   --root records one of the same dirs: one created since into a leaf this one
 *   left empty, or one whose cgroup a create that died before accepting it named.
 *   (Another --root's container in the same dirs is not seen: a limit.)
 */
export function cgroupProcessesAreItsOwn(container: Container, initAlive: boolean): boolean {
  const dirs = Object.values(container.state.cgroupPaths ?? {});
  if (dirs.length === 0) return false;
  const ownPidNamespace = hasOwnPidNamespace(container);
  // A create that died halfway may have left its own first process (outside the pid
  // namespace it forked the init into) in the cgroups: not spared.
  const finished = container.state.status !== 'creating';
  // A create that died before it spawned anything (no pid recorded) has had no process
  // there: the dirs may be another's, with processes create was yet to refuse.
  if (!finished && !container.state.pid) return false;
  if (initAlive) return !(finished && ownPidNamespace);
  if (finished && ownPidNamespace) return false;
  // Reading every state of the --root only when there is something to kill.
  return container.cgroups.pids().length > 0 && !recordedByAnother(container, new Set(dirs));
}

/** Whether another container of the same --root records one of `dirs` as its cgroup. */
function recordedByAnother(container: Container, dirs: Set<string>): boolean {
  for (const id of container.store.list()) {
    if (id === container.id) continue;
    let other: ContainerState | null;
    try {
      other = container.store.readIfAny(id);
    } catch {
      continue; // corrupt or going away: it claims nothing
    }
    if (Object.values(other?.cgroupPaths ?? {}).some((d) => dirs.has(d))) return true;
  }
  return false;
}
