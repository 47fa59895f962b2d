// Reaping detached container processes when the test process is a subreaper.
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
