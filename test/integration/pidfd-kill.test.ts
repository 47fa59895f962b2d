// pidfdKill with a recorded start time: the process is checked after its pidfd is
// open, so a process that reused a container's pid is never signalled.
import { spawn } from 'child_process';
import { native } from '../../src/native';
import { processStartTime } from '../../src/state/status';

describe('pidfdKill', () => {
  test('signals the recorded process, refuses one whose start time differs', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      const pid = child.pid as number;
      const start = processStartTime(pid);
      expect(start).not.toBeNull();
      let error: NodeJS.ErrnoException | undefined;
      try {
        native().pidfdKill(pid, 9, String(Number(start) + 1));
      } catch (e) {
        error = e as NodeJS.ErrnoException;
      }
      expect(error?.code).toBe('ESRCH');
      expect(processStartTime(pid)).toBe(start); // still alive
      native().pidfdKill(pid, 9, start as string);
      expect(await exited).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
