// `ps`: the processes of a container, i.e. of its cgroup (and sub-cgroups).
import { childProcess } from '../child-process';
import { TsrunError } from '../errors';
import { Container } from './container';

export function containerPids(root: string, id: string): number[] {
  const container = Container.open(root, id);
  return container.cgroups.pids();
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
