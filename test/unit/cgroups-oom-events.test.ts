// OOM notifications on cgroup v2: memory.events watched for rises of oom_kill, and
// cgroup.events for the cgroup emptying. This host's cgroup2 mount has no memory
// controller, so the v2 path is checked against files of that shape (inotify reports
// their writes as it does the kernel's cgroup files); the v1 eventfd path runs for
// real in test/integration/cgroups-resources.test.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { watchOom } from '../../src/cgroups/oom-events';
import type { CgroupManager } from '../../src/cgroups/manager';
import { native } from '../../src/native';

const manager = (dirs: Record<string, string>): CgroupManager => ({ controllerPath: (c: string) => dirs[c] }) as unknown as CgroupManager;

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}
const settle = () => new Promise((r) => setTimeout(r, 100));

describe('OOM watch', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-oom-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('v2: one call per rise of oom_kill seen (runc: one event per read), none for other changes or for what was there before; gone once the cgroup empties', async () => {
    const events = path.join(dir, 'memory.events');
    const cgroupEvents = path.join(dir, 'cgroup.events');
    const memory = (oom: number, kills: number, max = 4) => fs.writeFileSync(events, `low 0\nhigh 0\nmax ${max}\noom ${oom}\noom_kill ${kills}\n`);
    memory(1, 1);
    fs.writeFileSync(cgroupEvents, 'populated 1\nfrozen 0\n');
    let ooms = 0;
    let gone = 0;
    const watch = watchOom(manager({ unified: dir }), { oom: () => ooms++, gone: () => gone++ });
    expect(watch).not.toBeNull();
    try {
      memory(1, 1, 9); // another counter
      memory(2, 1, 9); // an OOM that killed nothing (oom, not oom_kill)
      await settle();
      expect(ooms).toBe(0);
      memory(3, 2, 9);
      await until(() => ooms === 1);
      expect(ooms).toBe(1);
      memory(4, 4, 9); // two kills between two reads: one call
      await until(() => ooms === 2);
      await settle();
      expect(ooms).toBe(2);
      fs.writeFileSync(cgroupEvents, 'populated 0\nfrozen 0\n');
      await until(() => gone === 1);
      expect(gone).toBe(1);
      memory(5, 5, 9); // the watch has stopped
      await settle();
      expect(ooms).toBe(2);
    } finally {
      watch?.stop();
    }
  });

  test('v1: one call per read of the eventfd counter, however many notifications it holds (runc); the removal\'s own notification is none', async () => {
    // The kernel's eventfd stands in as a pipe carrying the 8-byte counter values it would give.
    fs.writeFileSync(path.join(dir, 'memory.oom_control'), 'oom_kill_disable 0\n');
    fs.writeFileSync(path.join(dir, 'cgroup.event_control'), '');
    const [readEnd, writeEnd] = native().pipe();
    const counter = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n), 0);
      fs.writeSync(writeEnd, b);
    };
    const eventFd = jest.spyOn(native(), 'oomEventFd').mockReturnValue(readEnd);
    let ooms = 0;
    let gone = 0;
    try {
      const watch = watchOom(manager({ memory: dir }), { oom: () => ooms++, gone: () => gone++ });
      expect(watch).not.toBeNull();
      counter(57); // one kill under a swap limit: dozens of notifications, one read
      await until(() => ooms === 1);
      await settle();
      expect(ooms).toBe(1);
      counter(2);
      await until(() => ooms === 2);
      expect(ooms).toBe(2);
      fs.rmSync(path.join(dir, 'cgroup.event_control')); // the cgroup is removed: the kernel signals once
      counter(1);
      await until(() => gone === 1);
      expect({ ooms, gone }).toEqual({ ooms: 2, gone: 1 });
    } finally {
      eventFd.mockRestore();
      native().closeFd(writeEnd);
    }
  });

  test('no memory controller to watch: null (events goes on with stats only)', () => {
    const listener = { oom: () => undefined, gone: () => undefined };
    expect(watchOom(manager({ unified: dir }), listener)).toBeNull();
    expect(watchOom(manager({}), listener)).toBeNull();
  });
});
