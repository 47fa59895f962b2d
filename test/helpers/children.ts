// The test's own child processes (spawned sleepers placed in test cgroups): waited
// for, and killed by pid, never by name.
import type { ChildProcess } from 'child_process';

/** Resolves with the child's exit signal, or its exit code, once it has exited. */
export function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

/** SIGKILLs the child if it still runs and waits for its exit, at most 5 s. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = exited(child);
  process.kill(child.pid, 'SIGKILL');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
}
