// Real cgroups on this machine (root only). Everything lives under an absolute,
// random path (/tsrun-test-cg-<hex>/c1) that this test creates, so no existing
// cgroup is written to; afterAll removes it whatever happened.
import { spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { removeCgroupDir } from '../../scripts/lib/host-scope';
import { killChild } from '../helpers/children';
import { createCgroupManager, type CgroupManager } from '../../src/cgroups';
import { detectCgroupLayout } from '../../src/cgroups/detect';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const suite = isRoot && fs.existsSync('/sys/fs/cgroup') ? describe : describe.skip;

const parent = `tsrun-test-cg-${crypto.randomBytes(4).toString('hex')}`;
const cgroupsPath = `/${parent}/c1`;
const children: ChildProcess[] = [];

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

function procCgroups(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
}

suite('cgroups on the real machine', () => {
  let m: CgroupManager;

  afterAll(async () => {
    const hierarchies = detectCgroupLayout().hierarchies;
    // A task in a frozen v1 cgroup does not act on SIGKILL until thawed.
    for (const h of hierarchies) {
      const leaf = path.join(h.mountPoint, parent, 'c1');
      try {
        if (h.controllers.includes('freezer')) fs.writeFileSync(path.join(leaf, 'freezer.state'), 'THAWED');
        if (h.kind === 'v2' && fs.existsSync(path.join(leaf, 'cgroup.freeze'))) fs.writeFileSync(path.join(leaf, 'cgroup.freeze'), '0');
      } catch {
        // not there: nothing to thaw
      }
    }
    for (const c of children) await killChild(c);
    for (const h of hierarchies) {
      for (const dir of [path.join(h.mountPoint, parent, 'c1'), path.join(h.mountPoint, parent)]) {
        removeCgroupDir(dir); // waits out EBUSY while a killed task leaves
      }
    }
  });

  test('create makes the cgroup in every hierarchy, below the mount points only', () => {
    const info = detectCgroupLayout();
    m = createCgroupManager({ cgroupsPath, id: 'c1' });
    expect(m.layout).toBe(info.layout);
    const paths = m.paths();
    expect(Object.keys(paths).sort()).toEqual(info.hierarchies.map((h) => h.key).sort());
    for (const h of info.hierarchies) expect(paths[h.key]).toBe(path.join(h.mountPoint, parent, 'c1'));
    m.create();
    for (const dir of Object.values(paths)) expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(m.created()).toEqual(info.hierarchies.flatMap((h) => [path.join(h.mountPoint, parent), path.join(h.mountPoint, parent, 'c1')]));
    const cpuset = m.controllerPath('cpuset');
    if (cpuset) expect(fs.readFileSync(path.join(cpuset, 'cpuset.cpus'), 'utf8').trim()).not.toBe('');
  });

  test('apply moves a process into every hierarchy', () => {
    const child = sleeper();
    m.apply(child.pid as number);
    const lines = procCgroups(child.pid as number);
    expect(lines.length).toBeGreaterThan(0);
    // tsrun uses every mounted hierarchy; on hybrid that includes the "0::" line
    for (const line of lines) {
      const [, controllers, p] = line.split(':');
      expect(`${controllers}:${p}`).toBe(`${controllers}:${cgroupsPath}`);
    }
    expect(m.pids()).toEqual([child.pid]);
  });

  /** Runs `script` in sh once it is in the cgroup; the lines it printed. */
  const linesInCgroup = async (script: string): Promise<string[]> => {
    const probe = spawn('sh', ['-c', `read x; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(probe);
    let out = '';
    probe.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => probe.once('exit', () => resolve()));
    m.apply(probe.pid as number);
    probe.stdin?.end('go\n');
    await exited;
    return out.split('\n').filter(Boolean);
  };

  test('devices: runc\'s default list, and it is enforced (v1 only)', async () => {
    const devices = m.controllerPath('devices');
    if (!devices) return;
    m.setDevices([{ allow: false, access: 'rwm' }]);
    const list = fs.readFileSync(path.join(devices, 'devices.list'), 'utf8').split('\n').filter(Boolean).sort();
    // devices.list of a runc 1.1.5 container with `runc spec`'s rules
    expect(list).toEqual(['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm'].sort());

    expect(await linesInCgroup('if (exec 3</dev/kmsg) 2>/dev/null; then echo kmsg-open; else echo kmsg-denied; fi; if (exec 3</dev/zero); then echo zero-open; fi')).toEqual(['kmsg-denied', 'zero-open']);
  });

  test('devices: allow all but one device, as runc takes it (v1 only): that device refuses open and mknod, others stay open', async () => {
    const devices = m.controllerPath('devices');
    if (!devices) return;
    // /dev/kmsg (c 1:11): runc's default "allow c *:* m" after the deny cannot reach it.
    m.setDevices([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'rwm' }]);
    expect(fs.readFileSync(path.join(devices, 'devices.list'), 'utf8')).toBe('a *:* rwm\n');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-devices-'));
    try {
      const script = `if (exec 3</dev/kmsg) 2>/dev/null; then echo kmsg-open; else echo kmsg-denied; fi; ` +
        `mknod ${dir}/kmsg c 1 11 2>/dev/null && echo kmsg-made || echo kmsg-mknod-denied; mknod ${dir}/null c 1 3 && echo null-made; if (exec 3</dev/zero); then echo zero-open; fi`;
      expect(await linesInCgroup(script)).toEqual(['kmsg-denied', 'kmsg-mknod-denied', 'null-made', 'zero-open']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('freeze and thaw a sleeping process', () => {
    const pid = children[0].pid as number;
    m.freeze();
    expect(m.isFrozen()).toBe(true);
    const freezer = m.controllerPath('freezer');
    if (freezer) expect(fs.readFileSync(path.join(freezer, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    m.thaw();
    expect(m.isFrozen()).toBe(false);
    if (freezer) expect(fs.readFileSync(path.join(freezer, 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
  });

  test('destroy refuses while a process lives, then removes the leaf (not the shared parent) once it is gone', async () => {
    expect(() => m.destroy()).toThrow(/EBUSY/);
    for (const dir of Object.values(m.paths())) expect(fs.existsSync(dir)).toBe(true);
    for (const c of children) await killChild(c);
    m.destroy();
    for (const dir of Object.values(m.paths())) {
      expect(fs.existsSync(dir)).toBe(false);
      // Left for siblings, as runc leaves it; afterAll removes it.
      expect(fs.existsSync(path.dirname(dir))).toBe(true);
    }
    expect(m.created().every((d) => !Object.values(m.paths()).includes(d))).toBe(true);
  });
});
