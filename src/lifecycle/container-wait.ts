// Waiting, in the foreground of `run` and `exec`, for the container's process to end.
import { native, type WaitResult } from '../native';

/**
 * Waits for `pid` (our child, or our orphan as a subreaper), reaping every other
 * orphan of ours that ends first. While tsrun works on its event loop meanwhile
 * (`needsEventLoop`: it copies a console or a terminal's stdio piped, or relays a
 * NOTIFY_SOCKET's READY=), the loop must go on: the wait runs on a worker thread.
 * Otherwise nothing needs the loop (signals are forwarded by the addon's handler),
 * and the wait blocks this thread: no thread pool started for it.
 */
export async function waitForContainerProcess(pid: number, needsEventLoop: boolean): Promise<WaitResult> {
  const nat = native();
  return needsEventLoop ? nat.waitPidAsync(pid, true) : nat.waitPid(pid, true);
}
