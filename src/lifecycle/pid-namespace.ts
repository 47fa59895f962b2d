// The processes of a container without a cgroup of its own (rootless, no cgroup
// delegated), found by their pid namespace: every process of the container, exec'd
// ones too, is in the namespace its init made. The caller owns the container's user
// namespace, so it may read their namespace links.
import * as fs from 'fs';
import { processStartTime } from '../state/status';

export interface NamespaceMember {
  pid: number;
  /** Read before the namespace link: a pid reused after it is not this process. */
  startTime: string;
}

/**
 * The processes in the pid namespace of `pid`, the process started at `startTime`, by
 * pid; [] once that process is gone. Its start time is read after its namespace link:
 * a pid reused in between (the init gone, another process in the host's namespace)
 * would otherwise make every process of that namespace a member.
 */
export function pidNamespaceMembers(pid: number, startTime: string): NamespaceMember[] {
  const own = pidNamespaceOf(pid);
  if (own === undefined || processStartTime(pid) !== startTime) return [];
  const members: NamespaceMember[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const candidate = Number(entry);
    if (!Number.isInteger(candidate) || candidate <= 0) continue;
    const startTime = processStartTime(candidate);
    if (startTime !== null && pidNamespaceOf(candidate) === own) members.push({ pid: candidate, startTime });
  }
  return members.sort((a, b) => a.pid - b.pid);
}

/** The pid namespace of a process (its link's text), undefined once it is gone. */
function pidNamespaceOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}
