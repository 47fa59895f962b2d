// Reaping detached container processes when the test process is a subreaper.
import * as fs from 'fs';
import { native } from '../../src/native';

/**
 * A detached exec'd process is reparented to the nearest subreaper (containerd's
 * shim in real use). When this jest process is one (native.test.ts makes it one in
 * --runInBand runs) it must reap it like a shim would, or the container's init can
 * never finish dying (its pid namespace waits for that zombie).
 */
export function reapIfOurs(pid: number): void {
  try {
    native().waitPid(pid);
  } catch {
    // not our child: the system's init reaps it
  }
}

/**
 * Reaps the zombies this process adopted from containers' pid namespaces (only
 * there: a child Node spawned itself is Node's to wait for). Returns their pids.
 */
export function reapAdoptedZombies(): number[] {
  const reaped: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${e}/status`, 'utf8');
    } catch {
      continue;
    }
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    const namespaced = field('NSpid').split(/\s+/).length > 1;
    if (field('State').startsWith('Z') && Number(field('PPid')) === process.pid && namespaced) {
      reapIfOurs(Number(e));
      reaped.push(Number(e));
    }
  }
  return reaped;
}
