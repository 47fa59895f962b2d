// The test suites' receivers of an fd sent to a socket (Node cannot receive
// SCM_RIGHTS): build/Release/tsrun-test-recvtty for --console-socket, and
// tsrun-test-pidfd-receiver for --pidfd-socket. Each listens on a path given to it and
// says "listening" on stderr once a runtime may connect.
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import { repoRoot, waitFor } from './runtime';

export interface StartedReceiver {
  child: ChildProcessWithoutNullStreams;
  /** What it has written so far. */
  out(): string;
  err(): string;
  /** Its end, with all it wrote. */
  done: Promise<{ out: string; err: string; code: number | null }>;
  kill(): void;
}

/** Starts build/Release/`program` on `socket` (relative: to `cwd`) and waits until it listens. */
export async function startReceiver(program: 'tsrun-test-recvtty' | 'tsrun-test-pidfd-receiver', socket: string, cwd?: string): Promise<StartedReceiver> {
  const child = spawn(path.join(repoRoot(), 'build', 'Release', program), [socket], { stdio: ['pipe', 'pipe', 'pipe'], cwd });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ out: string; err: string; code: number | null }>((resolve) => child.on('close', (code) => resolve({ out, err, code })));
  await waitFor(() => err.includes('listening') || child.exitCode !== null, `${program} to listen`);
  if (!err.includes('listening')) throw new Error(`${program} ${socket}: ${err}`);
  return { child, out: () => out, err: () => err, done, kill: () => child.kill('SIGKILL') };
}
