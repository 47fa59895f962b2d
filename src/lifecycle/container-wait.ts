// Waiting, in the foreground of `run` and `exec`, for the container's process to end.
import { native, type WaitResult } from '../native';

/**
 * Waits for `pid` (our child, or our orphan as a subreaper), reaping every other
 * orphan of ours that ends first. While tsrun copies on its event loop (`copying`: a
 * console, or a terminal's stdio piped), the loop must go on: the wait runs on a
 * worker thread. Otherwise nothing needs the loop (signals are forwarded by the
 * addon's handler), and the wait blocks this thread: no thread pool started for it.
 */
export async function waitForContainerProcess(pid: number, copying: boolean): Promise<WaitResult> {
  const nat = native();
  return copying ? nat.waitPidAsync(pid, true) : nat.waitPid(pid, true);
}
