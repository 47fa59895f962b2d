// `ps`: the processes of a container, i.e. of its cgroup (and sub-cgroups), or, for a
// rootless container without a cgroup of its own, of its pid namespace.
import { childProcess } from '../child-process';
import { TsrunError } from '../errors';
import { exists } from '../host-files';
import { hasOwnCgroup, hasOwnPidNamespace } from './cgroup-ownership';
import { Container } from './container';
import { pidNamespaceMembers } from './pid-namespace';

export function containerPids(root: string, id: string): number[] {
  const container = Container.open(root, id);
  if (hasOwnCgroup(container)) {
    const pids = container.cgroups.pids();
    // A live container whose cgroup someone removed or renamed: its processes are
    // somewhere else, and an empty list would say it has none (runc fails here too).
    if (pids.length === 0 && container.alive()) {
      const gone = Object.values(container.cgroups.paths()).find((dir) => !exists(dir));
      if (gone !== undefined) throw new TsrunError(`the container's cgroup ${gone} no longer exists: its processes cannot be listed`);
    }
    return pids;
  }
  return pidNamespacePids(container);
}

/**
 * A container without a cgroup of its own (rootless, no cgroup delegated): its
 * processes are those of its pid namespace (runc fails here: it lists through cgroups
 * only). A container in a pid namespace it does not own has no way to be told apart:
 * an error, not a list that would leave processes out.
 */
function pidNamespacePids(container: Container): number[] {
  if (!hasOwnPidNamespace(container)) {
    throw new TsrunError(`container ${container.id} has neither a cgroup nor a pid namespace of its own: its processes cannot be told from others`);
  }
  if (!container.alive()) return [];
  return pidNamespaceMembers(container.state.pid, container.state.startTime).map((m) => m.pid);
}

/**
 * Keeps the header of ps(1) output and the lines whose PID column is one of
 * `pids`, as runc does (it finds the column by its "PID" header).
 */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new TsrunError("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const kept = [header];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const pid = Number(line.trim().split(/\s+/)[pidIndex]);
    if (wanted.has(pid)) kept.push(line);
  }
  return kept.join('\n') + '\n';
}

/** Runs the host's ps with `args` (default -ef) and filters it to the container. */
export function containerPsTable(root: string, id: string, args: readonly string[]): string {
  const pids = containerPids(root, id);
  const r = childProcess().spawnSync('ps', args.length > 0 ? [...args] : ['-ef'], { encoding: 'utf8' });
  if (r.error) throw new TsrunError(`running ps: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) throw new TsrunError(`ps ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return filterPsOutput(r.stdout, pids);
}
