// OOM notifications on cgroup v2: memory.events watched for a rise of oom_kill. This
// host's cgroup2 mount has no memory controller, so the v2 path is checked against a
// file of that shape (inotify reports its writes as the kernel's cgroup files do);
// the v1 eventfd path runs for real in test/integration/cgroups-resources.test.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { watchOom } from '../../src/cgroups/oom-events';
import type { CgroupManager } from '../../src/cgroups/manager';

const manager = (dirs: Record<string, string>): CgroupManager => ({ controllerPath: (c: string) => dirs[c] }) as unknown as CgroupManager;

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('OOM watch', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oom-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('v2: one call per rise of oom_kill, none for other changes or for what was there before', async () => {
    const events = path.join(dir, 'memory.events');
    fs.writeFileSync(events, 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    let calls = 0;
    const watch = watchOom(manager({ unified: dir }), () => calls++);
    expect(watch).not.toBeNull();
    try {
      fs.writeFileSync(events, 'low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(calls).toBe(0);
      fs.writeFileSync(events, 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n');
      await until(() => calls === 1);
      expect(calls).toBe(1);
      fs.writeFileSync(events, 'low 0\nhigh 0\nmax 9\noom 3\noom_kill 4\n');
      await until(() => calls === 2);
      expect(calls).toBe(2);
    } finally {
      watch?.stop();
    }
  });

  test('no memory controller to watch: null (events goes on with stats only)', () => {
    expect(watchOom(manager({ unified: dir }), () => undefined)).toBeNull();
    expect(watchOom(manager({}), () => undefined)).toBeNull();
  });
});
