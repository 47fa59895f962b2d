import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cgroupManagerFromPaths, createCgroupManager, type CreateCgroupManagerOptions } from '../../src/cgroups';
import { DEFAULT_DEVICE_RULES, deviceLines, effectiveDeviceRules } from '../../src/cgroups/devices';
import { decodeInsns, planDeviceFilter } from '../../src/cgroups/v2-devices-bpf';
import { CgroupError, ConfigError } from '../../src/errors';

// A fake cgroup tree in a temp dir. mountinfo points at it; the fake rmdir behaves
// like cgroupfs: control files vanish with the dir, a dir with processes is EBUSY.
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgfake-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(root, { recursive: true, force: true });
});

function errnoError(code: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${p}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

function fakeRmdir(dir: string): void {
  if (!fs.existsSync(dir)) throw errnoError('ENOENT', dir);
  const procs = path.join(dir, 'cgroup.procs');
  if (fs.existsSync(procs) && fs.readFileSync(procs, 'utf8').trim() !== '') throw errnoError('EBUSY', dir);
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    if (ent.isDirectory()) throw errnoError('EBUSY', dir);
    fs.unlinkSync(path.join(dir, ent.name));
  }
  fs.rmdirSync(dir);
}

// Spied on directly: an `import * as` namespace has read-only getters.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const hostFiles = require('../../src/host-files') as typeof import('../../src/host-files');

const SELF = '9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/process_api/x\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n';

const V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

function mountinfo(layout: 'hybrid' | 'legacy' | 'unified'): string {
  const lines = [`31 23 0:28 / ${root} rw,relatime - tmpfs tmpfs rw,mode=755`];
  if (layout === 'unified') {
    lines[0] = `30 25 0:26 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate`;
  } else {
    V1.forEach((c, i) => lines.push(`${32 + i} 31 0:${29 + i} / ${root}/${c} rw,relatime - cgroup cgroup rw,${c}`));
    lines.push(`40 31 0:37 / ${root}/systemd rw,relatime - cgroup cgroup rw,name=systemd`);
    if (layout === 'hybrid') lines.push(`41 31 0:38 / ${root}/unified rw,relatime - cgroup2 cgroup2 rw`);
  }
  return lines.join('\n') + '\n';
}

function makeTree(layout: 'hybrid' | 'legacy' | 'unified'): void {
  if (layout === 'unified') {
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    return;
  }
  if (fs.existsSync(path.join(root, 'cpuset'))) return;
  for (const d of [...V1, 'systemd', ...(layout === 'hybrid' ? ['unified'] : [])]) fs.mkdirSync(path.join(root, d));
  fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.cpus'), '0-3\n');
  fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.mems'), '0\n');
}

function manager(layout: 'hybrid' | 'legacy' | 'unified', over: Partial<CreateCgroupManagerOptions> = {}) {
  makeTree(layout);
  return createCgroupManager({
    cgroupsPath: '/tsrun-test/c1',
    id: 'c1',
    root,
    readMountinfo: () => mountinfo(layout),
    readSelfCgroup: () => SELF,
    rmdir: fakeRmdir,
    ...over,
  });
}

const v1Keys = [...V1, 'systemd'];

describe('v1 and hybrid drivers on a fake tree', () => {
  test.each(['hybrid', 'legacy'] as const)('%s: paths, create, apply, pids, destroy', (layout) => {
    const m = manager(layout);
    expect(m.layout).toBe(layout);
    const keys = layout === 'hybrid' ? [...v1Keys, 'unified'] : v1Keys;
    const expected = Object.fromEntries(keys.map((k) => [k, path.join(root, k, 'tsrun-test/c1')]));
    expect(m.paths()).toEqual(expected);
    expect(m.controllerPath('memory')).toBe(path.join(root, 'memory/tsrun-test/c1'));
    expect(m.controllerPath('name=systemd')).toBe(path.join(root, 'systemd/tsrun-test/c1'));
    expect(m.controllerPath('unified')).toBe(layout === 'hybrid' ? path.join(root, 'unified/tsrun-test/c1') : undefined);

    m.create();
    for (const dir of Object.values(expected)) expect(fs.statSync(dir).isDirectory()).toBe(true);
    // parents before children, per hierarchy
    expect(m.created()).toEqual(keys.flatMap((k) => [path.join(root, k, 'tsrun-test'), path.join(root, k, 'tsrun-test/c1')]));
    // cpuset copied down from the parent into every dir we made
    for (const d of ['tsrun-test', 'tsrun-test/c1']) {
      expect(fs.readFileSync(path.join(root, 'cpuset', d, 'cpuset.cpus'), 'utf8')).toBe('0-3');
      expect(fs.readFileSync(path.join(root, 'cpuset', d, 'cpuset.mems'), 'utf8')).toBe('0');
    }

    m.apply(4242);
    for (const dir of Object.values(expected)) expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')).toBe('4242');
    // a sub-cgroup the container made, with a process of its own
    const devLeaf = expected.devices;
    fs.mkdirSync(path.join(devLeaf, 'sub'));
    fs.writeFileSync(path.join(devLeaf, 'sub', 'cgroup.procs'), '77\n4242\n');
    expect(m.pids()).toEqual([77, 4242]);

    // the processes are gone (the lifecycle killed them)
    for (const dir of Object.values(expected)) fs.writeFileSync(path.join(dir, 'cgroup.procs'), '');
    fs.writeFileSync(path.join(devLeaf, 'sub', 'cgroup.procs'), '');
    m.destroy();
    // The container's own cgroups go; the parent stays for its siblings (as with runc).
    for (const k of keys) {
      expect(fs.existsSync(path.join(root, k, 'tsrun-test', 'c1'))).toBe(false);
      expect(fs.existsSync(path.join(root, k, 'tsrun-test'))).toBe(true);
    }
    m.destroy(); // idempotent
  });

  test('an existing parent is used but never removed nor written to', () => {
    makeTree('hybrid');
    fs.mkdirSync(path.join(root, 'memory', 'tsrun-test'));
    fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.cpus'), '0-3');
    fs.mkdirSync(path.join(root, 'cpuset', 'tsrun-test'));
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.cpus'), '1');
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.mems'), '0');
    const m = manager('hybrid');
    m.create();
    expect(m.created()).not.toContain(path.join(root, 'memory', 'tsrun-test'));
    expect(m.created()).toContain(path.join(root, 'memory', 'tsrun-test', 'c1'));
    expect(fs.readFileSync(path.join(root, 'cpuset', 'tsrun-test', 'c1', 'cpuset.cpus'), 'utf8')).toBe('1');
    m.destroy();
    expect(fs.existsSync(path.join(root, 'memory', 'tsrun-test'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'memory', 'tsrun-test', 'c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test', 'c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test'))).toBe(true);
  });

  test('a parent we made that another container now uses stays, without error', () => {
    const m = manager('legacy');
    m.create();
    fs.mkdirSync(path.join(root, 'pids', 'tsrun-test', 'other'));
    m.destroy();
    expect(fs.existsSync(path.join(root, 'pids', 'tsrun-test', 'other'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'pids', 'tsrun-test', 'c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test', 'c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test'))).toBe(true);
  });

  test('an existing leaf with processes is refused, and create leaves nothing behind', () => {
    makeTree('hybrid');
    fs.mkdirSync(path.join(root, 'pids', 'tsrun-test', 'c1'), { recursive: true });
    fs.writeFileSync(path.join(root, 'pids', 'tsrun-test', 'c1', 'cgroup.procs'), '1\n');
    const m = manager('hybrid');
    expect(() => m.create()).toThrow(/already exists and has processes/);
    for (const k of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio']) {
      expect(fs.readdirSync(path.join(root, k)).filter((n) => n === 'tsrun-test')).toEqual([]);
    }
    expect(fs.existsSync(path.join(root, 'pids', 'tsrun-test', 'c1'))).toBe(true);
    expect(m.created()).toEqual([]);
    m.destroy(); // what create made is already undone; nothing else is touched
    expect(fs.existsSync(path.join(root, 'pids', 'tsrun-test', 'c1'))).toBe(true);
  });

  test('an existing empty leaf is used, and destroy removes it (runc removes its cgroup paths); the parents stay', () => {
    makeTree('hybrid');
    const leaf = path.join(root, 'pids', 'tsrun-test', 'c1');
    fs.mkdirSync(leaf, { recursive: true });
    const m = manager('hybrid');
    m.create();
    expect(m.created()).not.toContain(leaf);
    m.destroy();
    expect(fs.existsSync(leaf)).toBe(false);
    expect(fs.existsSync(path.join(root, 'pids', 'tsrun-test'))).toBe(true);
  });

  test('an existing leaf with processes only in a cgroup below it is refused too', () => {
    makeTree('hybrid');
    fs.mkdirSync(path.join(root, 'memory', 'tsrun-test', 'c1', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'memory', 'tsrun-test', 'c1', 'sub', 'cgroup.procs'), '1\n');
    const m = manager('hybrid');
    expect(() => m.create()).toThrow(/tsrun-test\/c1 already exists and has processes in it or below it/);
    expect(m.created()).toEqual([]);
    expect(fs.existsSync(path.join(root, 'memory', 'tsrun-test', 'c1', 'sub'))).toBe(true);
  });

  test('with every parent there (one mkdir per leaf), the leaves made before a refusal are removed again', () => {
    makeTree('hybrid');
    for (const k of [...v1Keys, 'unified']) fs.mkdirSync(path.join(root, k, 'tsrun-test'));
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.cpus'), '0-3');
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.mems'), '0');
    // pids comes after cpu, cpuacct, cpuset, memory, devices, freezer and blkio.
    fs.mkdirSync(path.join(root, 'pids', 'tsrun-test', 'c1'));
    fs.writeFileSync(path.join(root, 'pids', 'tsrun-test', 'c1', 'cgroup.procs'), '1\n');
    const m = manager('hybrid');
    expect(() => m.create()).toThrow(/already exists and has processes/);
    for (const k of [...v1Keys, 'unified']) {
      expect({ k, parent: fs.existsSync(path.join(root, k, 'tsrun-test')), leaf: fs.existsSync(path.join(root, k, 'tsrun-test', 'c1')) }).toEqual({ k, parent: true, leaf: k === 'pids' });
    }
    expect(m.created()).toEqual([]);
  });

  test('an existing cpuset parent left empty (a sibling create not done with it yet) is filled from above', () => {
    makeTree('legacy');
    fs.mkdirSync(path.join(root, 'cpuset', 'tsrun-test'));
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.cpus'), '');
    fs.writeFileSync(path.join(root, 'cpuset', 'tsrun-test', 'cpuset.mems'), '\n');
    manager('legacy').create();
    for (const d of ['tsrun-test', 'tsrun-test/c1']) {
      expect(fs.readFileSync(path.join(root, 'cpuset', d, 'cpuset.cpus'), 'utf8')).toBe('0-3');
      expect(fs.readFileSync(path.join(root, 'cpuset', d, 'cpuset.mems'), 'utf8')).toBe('0');
    }
  });

  test('a failing mkdir undoes the dirs made in earlier hierarchies', () => {
    makeTree('legacy');
    fs.writeFileSync(path.join(root, 'memory', 'tsrun-test'), 'a file in the way');
    const m = manager('legacy');
    expect(() => m.create()).toThrow(CgroupError);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'cpuset', 'tsrun-test'))).toBe(false);
  });

  test('destroy retries a briefly busy leaf, then gives up with a clear error', () => {
    const m = manager('legacy');
    m.create();
    let busy = 2;
    const calls: string[] = [];
    const flaky = createCgroupManager({
      root, id: 'c1', readMountinfo: () => mountinfo('legacy'),
      restore: { paths: m.paths(), created: m.created() },
      rmdir: (d) => {
        calls.push(d);
        if (d.endsWith(path.join('cpu', 'tsrun-test', 'c1')) && busy-- > 0) throw errnoError('EBUSY', d);
        fakeRmdir(d);
      },
    });
    flaky.destroy();
    expect(calls.filter((c) => c.endsWith(path.join('cpu', 'tsrun-test', 'c1')))).toHaveLength(3);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test', 'c1'))).toBe(false);

    const m2 = manager('legacy');
    m2.create();
    fs.writeFileSync(path.join(root, 'freezer', 'tsrun-test', 'c1', 'cgroup.procs'), '999\n');
    expect(() => m2.destroy()).toThrow(/cannot remove cgroup: rmdir .*freezer\/tsrun-test\/c1: EBUSY/);
    // everything else was still removed
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test', 'c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'freezer', 'tsrun-test', 'c1'))).toBe(true);
  });

  test('destroy waits longer for a busy leaf that lists no process (a loaded host releasing it late)', () => {
    const m = manager('legacy');
    m.create();
    // Busy for more attempts than the first ~30 ms of retries make, with no process listed.
    let busy = 9;
    const flaky = createCgroupManager({
      root, id: 'c1', readMountinfo: () => mountinfo('legacy'),
      restore: { paths: m.paths(), created: m.created() },
      rmdir: (d) => {
        if (d.endsWith(path.join('cpu', 'tsrun-test', 'c1')) && busy-- > 0) throw errnoError('EBUSY', d);
        fakeRmdir(d);
      },
    });
    expect(flaky.destroy()).toEqual([]);
    expect(busy).toBe(-1);
    expect(fs.existsSync(path.join(root, 'cpu', 'tsrun-test', 'c1'))).toBe(false);
  });

  test('relative and default cgroupsPath land below the own cgroup (never written here: fake tree)', () => {
    const m = manager('hybrid', { cgroupsPath: '' });
    expect(m.paths().memory).toBe(path.join(root, 'memory/process_api/x/c1'));
    expect(m.paths().cpu).toBe(path.join(root, 'cpu/c1'));
    const m2 = manager('hybrid', { cgroupsPath: '../../up/c2' });
    expect(m2.paths().memory).toBe(path.join(root, 'memory/process_api/x/up/c2'));
  });

  test('restored manager: recorded paths are checked; destroy removes the leaves, with or without a record', () => {
    makeTree('legacy');
    const mi = () => mountinfo('legacy');
    expect(() => cgroupManagerFromPaths({ cpu: '/etc' }, [], { root, readMountinfo: mi })).toThrow(/not below/);
    expect(() => cgroupManagerFromPaths({ cpu: path.join(root, 'cpu') }, [], { root, readMountinfo: mi })).toThrow(/not below/);
    const m = manager('legacy');
    m.create();
    // created list from an untrusted file: paths outside the leaf's ancestry are dropped
    const restored = cgroupManagerFromPaths(m.paths(), [...m.created(), '/etc', path.join(root, 'cpu')], { root, readMountinfo: mi, rmdir: fakeRmdir });
    expect(restored.created()).toEqual(m.created());
    restored.destroy();
    expect(fs.readdirSync(path.join(root, 'cpu', 'tsrun-test'))).toEqual([]);
    // crash before cgroupCreated was recorded: leaves only
    m.create();
    const unrecorded = cgroupManagerFromPaths(m.paths(), undefined, { root, readMountinfo: mi, rmdir: fakeRmdir });
    unrecorded.destroy();
    expect(fs.readdirSync(path.join(root, 'cpu'))).toEqual(['tsrun-test']);
    expect(fs.readdirSync(path.join(root, 'cpu', 'tsrun-test'))).toEqual([]);
  });

  test('freeze, thaw, isFrozen through freezer.state', () => {
    const m = manager('hybrid');
    m.create();
    const state = path.join(root, 'freezer/tsrun-test/c1/freezer.state');
    expect(m.isFrozen()).toBe(false);
    m.freeze();
    expect(fs.readFileSync(state, 'utf8')).toBe('FROZEN');
    expect(m.isFrozen()).toBe(true);
    // frozen only through an ancestor: not paused by us
    fs.writeFileSync(path.join(root, 'freezer/tsrun-test/c1/freezer.self_freezing'), '0\n');
    expect(m.isFrozen()).toBe(false);
    fs.writeFileSync(path.join(root, 'freezer/tsrun-test/c1/freezer.self_freezing'), '1\n');
    expect(m.isFrozen()).toBe(true);
    m.thaw();
    expect(fs.readFileSync(state, 'utf8')).toBe('THAWED');
    expect(m.isFrozen()).toBe(false);
  });

  test('devices: deny all, then the config rules in order, then runc defaults, in the devices hierarchy only', () => {
    const m = manager('hybrid');
    m.create();
    // One write(2) per rule, in order (the kernel takes one rule per write).
    const writes: string[] = [];
    const opened = new Map<number, string>();
    const realOpen = hostFiles.openFile;
    const realWrite = hostFiles.writeOnce;
    jest.spyOn(hostFiles, 'openFile').mockImplementation((file: string, flags: number, mode?: number) => {
      const fd = realOpen(file, flags, mode);
      if (/devices\.(allow|deny)$/.test(file)) opened.set(fd, file);
      return fd;
    });
    jest.spyOn(hostFiles, 'writeOnce').mockImplementation((fd: number, data: string) => {
      const file = opened.get(fd);
      if (file) writes.push(`${path.relative(root, file)} ${data}`);
      return realWrite(fd, data);
    });
    m.setDevices([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 4, minor: 1, access: 'rw' },
      { allow: false, type: 'a', major: 8, access: 'w' },
    ], ['/dev/zero']);
    const d = 'devices/tsrun-test/c1/devices';
    expect(writes).toEqual([
      `${d}.deny a`,
      `${d}.deny a`,
      `${d}.allow c 4:1 rw`,
      `${d}.deny c 8:* w`,
      `${d}.deny b 8:* w`,
      `${d}.allow c *:* m`,
      `${d}.allow b *:* m`,
      `${d}.allow c 1:3 rwm`,
      `${d}.allow c 1:8 rwm`,
      `${d}.allow c 1:7 rwm`,
      `${d}.allow c 5:0 rwm`,
      // 1:5 (/dev/zero) dropped: linux.devices redefines it
      `${d}.allow c 1:9 rwm`,
      `${d}.allow c 136:* rwm`,
      `${d}.allow c 5:2 rwm`,
      `${d}.allow c 10:200 rwm`,
    ]);
  });

  test('devices: invalid rules are refused before anything is written', () => {
    const m = manager('legacy');
    m.create();
    const allow = path.join(root, 'devices/tsrun-test/c1/devices.deny');
    expect(() => m.setDevices([{ allow: true, type: 'x' as 'c', access: 'r' }])).toThrow(/linux.resources.devices\[0\].type/);
    expect(() => m.setDevices([{ allow: true, type: 'c', access: '' }])).toThrow(ConfigError);
    expect(() => m.setDevices([{ allow: true, type: 'c', access: 'rwx' }])).toThrow(/may only contain r, w and m/);
    expect(() => m.setDevices([{ allow: true, access: 'r' }, { allow: true, type: 'c', major: -5, access: 'r' }])).toThrow(/devices\[1\].major/);
    expect(fs.existsSync(allow)).toBe(false);
  });
});

describe('device rule helpers', () => {
  test('runc `spec` default rules give deny-all then runc defaults', () => {
    const lines = deviceLines(effectiveDeviceRules([{ allow: false, access: 'rwm' }]));
    expect(lines.slice(0, 2)).toEqual([{ file: 'devices.deny', line: 'a' }, { file: 'devices.deny', line: 'a' }]);
    expect(lines).toHaveLength(2 + DEFAULT_DEVICE_RULES.length);
    expect(deviceLines([{ allow: true, type: 'a', major: -1, access: 'mwr' }])[1]).toEqual({ file: 'devices.allow', line: 'a' });
  });
});

test('create survives a shared parent removed under it (a sibling create rolling back)', () => {
  makeTree('unified');
  fs.mkdirSync(path.join(root, 'tsrun-test'));
  const real = hostFiles.makeDir;
  let raced = false;
  jest.spyOn(hostFiles, 'makeDir').mockImplementation((p: string, mode: number) => {
    // Between finding the parent and making the leaf, its maker removes it.
    if (p === path.join(root, 'tsrun-test/c1') && !raced) {
      raced = true;
      fs.rmdirSync(path.join(root, 'tsrun-test'));
    }
    return real(p, mode);
  });
  const m = manager('unified');
  m.create();
  expect(raced).toBe(true);
  expect(fs.statSync(path.join(root, 'tsrun-test/c1')).isDirectory()).toBe(true);
  // Made by this create the second time round: recorded as its own.
  expect(m.created()).toEqual([path.join(root, 'tsrun-test'), path.join(root, 'tsrun-test/c1')]);
});

test('a cgroup removed while its processes are read (ENODEV, as systemd ending an emptied scope) holds none', () => {
  makeTree('unified');
  const m = manager('unified');
  m.create();
  const real = hostFiles.readTextIfExists;
  jest.spyOn(hostFiles, 'readTextIfExists').mockImplementation((file: string) => {
    if (file.endsWith('/cgroup.procs')) throw Object.assign(new Error(`ENODEV: no such device, read`), { code: 'ENODEV' });
    return real(file);
  });
  expect(m.pids()).toEqual([]);
});

describe('v2 driver on a fake tree', () => {
  test('paths, create enables controllers only in intermediate dirs we made, apply, pids, destroy', () => {
    const real = hostFiles.makeDir;
    // A new cgroup v2 dir shows the controllers its parent enabled.
    jest.spyOn(hostFiles, 'makeDir').mockImplementation((p: string, mode: number) => {
      const r = real(p, mode);
      if (r && p.startsWith(root)) fs.writeFileSync(path.join(p, 'cgroup.controllers'), 'cpu memory pids\n');
      return r;
    });
    const m = manager('unified', { cgroupsPath: '/a/b/c1' });
    expect(m.layout).toBe('unified');
    expect(m.paths()).toEqual({ unified: path.join(root, 'a/b/c1') });
    m.create();
    expect(m.created()).toEqual([path.join(root, 'a'), path.join(root, 'a/b'), path.join(root, 'a/b/c1')]);
    expect(fs.existsSync(path.join(root, 'cgroup.subtree_control'))).toBe(false); // not ours
    expect(fs.readFileSync(path.join(root, 'a/cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
    expect(fs.readFileSync(path.join(root, 'a/b/cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
    expect(fs.existsSync(path.join(root, 'a/b/c1/cgroup.subtree_control'))).toBe(false); // the leaf holds processes
    m.apply(31);
    expect(fs.readFileSync(path.join(root, 'a/b/c1/cgroup.procs'), 'utf8')).toBe('31');
    expect(m.pids()).toEqual([31]);
    fs.writeFileSync(path.join(root, 'a/b/c1/cgroup.procs'), '');
    m.destroy();
    expect(fs.existsSync(path.join(root, 'a/b/c1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'a/b'))).toBe(true);
  });

  test('an existing parent with nothing enabled yet (a sibling create not done with it) gets its controllers; a configured one is left alone', () => {
    makeTree('unified');
    for (const d of ['a', 'a/b']) {
      fs.mkdirSync(path.join(root, d));
      fs.writeFileSync(path.join(root, d, 'cgroup.controllers'), 'cpu memory\n');
    }
    fs.writeFileSync(path.join(root, 'a/cgroup.subtree_control'), '');
    fs.writeFileSync(path.join(root, 'a/b/cgroup.subtree_control'), 'cpu\n');
    manager('unified', { cgroupsPath: '/a/b/c1' }).create();
    expect(fs.readFileSync(path.join(root, 'a/cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory');
    expect(fs.readFileSync(path.join(root, 'a/b/cgroup.subtree_control'), 'utf8')).toBe('cpu\n');
    expect(fs.existsSync(path.join(root, 'a/b/c1/cgroup.subtree_control'))).toBe(false); // the leaf
  });

  test('relative path: below the parent of the own cgroup', () => {
    const m = manager('unified', { cgroupsPath: 'c1', readSelfCgroup: () => '0::/user.slice/session-3.scope\n' });
    expect(m.paths().unified).toBe(path.join(root, 'user.slice/c1'));
  });

  test('freeze through cgroup.freeze and cgroup.events', () => {
    const m = manager('unified');
    m.create();
    const dir = m.paths().unified;
    fs.writeFileSync(path.join(dir, 'cgroup.freeze'), '0\n');
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 0\nfrozen 1\n'); // what the kernel will report
    expect(m.isFrozen()).toBe(false);
    m.freeze();
    expect(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8')).toBe('1');
    expect(m.isFrozen()).toBe(true);
    fs.writeFileSync(path.join(dir, 'cgroup.events'), 'populated 0\nfrozen 0\n');
    m.thaw();
    expect(m.isFrozen()).toBe(false);
  });

  test('devices: the leaf gets the device program of the config rules plus runc defaults; bad rules attach nothing', () => {
    const attached: { dir: string; insns: Buffer }[] = [];
    const m = manager('unified', { attachDeviceFilter: (dir, insns) => attached.push({ dir, insns }) });
    m.create();
    const rules = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 10, minor: 229, access: 'rwm' }];
    m.setDevices(rules, ['/dev/zero']);
    expect(attached).toHaveLength(1);
    expect(attached[0].dir).toBe(m.paths().unified);
    expect(decodeInsns(attached[0].insns)).toEqual(planDeviceFilter(effectiveDeviceRules(rules, ['/dev/zero'])));
    expect(() => m.setDevices([{ allow: true, type: 'c', major: -2, access: 'rwm' }])).toThrow(/devices\[0\].major/);
    expect(attached).toHaveLength(1);
  });

  test('devices: an attach failure names the cgroup dir', () => {
    const m = manager('unified', { attachDeviceFilter: () => { throw Object.assign(new Error('bpf(BPF_PROG_ATTACH) /x: EPERM (operation not permitted)'), { code: 'EPERM' }); } });
    m.create();
    expect(() => m.setDevices([])).toThrow(CgroupError);
    expect(() => m.setDevices([])).toThrow(/device filter for .*c1: bpf\(BPF_PROG_ATTACH\).*EPERM/);
  });

});
