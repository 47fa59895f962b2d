// The v2 driver on this machine's real cgroup2 mount. On the hybrid layout the
// unified hierarchy sits at /sys/fs/cgroup/unified with no controllers enabled
// for children (its root's cgroup.subtree_control is empty, and the root is not
// ours to change), so what is tested here is everything v2 does without
// controllers: mkdir/rmdir, placing processes, cgroup.freeze, cgroup.kill, the
// core files (unified cgroup.* keys), the "controller not available" refusal,
// and stats from cpu.stat. Controller limits are covered against a fake tree in
// test/unit/cgroups-resources.test.ts. Everything lives under a random parent
// this file creates and removes.
import { spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { removeCgroupDir } from '../../scripts/lib/host-scope';
import { exited, killChild } from '../helpers/children';
import { createCgroupManager, type CgroupManager } from '../../src/cgroups';
import { ConfigError } from '../../src/errors';

const UNIFIED = '/sys/fs/cgroup/unified';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasUnified = fs.existsSync(path.join(UNIFIED, 'cgroup.controllers'));
const suite = isRoot && hasUnified ? describe : describe.skip;

const parent = `tsrun-test-v2-${crypto.randomBytes(4).toString('hex')}`;
const leaf = path.join(UNIFIED, parent, 'c1');
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function events(): Record<string, string> {
  return Object.fromEntries(fs.readFileSync(path.join(leaf, 'cgroup.events'), 'utf8').trim().split('\n').map((l) => l.split(' ')));
}

suite('v2 driver on the real cgroup2 mount', () => {
  let m: CgroupManager;

  afterAll(async () => {
    try {
      if (fs.existsSync(path.join(leaf, 'cgroup.freeze'))) fs.writeFileSync(path.join(leaf, 'cgroup.freeze'), '0');
    } catch {
      // gone already
    }
    for (const c of children) await killChild(c);
    for (const dir of [leaf, path.join(UNIFIED, parent)]) {
      removeCgroupDir(dir); // waits out EBUSY while a killed task leaves
    }
  });

  test('create makes the dirs under the unified mount, with the v2 driver', () => {
    m = createCgroupManager({ root: UNIFIED, cgroupsPath: `/${parent}/c1`, id: 'c1' });
    expect(m.layout).toBe('unified');
    expect(m.paths()).toEqual({ unified: leaf });
    m.create();
    expect(fs.statSync(leaf).isDirectory()).toBe(true);
    expect(m.created()).toEqual([path.join(UNIFIED, parent), leaf]);
  });

  test('apply places a process; pids lists it', () => {
    const child = sleeper();
    m.apply(child.pid!);
    expect(fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`0::/${parent}/c1\n`);
    expect(m.pids()).toEqual([child.pid]);
    expect(events().populated).toBe('1');
  });

  test('freeze and thaw through cgroup.freeze', () => {
    m.freeze();
    expect(m.isFrozen()).toBe(true);
    expect(events().frozen).toBe('1');
    m.thaw();
    expect(m.isFrozen()).toBe(false);
    expect(events().frozen).toBe('0');
  });

  test('core files through unified; controllers that are not enabled are refused naming the field', () => {
    expect(m.set({ unified: { 'cgroup.max.depth': '3' } })).toEqual([]);
    expect(fs.readFileSync(path.join(leaf, 'cgroup.max.depth'), 'utf8').trim()).toBe('3');
    const controllers = fs.readFileSync(path.join(leaf, 'cgroup.controllers'), 'utf8').trim();
    if (!controllers.split(' ').includes('pids')) {
      let err: unknown;
      try {
        m.set({ pids: { limit: 5 } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('linux.resources.pids.limit');
      expect((err as Error).message).toMatch(/the pids controller is not available in this cgroup/);
    }
    expect(() => m.set({ unified: { 'cgroup.procs': '1' } })).toThrow(/linux.resources.unified.cgroup.procs/);
  });

  test('stats come from cpu.stat in runc\'s shape', () => {
    const s = m.stats();
    expect(typeof s.cpu.usage.total).toBe('number');
    expect(s.cpu.usage.total).toBeGreaterThanOrEqual(s.cpu.usage.user);
    expect(s.network_interfaces).toBeNull();
  });

  test('killAll SIGKILLs every process through cgroup.kill', async () => {
    const second = sleeper();
    m.apply(second.pid!);
    expect(m.pids()).toHaveLength(2);
    expect(m.killAll()).toBe(true);
    const signals = await Promise.all(children.map(exited));
    expect(signals).toEqual(['SIGKILL', 'SIGKILL']);
    expect(m.pids()).toEqual([]);
  });

  test('destroy removes the leaf create made and leaves the parent to its siblings', () => {
    m.destroy();
    expect(fs.existsSync(leaf)).toBe(false);
    expect(fs.existsSync(path.join(UNIFIED, parent))).toBe(true);
  });
});
