// linux.resources, update, pause/resume, ps, events and kill --all on real
// containers, checked by reading the kernel's own cgroup files after create,
// after update and after delete. Written for this machine's hybrid layout (v1
// controllers under /sys/fs/cgroup/<controller>); skipped where those are absent.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flavorOf, pidAlive, runtimeUnderTest, sleep, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { isEmpty } from '../helpers/cleanup';
import type { Bundle } from '../helpers/bundle';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const V1 = '/sys/fs/cgroup';
const hybridReason = containerSkipReason() ?? (fs.existsSync(`${V1}/memory/memory.limit_in_bytes`) || fs.existsSync(`${V1}/memory`) ? undefined : 'no v1 memory hierarchy');

/** Waits until `value` has stayed the same for `quietMs`. */
async function settled(value: () => number, quietMs: number): Promise<void> {
  let last = value();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    await sleep(50);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/**
 * Whether process `pid` has slept for `quietMs` on end (state S in /proc/<pid>/stat,
 * read every 20 ms): a runtime's `events` that has set up its watches and waits. Its
 * start never sleeps that long; a process that is gone counts as not waiting.
 */
async function waitsQuietly(pid: number, quietMs: number): Promise<boolean> {
  const since = Date.now();
  while (Date.now() - since < quietMs) {
    let state: string | undefined;
    try {
      state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    } catch {
      return false;
    }
    if (state !== 'S') return false;
    await sleep(20);
  }
  return true;
}

/**
 * The major number of a whole disk of this machine (minor 0), as /proc/partitions
 * lists it: the block I/O throttle files take only real block devices.
 */
function wholeDiskMajor(): string | undefined {
  return fs.readFileSync('/proc/partitions', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => /^\d+$/.test(f[0] ?? '') && f[1] === '0')?.[0];
}

describeIf(hybridReason)(`cgroup resources on v1/hybrid (${BINARY})`, () => {
  const s = useSuite('res', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  const file = (b: Bundle, controller: string, name: string): string => fs.readFileSync(path.join(V1, controller, b.cgroupsPath, name), 'utf8').trim();
  const leafExists = (b: Bundle, controller: string): boolean => fs.existsSync(path.join(V1, controller, b.cgroupsPath));

  const bundle = (args: string[], resources: Record<string, unknown>) =>
    s.bundle({
      configure: (c) => {
        c.process.args = args;
        Object.assign(c.linux.resources, resources);
      },
    });

  test('create writes every configured limit; update changes them; delete removes the cgroups', () => {
    const b = bundle(['sleep', '1000'], {
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, kernelTCP: 16 << 20, swappiness: 10, disableOOMKiller: false, useHierarchy: true },
      cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 30 },
    });
    // Kernel memory settings at create: runc's warning, and the file left as it was.
    const created = s.cli.create(b.id, b.dir);
    expect({ code: created.code, stderr: created.stderr.replace(/^time="[^"]*" /gm, '') })
      .toEqual({ code: 0, stderr: 'level=warning msg="Kernel memory settings are ignored and will be removed"\n' });
    expect({
      limit: file(b, 'memory', 'memory.limit_in_bytes'),
      soft: file(b, 'memory', 'memory.soft_limit_in_bytes'),
      memsw: file(b, 'memory', 'memory.memsw.limit_in_bytes'),
      tcp: file(b, 'memory', 'memory.kmem.tcp.limit_in_bytes'),
      swappiness: file(b, 'memory', 'memory.swappiness'),
      shares: file(b, 'cpu', 'cpu.shares'),
      quota: file(b, 'cpu', 'cpu.cfs_quota_us'),
      period: file(b, 'cpu', 'cpu.cfs_period_us'),
      cpus: file(b, 'cpuset', 'cpuset.cpus'),
      pids: file(b, 'pids', 'pids.max'),
    }).toEqual({
      limit: String(64 << 20),
      soft: String(32 << 20),
      memsw: String(128 << 20),
      tcp: '9223372036854771712',
      swappiness: '10',
      shares: '512',
      quota: '20000',
      period: '100000',
      cpus: '0',
      pids: '30',
    });
    expectOk(s.cli.start(b.id));

    // runc's flags, with runc's size syntax
    expectOk(s.cli.run(['update', '--memory', '256m', '--memory-swap', '-1', '--cpu-share', '300', '--pids-limit', '-1', '--cpu-quota', '50000', b.id]));
    expect([file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'cpu', 'cpu.shares'), file(b, 'pids', 'pids.max'), file(b, 'cpu', 'cpu.cfs_quota_us')]).toEqual([
      String(256 << 20),
      '300',
      'max',
      '50000',
    ]);
    expect(Number(file(b, 'memory', 'memory.memsw.limit_in_bytes'))).toBeGreaterThan(2 ** 62);

    // --resources FILE, the JSON shape containerd sends
    const res = path.join(b.dir, 'resources.json');
    fs.writeFileSync(res, JSON.stringify({ cpu: { shares: 700 }, memory: { limit: 100 << 20 }, pids: { limit: 12 } }));
    expectOk(s.cli.run(['update', '--resources', res, b.id]));
    expect([file(b, 'cpu', 'cpu.shares'), file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'pids', 'pids.max')]).toEqual(['700', String(100 << 20), '12']);

    // --resources - reads standard input
    const viaStdin = spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: '{"cpu":{"shares":900}}', encoding: 'utf8' });
    expect({ code: viaStdin.status, stderr: viaStdin.stderr }).toEqual({ code: 0, stderr: '' });
    expect(file(b, 'cpu', 'cpu.shares')).toBe('900');
    // An empty --resources names no file: the flags are applied, as runc takes it.
    expectOk(s.cli.run(['update', '--resources', '', '--pids-limit', '13', b.id]));
    expect(file(b, 'pids', 'pids.max')).toBe('13');

    // Kernel memory settings, by flag or document: runc's update warns and leaves them.
    const tcp = file(b, 'memory', 'memory.kmem.tcp.limit_in_bytes');
    const kernelFlag = s.cli.run(['update', '--kernel-memory-tcp', '40M', '--pids-limit', '14', b.id]);
    const kernelDoc = spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: '{"memory":{"kernelTCP":50000000,"kernel":0}}', encoding: 'utf8' });
    expect([kernelFlag.code, kernelFlag.stderr, kernelDoc.status, kernelDoc.stderr].map((v) => (typeof v === 'string' ? v.replace(/^time="[^"]*" /gm, '') : v))).toEqual([
      0, 'level=warning msg="Kernel memory settings are ignored and will be removed"\n', 0, 'level=warning msg="Kernel memory settings are ignored and will be removed"\n',
    ]);
    expect([file(b, 'memory', 'memory.kmem.tcp.limit_in_bytes'), file(b, 'pids', 'pids.max')]).toEqual([tcp, '14']);
    // A 0 is dropped without a word.
    const zero = s.cli.run(['update', '--kernel-memory-tcp', '0', '--pids-limit', '15', b.id]);
    expect({ code: zero.code, stderr: zero.stderr }).toEqual({ code: 0, stderr: '' });
    expect([file(b, 'memory', 'memory.kmem.tcp.limit_in_bytes'), file(b, 'pids', 'pids.max')]).toEqual([tcp, '15']);

    expectOk(s.cli.delete(b.id, true));
    for (const c of ['memory', 'cpu', 'cpuset', 'pids', 'devices', 'freezer']) expect(leafExists(b, c)).toBe(false);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a swappiness of 18446744073709551615 (int64\'s -1 to runc: Docker\'s --memory-swappiness -1) is not set: create succeeds and leaves memory.swappiness alone (runc)', () => {
    const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20, swappiness: 4242 } });
    // Written as text: JSON.stringify would give the double's 18446744073709552000, which Go refuses.
    const configPath = path.join(b.dir, 'config.json');
    fs.writeFileSync(configPath, fs.readFileSync(configPath, 'utf8').replace(/"swappiness":\s*4242/, '"swappiness": 18446744073709551615'));
    expectOk(s.cli.create(b.id, b.dir));
    const parent = fs.readFileSync(path.join(V1, 'memory', path.dirname(b.cgroupsPath), 'memory.swappiness'), 'utf8').trim();
    expect([file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'memory', 'memory.swappiness')]).toEqual([String(64 << 20), parent]);
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 has no checkBeforeUpdate (the v1 kernel refuses such a limit all the same);
  // runc 1.2 keeps it in the container's cgroup config for every later update.
  (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('memory.checkBeforeUpdate of config.json holds for a later update --memory alone', () => {
    const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20, checkBeforeUpdate: true } });
    expectOk(s.cli.create(b.id, b.dir));
    const r = spawnSync(BINARY, ['--root', s.cli.root, 'update', '--memory', '4096', b.id], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rejecting memory limit 4096 below current usage \d+/);
    expect(file(b, 'memory', 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expectOk(s.cli.delete(b.id, true));
  });

  test('update -r applies what runc\'s update applies and ignores the rest without a word (containerd sends it all)', () => {
    const b = bundle(['sleep', '1000'], { cpu: { shares: 1024 }, pids: { limit: 30 } });
    expectOk(s.cli.create(b.id, b.dir));
    // devices, and controllers this host lacks (hugetlb, net_cls): applied, each would fail.
    const doc = {
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
      memory: { limit: 128 << 20, swappiness: 30 },
      cpu: { shares: 600 },
      pids: { limit: 40 },
      hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }],
      network: { classID: 0x100001 },
      future: { anything: true },
    };
    const swappiness = file(b, 'memory', 'memory.swappiness');
    const r = spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: JSON.stringify(doc), encoding: 'utf8' });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect([file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'cpu', 'cpu.shares'), file(b, 'pids', 'pids.max')]).toEqual([String(128 << 20), '600', '40']);
    expect(file(b, 'memory', 'memory.swappiness')).toBe(swappiness);
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 ignores them; runc 1.3.3 and 1.4 apply them, an entry changing only its device.
  (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('update -r applies per-device block I/O throttles, device by device, and records them', () => {
    const disk = wholeDiskMajor();
    expect(disk).toBeDefined();
    const dev = { major: Number(disk), minor: 0 };
    const b = bundle(['sleep', '1000'], { blockIO: { throttleReadBpsDevice: [{ ...dev, rate: 1 << 20 }] } });
    expectOk(s.cli.create(b.id, b.dir));
    const update = (doc: Record<string, unknown>) => spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: JSON.stringify(doc), encoding: 'utf8' });
    const throttles = () => ['read_bps_device', 'write_iops_device'].map((f) => file(b, 'blkio', `blkio.throttle.${f}`));
    expect(throttles()).toEqual([`${disk}:0 ${1 << 20}`, '']);
    expect(update({ blockIO: { throttleWriteIOPSDevice: [{ ...dev, rate: 300 }] } }).stderr).toBe('');
    expect(throttles()).toEqual([`${disk}:0 ${1 << 20}`, `${disk}:0 300`]);
    expect(update({ blockIO: { throttleReadBpsDevice: [{ ...dev, rate: 2 << 20 }] } }).stderr).toBe('');
    expect(throttles()).toEqual([`${disk}:0 ${2 << 20}`, `${disk}:0 300`]);
    const recorded = JSON.parse(fs.readFileSync(path.join(s.cli.root, b.id, 'state.json'), 'utf8')).config.linux.resources.blockIO;
    expect(recorded).toEqual({ throttleReadBpsDevice: [{ ...dev, rate: 2 << 20 }], throttleWriteIOPSDevice: [{ ...dev, rate: 300 }] });
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 ignores cpu.idle and cpu.burst (spec 1.2 fields); runc 1.2 writes them, 0 included.
  (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('update sets cpu.idle and the CFS burst and puts both back with 0; shares can be set again after idle', () => {
    const b = bundle(['sleep', '1000'], { cpu: { shares: 1024 } });
    expectOk(s.cli.create(b.id, b.dir));
    const update = (doc: Record<string, unknown>) => spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: JSON.stringify(doc), encoding: 'utf8' });
    const cpu = () => ['cpu.idle', 'cpu.cfs_burst_us', 'cpu.shares'].map((f) => file(b, 'cpu', f));
    expect(update({ cpu: { idle: 1, burst: 1000, quota: 50000, period: 100000 } }).status).toBe(0);
    // An idle group's shares read 3 and cannot be written.
    expect(cpu()).toEqual(['1', '1000', '3']);
    expect(update({ cpu: { idle: 0, burst: 0, shares: 512 } }).status).toBe(0);
    expect(cpu()).toEqual(['0', '0', '512']);
    // The same by runc 1.2's flags.
    expectOk(s.cli.run(['update', '--cpu-idle', '1', '--cpu-burst', '2000', b.id]));
    expect(cpu()).toEqual(['1', '2000', '3']);
    expectOk(s.cli.delete(b.id, true));
  });

  test('a linux.resources field the spec does not define is ignored, as the spec\'s extensibility rule asks and runc does; the known ones still apply', () => {
    const b = bundle(['true'], { pids: { limit: 33 } });
    b.rewrite((c) => {
      c.linux.resources.futureController = { a: 1 };
      // A newer spec's member of a known controller too (Go's decoder skips it for runc).
      c.linux.resources.pids.futureKnob = 1;
    });
    const created = s.cli.create(b.id, b.dir);
    expect(created.code).toBe(0);
    if (flavorOf(BINARY) === 'tsrun') expect(created.stderr).toMatch(/level=warning msg="linux\.resources\.futureController: unknown to this runtime, ignored"/);
    if (flavorOf(BINARY) === 'tsrun') expect(created.stderr).toMatch(/level=warning msg="linux\.resources\.pids\.futureKnob: unknown to this runtime, ignored"/);
    expect(file(b, 'pids', 'pids.max')).toBe('33');
    expectOk(s.cli.delete(b.id, true));
  });

  test('a memory limit of math.MaxInt64 (9223372036854775807) is unlimited, at create and at update (runc)', () => {
    const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20 } });
    // JSON.stringify cannot write the literal: put it in the text.
    fs.writeFileSync(b.configPath, fs.readFileSync(b.configPath, 'utf8').replace(new RegExp(`"limit":\\s*${64 << 20}`), '"limit": 9223372036854775807'));
    expectOk(s.cli.create(b.id, b.dir));
    const unlimited = file(b, 'memory', 'memory.limit_in_bytes');
    expect(BigInt(unlimited)).toBeGreaterThan(1n << 62n);
    expectOk(s.cli.run(['update', '--memory', '100m', b.id]));
    expect(file(b, 'memory', 'memory.limit_in_bytes')).toBe(String(100 << 20));
    const r = spawnSync(BINARY, ['--root', s.cli.root, 'update', '-r', '-', b.id], { input: '{"memory":{"limit":9223372036854775807}}', encoding: 'utf8' });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(file(b, 'memory', 'memory.limit_in_bytes')).toBe(unlimited);
    expectOk(s.cli.delete(b.id, true));
  });

  test('update refuses bad values naming the flag or field and keeps the old limits', () => {
    const b = bundle(['sleep', '1000'], { cpu: { shares: 1024 } });
    expectOk(s.cli.create(b.id, b.dir));
    const bad = s.cli.run(['update', '--memory', 'lots', b.id]);
    expect({ code: bad.code, err: bad.stderr }).toEqual({ code: 1, err: expect.stringContaining("invalid value for memory: invalid size: 'lots'") });
    // go-units' pattern lets it through, Go's ParseFloat refuses it (JavaScript's would read 1.2)
    const limitBefore = file(b, 'memory', 'memory.limit_in_bytes');
    const dots = s.cli.run(['update', '--memory', '1.2.3m', b.id]);
    expect({ code: dots.code, err: dots.stderr }).toEqual({ code: 1, err: expect.stringMatching(/invalid value for memory: strconv\.ParseFloat: parsing \\?"1\.2\.3\\?": invalid syntax/) });
    expect(file(b, 'memory', 'memory.limit_in_bytes')).toBe(limitBefore);
    const l3 = s.cli.run(['update', '--l3-cache-schema', 'L3:0=ff', b.id]);
    expect(l3.code).toBe(1);
    expect(l3.stderr).toMatch(/l3-cache-schema|l3 cache schema/); // runc: "Intel RDT/CAT: l3 cache schema is not enabled"
    const far = String(os.cpus().length + 8);
    const cpus = s.cli.run(['update', '--cpuset-cpus', far, b.id]);
    // tsrun names the field, runc the file
    expect({ code: cpus.code, err: cpus.stderr }).toEqual({ code: 1, err: expect.stringMatching(/cpu\.cpus|cpuset\.cpus/) });
    expect(file(b, 'cpu', 'cpu.shares')).toBe('1024');
    // tsrun writes cpuset after memory and cpu: refused there, it puts them back.
    // (runc writes cpuset first, so nothing has changed when it is refused.)
    const memoryBefore = [file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'memory', 'memory.memsw.limit_in_bytes')];
    const partWay = s.cli.run(['update', '--memory', '200m', '--memory-swap', '300m', '--cpu-share', '512', '--cpuset-cpus', far, b.id]);
    expect(partWay.code).toBe(1);
    expect([file(b, 'memory', 'memory.limit_in_bytes'), file(b, 'memory', 'memory.memsw.limit_in_bytes'), file(b, 'cpu', 'cpu.shares')]).toEqual([...memoryBefore, '1024']);
    if (fs.existsSync(path.join('/sys/fs/cgroup/memory', b.cgroupsPath, 'memory.limit_in_bytes'))) {
      // Below what the container already uses: v1 answers EBUSY, runc says it in words.
      const low = s.cli.run(['update', '--memory', '10', b.id]);
      expect({ code: low.code, err: low.stderr }).toEqual({ code: 1, err: expect.stringMatching(/unable to set memory limit to 10 \(current usage: \d+, peak usage: \d+\)/) });
    }
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 ignores cpu.idle on v1; tsrun applies it, and the kernel then takes no cpu.shares.
  (flavorOf(BINARY) === 'tsrun' && fs.existsSync('/sys/fs/cgroup/cpu/cpu.idle') ? test : test.skip)('an update the kernel refuses part-way puts back what it had written, not the value it was refused (an idle group\'s shares)', () => {
    const b = bundle(['sleep', '1000'], { cpu: { idle: 1 } });
    expectOk(s.cli.create(b.id, b.dir));
    const memoryBefore = file(b, 'memory', 'memory.limit_in_bytes');
    const r = s.cli.run(['update', '--memory', '200m', '--cpu-share', '512', b.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cpu\.shares/);
    expect(r.stderr).not.toMatch(/putting back/);
    expect(file(b, 'memory', 'memory.limit_in_bytes')).toBe(memoryBefore);
    expectOk(s.cli.delete(b.id, true));
  });

  test('an update whose value the kernel takes but changes (cpu.shares past its maximum) is refused, and the old value is put back', () => {
    const b = bundle(['sleep', '1000'], { cpu: { shares: 2048 } });
    expectOk(s.cli.create(b.id, b.dir));
    const r = s.cli.run(['update', '--cpu-share', '1000000', b.id]);
    expect(r.code).toBe(1);
    // runc 1.1.5 refuses it too, and leaves the kernel's 262144 there.
    if (flavorOf(BINARY) === 'tsrun') expect(file(b, 'cpu', 'cpu.shares')).toBe('2048');
    expectOk(s.cli.delete(b.id, true));
  });

  test('update shortens the CFS period below a parent\'s quota: the period refused first is written again after the quota, as runc', () => {
    const b = bundle(['sleep', '1000'], { cpu: { quota: 50000, period: 100000 } });
    // The container one level below a cgroup of the test's own that allows half a CPU.
    const limited = path.join(V1, 'cpu', b.cgroupsPath);
    fs.mkdirSync(limited, { recursive: true }); // the suite's parent too, removed by its afterAll
    try {
      fs.writeFileSync(path.join(limited, 'cpu.cfs_quota_us'), '50000');
      const config = JSON.parse(fs.readFileSync(b.configPath, 'utf8'));
      config.linux.cgroupsPath = `${b.cgroupsPath}/c`;
      fs.writeFileSync(b.configPath, JSON.stringify(config));
      const cpu = (name: string): string => fs.readFileSync(path.join(limited, 'c', name), 'utf8').trim();
      expectOk(s.cli.create(b.id, b.dir));
      // 50000/50000 under the old quota would be a whole CPU: the kernel refuses that
      // period until the quota is 25000.
      expectOk(s.cli.run(['update', '--cpu-period', '50000', '--cpu-quota', '25000', b.id]));
      expect([cpu('cpu.cfs_quota_us'), cpu('cpu.cfs_period_us')]).toEqual(['25000', '50000']);
      expectOk(s.cli.delete(b.id, true));
    } finally {
      s.forceClean();
      if (fs.existsSync(limited)) fs.rmdirSync(limited);
    }
  });

  test.each([
    ['a cpuset outside the machine', { cpu: { cpus: String(os.cpus().length + 8) } }, 'linux.resources.cpu.cpus'],
    ['negative shares', { cpu: { shares: -2 } }, 'linux.resources.cpu.shares'],
    ['shares below the kernel minimum', { cpu: { shares: 1 } }, 'linux.resources.cpu.shares'],
    ['a unified key on cgroup v1', { unified: { 'memory.max': '1' } }, 'invalid configuration'],
    ['swap below the memory limit', { memory: { limit: 64 << 20, swap: 32 << 20 } }, 'linux.resources.memory.swap'],
    ['a controller this host lacks', { network: { classID: 1 } }, 'linux.resources.network.classID'],
  ])('%s: exit 1 naming the field, nothing left behind', (_what, resources, field) => {
    const b = bundle(['true'], resources);
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(field);
    expect(s.cli.stateRaw(b.id).code).toBe(1);
    for (const c of ['memory', 'cpu', 'cpuset', 'pids', 'devices', 'freezer']) expect(leafExists(b, c)).toBe(false);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a memory limit really kills a process that exceeds it (OOM)', async () => {
    // sort keeps its whole input in memory: 200 MB without a newline in a 32 MB cgroup.
    const b = bundle(['sh', '-c', 'head -c 200000000 /dev/zero | sort > /dev/null; echo "sort exit $?"'], {
      memory: { limit: 32 << 20, swap: 32 << 20 },
    });
    const out = path.join(b.dir, 'out.txt');
    expectOk(s.cli.create(b.id, b.dir, [], { stdoutFile: out, stderrFile: path.join(b.dir, 'err.txt') }));
    expectOk(s.cli.start(b.id));
    await s.cli.waitStatus(b.id, 'stopped', 30_000);
    // SIGKILL from the OOM killer: the shell sees 128 + 9
    expect(fs.readFileSync(out, 'utf8')).toBe('sort exit 137\n');
    const oom = Object.fromEntries(file(b, 'memory', 'memory.oom_control').split('\n').map((l) => l.split(' ')));
    expect(Number(oom.oom_kill)).toBeGreaterThanOrEqual(1);
    expectOk(s.cli.delete(b.id));
  });

  test('values past the usual ranges, as runc takes them: a negative quota or pids limit is "none", a block I/O rate past 2^53 is written exactly', () => {
    const disk = wholeDiskMajor();
    const b = bundle(['sleep', '1000'], {
      cpu: { quota: -2, period: 100000 },
      pids: { limit: -5 },
      ...(disk ? { blockIO: { throttleReadBpsDevice: [{ major: Number(disk), minor: 0, rate: 1e16 }] } } : {}),
    });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    expect({ quota: file(b, 'cpu', 'cpu.cfs_quota_us'), pids: file(b, 'pids', 'pids.max') }).toEqual({ quota: '-1', pids: 'max' });
    if (disk) expect(file(b, 'blkio', 'blkio.throttle.read_bps_device')).toBe(`${disk}:0 10000000000000000`);
    expectOk(s.cli.delete(b.id, true));
  });


  test('an exec into a paused container one task below its pids limit runs once resumed, and counts as one task (runc)', async () => {
    const b = bundle(['sleep', '1000'], { pids: { limit: 2 } });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    expectOk(s.cli.run(['pause', b.id]));
    const pidFile = path.join(b.dir, 'exec.pid');
    const exec = s.cli.spawn(['exec', '-d', '--ignore-paused', '--pid-file', pidFile, b.id, 'sleep', '1000']);
    // The exec waits for the thaw: its intermediate placed by the parent is frozen.
    await waitFor(() => file(b, 'freezer', 'tasks').split('\n').filter(Boolean).length > 1, 'the exec placed in the paused container');
    expectOk(s.cli.run(['resume', b.id]));
    const ended = await exec.done;
    expect({ code: ended.code, stderr: ended.stderr }).toEqual({ code: 0, stderr: '' });
    const execPid = fs.readFileSync(pidFile, 'utf8').trim();
    expect(file(b, 'pids', 'cgroup.procs').split('\n').sort()).toEqual([String(s.cli.state(b.id).pid), execPid].sort());
    expect(file(b, 'pids', 'pids.current')).toBe('2');
    expectOk(s.cli.delete(b.id, true));
  });

  test('an exec into a container whose pids cgroup was removed behind its back is refused: it would run outside the limit (runc)', () => {
    const b = bundle(['sleep', '1000'], { pids: { limit: 10 } });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const leaf = path.join(V1, 'pids', b.cgroupsPath);
    // Its processes moved to the parent (the suite's own cgroup), its dir removed.
    for (const pid of fs.readFileSync(path.join(leaf, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      fs.writeFileSync(path.join(path.dirname(leaf), 'cgroup.procs'), pid);
    }
    fs.rmdirSync(leaf);
    const r = s.cli.run(['exec', b.id, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(s.cli.flavor === 'tsrun' ? /the container's cgroup \/sys\/fs\/cgroup\/pids\/.* no longer exists/ : /no such file or directory/);
    expectOk(s.cli.delete(b.id, true));
  });

  test('ps and update of a running container whose memory cgroup was removed behind its back fail naming the dir (runc fails too), not an empty list or "not supported by this kernel"', () => {
    const b = bundle(['sleep', '1000'], {});
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    // ps reads the first hierarchy tsrun records; move the container out of every v1 one it can.
    const moved: string[] = [];
    for (const controller of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd']) {
      const leaf = path.join(V1, controller, b.cgroupsPath);
      if (!fs.existsSync(leaf)) continue;
      for (const pid of fs.readFileSync(path.join(leaf, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        fs.writeFileSync(path.join(path.dirname(leaf), 'cgroup.procs'), pid);
      }
      fs.rmdirSync(leaf);
      moved.push(controller);
    }
    expect(moved).toContain('memory');
    const ps = s.cli.run(['ps', b.id]);
    expect({ code: ps.code, out: ps.stdout.split('\n').length > 2 }).toEqual({ code: 1, out: false });
    expect(ps.stderr).toMatch(s.cli.flavor === 'tsrun' ? /the container's cgroup \/sys\/fs\/cgroup\/.* no longer exists/ : /no such file or directory/);
    const up = s.cli.run(['update', '--memory', '100000000', b.id]);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(s.cli.flavor === 'tsrun' ? /the container's cgroup \/sys\/fs\/cgroup\/memory\/.* no longer exists/ : /no such file or directory/);
    expect(up.stderr).not.toMatch(/not supported by this kernel/);
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 leaves the new limit in the cgroup and the old one in its state.
  (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('an update whose state cannot be written (a --root on a full tmpfs) is refused before the cgroup changes', () => {
    const small = path.join(s.env.tmp, 'small-root');
    fs.mkdirSync(small, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tsrun-test-small', small]);
    expect(mounted.status).toBe(0);
    const cli = s.addCli(BINARY, 'small', path.join(small, 'state'));
    const b = bundle(['sleep', '1000'], {});
    try {
      expectOk(cli.runContainer(b.id, b.dir, ['-d']));
      const limit = (): string => file(b, 'memory', 'memory.limit_in_bytes');
      const before = limit();
      // Fill the tmpfs: the state's next write has no room.
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(small, 'fill')}`, 'bs=1k', 'count=256']);
      const r = cli.run(['update', '--memory', '100000000', b.id]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/no space left on device|ENOSPC/) });
      expect(limit()).toBe(before);
      fs.unlinkSync(path.join(small, 'fill'));
      expectOk(cli.run(['update', '--memory', '100000000', b.id]));
      expect(limit()).toBe('99999744');
      expectOk(cli.delete(b.id, true));
    } finally {
      s.forceClean();
      spawnSync('umount', [small]);
    }
  });

  test('a container\'s cgroup frozen before create is refused ("container\'s cgroup unexpectedly frozen", as runc), create and run do not hang', () => {
    const b = bundle(['true'], {});
    const freezer = path.join(V1, 'freezer', b.cgroupsPath);
    fs.mkdirSync(freezer, { recursive: true });
    try {
      fs.writeFileSync(path.join(freezer, 'freezer.state'), 'FROZEN');
      for (const args of [['run', '-d', '--bundle', b.dir, b.id], ['create', '--bundle', b.dir, b.id]]) {
        const r = s.cli.run(args, { timeoutMs: 20_000 });
        expect({ args, timedOut: r.timedOut, code: r.code }).toEqual({ args, timedOut: false, code: 1 });
        expect(r.stderr).toMatch(/container's cgroup unexpectedly frozen/);
        expect(s.cli.stateRaw(b.id).code).toBe(1);
        // Refused before it was the container's: left as it was, frozen (runc too).
        expect(fs.readFileSync(path.join(freezer, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
      }
    } finally {
      fs.writeFileSync(path.join(freezer, 'freezer.state'), 'THAWED');
    }
  });

  test('a pids limit counts the container\'s processes only: a limit of 1 runs a container (runc), an exec fits in the one task left', () => {
    // The init forks into its pid namespace; an intermediate counted in the pids
    // cgroup as well would make that fork fail (EAGAIN) at pids.max - 1 tasks.
    const one = bundle(['sh', '-c', 'echo ok'], { pids: { limit: 1 } });
    const r = s.cli.runContainer(one.id, one.dir);
    expectOk(r);
    expect(r.stdout).toBe('ok\n');
    // Created and started as a shim does, with the limit already in place.
    const created = bundle(['sleep', '1000'], { pids: { limit: 1 } });
    expectOk(s.cli.create(created.id, created.dir));
    expect(file(created, 'pids', 'pids.max')).toBe('1');
    expectOk(s.cli.start(created.id));
    expectOk(s.cli.delete(created.id, true));
    // runc's exec fails there: its Go init starts threads, each a task in the cgroup.
    if (s.cli.flavor !== 'tsrun') return;

    const two = bundle(['sleep', '1000'], { pids: { limit: 2 } });
    expectOk(s.cli.runContainer(two.id, two.dir, ['-d']));
    expectOk(s.cli.run(['exec', two.id, 'true']));
    // The exec'd shell and the container's sleep reach the limit: nothing more.
    const third = s.cli.run(['exec', two.id, 'sh', '-c', 'true & wait']);
    expect(third.code).not.toBe(0);
    // At the limit, an exec is refused (v1's move into the pids cgroup is no fork the
    // kernel would count against pids.max; v2's clone3 into the cgroup fails), and
    // leaves nothing there, not even a zombie of the container's init.
    expectOk(s.cli.run(['exec', '-d', two.id, 'sleep', '1000']));
    const full = s.cli.run(['exec', two.id, 'true']);
    expect(full.code).toBe(255);
    expect(full.stderr).toMatch(/pids limit is reached \(pids\.max 2, pids\.current 2\)|clone3: EAGAIN/);
    expect(file(two, 'pids', 'pids.current')).toBe('2');
    expectOk(s.cli.delete(two.id, true));
  });
  // runc's exec fails at any full pids cgroup: its Go init cannot start its threads.
  (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('the limits above the joined pids cgroup count too: exec --cgroup into a sub-cgroup of a full container is refused, and a paused exec without a pid namespace', () => {
    const b = bundle(['sleep', '1000'], { pids: { limit: 1 } });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    fs.mkdirSync(path.join(V1, 'pids', b.cgroupsPath, 'sub'));
    const r = s.cli.run(['exec', '--cgroup', 'pids:sub', b.id, 'true']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 255, stderr: expect.stringMatching(/pids limit is reached \(pids\.max 1, pids\.current 1\)/) });
    expect(file(b, 'pids', 'pids.current')).toBe('1');
    expectOk(s.cli.delete(b.id, true));

    // Without a pid namespace a paused exec's init joins the pids cgroup itself (no fork).
    const flat = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        c.linux.resources.pids = { limit: 1 };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      },
    });
    expectOk(s.cli.runContainer(flat.id, flat.dir, ['-d']));
    expectOk(s.cli.run(['pause', flat.id]));
    const paused = s.cli.run(['exec', '-d', '--ignore-paused', flat.id, 'sleep', '1000']);
    expectOk(s.cli.run(['resume', flat.id]));
    expect({ code: paused.code, stderr: paused.stderr }).toEqual({ code: 255, stderr: expect.stringMatching(/pids limit is reached \(pids\.max 1, pids\.current 1\)/) });
    expect(file(flat, 'pids', 'pids.current')).toBe('1');
    expectOk(s.cli.delete(flat.id, true));
  });

  test('a device access with a letter other than r, w and m is read without it, as runc reads it ("rwa" is "rw"; runc\'s own tests write such a rule)', () => {
    // An allow and a deny with the extra letter: each applies its r and w.
    const b = bundle(['sleep', '1000'], {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 12, access: 'rwa' },
        { allow: true, type: 'c', major: 1, minor: 11, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 11, access: 'rwa' },
      ],
    });
    const created = s.cli.create(b.id, b.dir);
    expect(created.code).toBe(0);
    if (s.cli.flavor === 'tsrun') expect(created.stderr).toMatch(/linux\.resources\.devices\[1\]\.access: \\?"rwa\\?" is read as \\?"rw\\?"/);
    const list = file(b, 'devices', 'devices.list').split('\n');
    expect(list).toEqual(expect.arrayContaining(['c 1:12 rw', 'c 1:11 m']));
    expectOk(s.cli.delete(b.id, true));
  });

  test('a device rule list the kernel cannot express (a deny inside an earlier wildcard allow) is refused, nothing left behind, as runc refuses it', () => {
    // Written as it stands, the kernel would keep "c *:* rwm" and /dev/fuse open.
    const b = bundle(['true'], { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }] });
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(s.cli.flavor === 'tsrun' ? /linux\.resources\.devices\[2\]: cannot express \\?"deny c 10:229 rwm\\?" after the rules before it/ : /cannot punch hole in existing wildcard rule/);
    expect(s.cli.stateRaw(b.id).code).toBe(1);
    for (const c of ['memory', 'cpu', 'cpuset', 'pids', 'devices', 'freezer']) expect(leafExists(b, c)).toBe(false);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a memory limit below what the init needs fails create saying so (runc: unable to set memory limit), nothing left behind', () => {
    const b = bundle(['true'], { memory: { limit: 4096 } });
    const r = s.cli.create(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(s.cli.flavor === 'tsrun' ? /OOM killer ended \d+ process\(es\) in the container's memory cgroup/ : /unable to set memory limit to 4096/);
    expect(s.cli.stateRaw(b.id).code).toBe(1);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('events reports OOM notifications as runc does ({"type":"oom","id":...}), one per read of the counter; it ends once the container is deleted', async () => {
    // Each hog runs once the test has seen `events` start and says go.
    const hog = 'head -c 200000000 /dev/zero | sort > /dev/null';
    const after = (f: string) => `while [ ! -e /${f} ]; do sleep 0.05; done`;
    const b = bundle(['sh', '-c', `${after('go1')}; ${hog}; ${after('go2')}; ${hog}; sleep 1000`], { memory: { limit: 32 << 20, swap: 32 << 20 } });
    expectOk(s.cli.create(b.id, b.dir, [], { stderrFile: path.join(b.dir, 'err.txt') }));
    expectOk(s.cli.start(b.id));
    const out = path.join(b.dir, 'events.txt');
    const events = s.cli.spawn(['events', '--interval', '1s', b.id], { stdoutFile: out, timeoutMs: 60_000 });
    const lines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '').split('\n').filter(Boolean);
    const ooms = () => lines().filter((l) => l.includes('"oom"'));
    // A first stats line: the OOM watch is in place by then (tsrun sets it up before
    // its first line, runc a tick before its first line).
    await waitFor(() => lines().some((l) => l.includes('"stats"')), 'a first stats line');
    fs.writeFileSync(path.join(b.rootfs, 'go1'), '');
    await waitFor(() => ooms().length >= 1, 'an OOM event', 30_000);
    const first = ooms().length;
    fs.writeFileSync(path.join(b.rootfs, 'go2'), '');
    await waitFor(() => ooms().length > first, 'an OOM event for the second OOM', 30_000);
    // One OOM is a few reads of the counter: the last of them may come a while after the first.
    await settled(() => ooms().length, 1500);
    for (const line of ooms()) expect(line).toBe(`{"type":"oom","id":"${b.id}"}`);
    // One kill under a swap limit makes the kernel count dozens of notifications; runc
    // reports each read of the counter once, and so a few events per OOM, not dozens.
    expect(ooms().length).toBeLessThan(20);
    const seen = ooms().length;
    expectOk(s.cli.delete(b.id, true));
    // The container is gone: `events` ends, with no OOM for the removal.
    const r = await events.done;
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ooms()).toHaveLength(seen);
  });

  test('events goes on while the container is stopped (its cgroup stays until delete), as runc\'s does, and ends with status 0 once it is deleted', async () => {
    // The container ends once `events` has begun (it refuses a container already stopped).
    const b = bundle(['sh', '-c', 'while [ ! -e /go ]; do sleep 0.05; done'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const out = path.join(b.dir, 'events.txt');
    const events = s.cli.spawn(['events', '--interval', '200ms', b.id], { stdoutFile: out, timeoutMs: 30_000 });
    const stats = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '').split('\n').filter((l) => l.includes('"stats"'));
    await waitFor(() => stats().length >= 1, 'a first stats line');
    fs.writeFileSync(path.join(b.rootfs, 'go'), '');
    await s.cli.waitStatus(b.id, 'stopped');
    const atStop = stats().length;
    await waitFor(() => stats().length >= atStop + 3, 'stats lines while the container is stopped');
    expect(JSON.parse(stats().at(-1) as string)).toMatchObject({ type: 'stats', id: b.id, data: { memory: expect.any(Object) } });
    expectOk(s.cli.delete(b.id));
    const r = await events.done;
    expect({ code: r.code, timedOut: r.timedOut, stderr: r.stderr }).toEqual({ code: 0, timedOut: false, stderr: '' });
  });

  test('events ends once the container is deleted, as runc\'s does, not at its next tick', async () => {
    const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20 } });
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    // A tick that never comes within the test: only the deletion can end the stream.
    const events = s.cli.spawn(['events', '--interval', '1000h', b.id], { stdoutFile: path.join(b.dir, 'events.txt'), timeoutMs: 15_000 });
    // Deleted once `events` has found the container and waits, not before.
    for (let tries = 0; tries < 50 && !(await waitsQuietly(events.pid, 300)); tries++) await sleep(100);
    expectOk(s.cli.delete(b.id, true));
    const r = await events.done;
    expect({ code: r.code, timedOut: r.timedOut, stderr: r.stderr }).toEqual({ code: 0, timedOut: false, stderr: '' });
  });

  test('events gives its first stats line after one interval, not at once (runc\'s ticker)', async () => {
    const b = bundle(['sleep', '1000'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const out = path.join(b.dir, 'events.txt');
    const events = s.cli.spawn(['events', '--interval', '4s', b.id], { stdoutFile: out, timeoutMs: 30_000 });
    const stats = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '').split('\n').filter((l) => l.includes('"stats"'));
    await new Promise((r) => setTimeout(r, 2000));
    expect(stats()).toHaveLength(0);
    await waitFor(() => stats().length === 1, 'the first stats line', 20_000);
    expectOk(s.cli.delete(b.id, true));
    const r = await events.done;
    expect({ code: r.code, timedOut: r.timedOut }).toEqual({ code: 0, timedOut: false });
  });

  test('events whose reader goes away ends without a word, as runc dies of SIGPIPE (nothing in the log a shim reads errors from)', () => {
    const b = bundle(['sleep', '1000'], {});
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const logFile = path.join(b.dir, 'events-log.json');
    // go-runc's Stats() reads one object and closes the pipe; head does the same.
    const cmd = [BINARY, ...s.cli.fullArgs(['--log', logFile, '--log-format', 'json', 'events', '--interval', '100ms', b.id])]
      .map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `${cmd} | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toBe('141\n');
    expect(fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '').toBe('');
    expectOk(s.cli.delete(b.id, true));
  });

  test('events with an interval longer than a Node timer holds (2^31 ms) waits it, not 1 ms; one past Go\'s longest duration is refused', async () => {
    const b = bundle(['sleep', '1000'], {});
    expectOk(s.cli.create(b.id, b.dir));
    const out = path.join(b.dir, 'events-long.txt');
    const events = s.cli.spawn(['events', '--interval', '1000h', b.id], { stdoutFile: out, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(events.pid, 'SIGKILL');
    const r = await events.done;
    expect({ stats: fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('"stats"')).length, stderr: r.stderr }).toEqual({ stats: 0, stderr: '' });
    const tooLong = s.cli.run(['events', '--interval', '3000000h', b.id]);
    expect(tooLong.code).not.toBe(0);
    expect(tooLong.stderr).toMatch(/invalid value \\?"3000000h\\?" for flag -interval: parse error/);
    expectOk(s.cli.delete(b.id, true));
  });

  if (flavorOf(BINARY) === 'tsrun') {
    test('events ends at SIGTERM with status 0, its OOM watch released (no read left blocking the exit)', async () => {
      const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20 } });
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.start(b.id));
      const out = path.join(b.dir, 'events.txt');
      // The first line comes after one interval; the next tick is pending at the SIGTERM.
      const events = s.cli.spawn(['events', '--interval', '1s', b.id], { stdoutFile: out, timeoutMs: 20_000 });
      await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('"stats"'), 'a first stats line');
      process.kill(events.pid, 'SIGTERM');
      const r = await events.done;
      expect({ code: r.code, timedOut: r.timedOut, stderr: r.stderr }).toEqual({ code: 0, timedOut: false, stderr: '' });
      expectOk(s.cli.delete(b.id, true));
    });
  }

  test('pause freezes a busy container, state says paused, resume thaws it; runc\'s errors', async () => {
    const b = bundle(['sh', '-c', 'while :; do :; done'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const notPaused = s.cli.run(['resume', b.id]);
    expect({ code: notPaused.code, err: notPaused.stderr }).toEqual({ code: 1, err: expect.stringContaining('container not paused') });
    expectOk(s.cli.run(['pause', b.id]));
    expect(s.cli.state(b.id).status).toBe('paused');
    expect(file(b, 'freezer', 'freezer.state')).toBe('FROZEN');
    const again = s.cli.run(['pause', b.id]);
    expect({ code: again.code, err: again.stderr }).toEqual({ code: 1, err: expect.stringContaining('container not running') });
    // A frozen task makes no progress: its cpu time stays put while frozen.
    const usage = () => Number(file(b, 'cpuacct', 'cpuacct.usage'));
    const before = usage();
    await sleep(100);
    expect(usage()).toBe(before);
    expectOk(s.cli.run(['resume', b.id]));
    expect(s.cli.state(b.id).status).toBe('running');
    expect(file(b, 'freezer', 'freezer.state')).toBe('THAWED');
    await waitFor(() => usage() > before, 'cpu time to grow again after resume');
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    const stopped = s.cli.run(['pause', b.id]);
    expect({ code: stopped.code, err: stopped.stderr }).toEqual({ code: 1, err: expect.stringContaining('container not running') });
    expectOk(s.cli.delete(b.id));
  });

  test('delete --force of a paused container kills it and removes its cgroups', () => {
    const b = bundle(['sh', '-c', 'sleep 1000 & exec sleep 1000'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    expectOk(s.cli.run(['pause', b.id]));
    const pid = s.cli.state(b.id).pid as number;
    const refused = s.cli.delete(b.id);
    expect({ code: refused.code, err: refused.stderr }).toEqual({ code: 1, err: expect.stringContaining('paused') });
    expectOk(s.cli.delete(b.id, true));
    expect(pidAlive(pid)).toBe(false);
    for (const c of ['memory', 'freezer', 'pids']) expect(leafExists(b, c)).toBe(false);
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a created container can be paused and resumed (as runc allows)', () => {
    const b = bundle(['true'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.run(['pause', b.id]));
    expect(s.cli.state(b.id).status).toBe('paused');
    expectOk(s.cli.run(['resume', b.id]));
    expect(s.cli.state(b.id).status).toBe('created');
    expectOk(s.cli.delete(b.id));
  });

  test('ps lists the container\'s processes; kill --all reaches every one of them', async () => {
    // The init becomes a sleep that has no SIGTERM handler, as pid 1 of its namespace.
    const b = bundle(['sh', '-c', 'sleep 1000 & sleep 1000 & sleep 1000 & exec sleep 1000'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const init = s.cli.state(b.id).pid as number;
    const pidsNow = (): number[] => JSON.parse(s.cli.run(['ps', '--format', 'json', b.id]).stdout);
    await waitFor(() => pidsNow().length === 4, 'init and three sleeps');
    const pids = pidsNow();
    expect(pids).toContain(init);
    expect(pids.map(String).sort()).toEqual(fs.readFileSync(path.join(V1, 'pids', b.cgroupsPath, 'cgroup.procs'), 'utf8').trim().split('\n').sort());

    const table = s.cli.run(['ps', b.id]);
    expectOk(table);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/PID/);
    expect(rows.slice(1).map((r) => Number(r.trim().split(/\s+/)[1])).sort()).toEqual([...pids].sort());
    const custom = s.cli.run(['ps', b.id, '-o', 'pid,comm']);
    expectOk(custom);
    expect(custom.stdout.trim().split('\n').slice(1).filter((l) => /sleep/.test(l))).toHaveLength(4);

    // SIGTERM: pid 1 of the namespace ignores it (no handler), the sleeps die.
    // A plain `kill` would only have signalled the init.
    expectOk(s.cli.kill(b.id, 'TERM', ['--all']));
    await waitFor(() => pidsNow().length === 1, 'only the init left');
    expect(pidsNow()).toEqual([init]);
    expectOk(s.cli.kill(b.id, 'KILL', ['--all']));
    await s.cli.waitStatus(b.id, 'stopped');
    // runc prints Go's nil slice for a container with no processes
    expect(s.cli.run(['ps', '--format', 'json', b.id]).stdout).toBe('null\n');
    expectOk(s.cli.delete(b.id));
  });

  test('kill --all of a paused container leaves it paused; the signal lands at resume', async () => {
    const b = bundle(['sh', '-c', 'sleep 1000 & wait'], {});
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    // `ps --format json` prints null once no process is left (runc's shape).
    const pidsNow = (): number[] => JSON.parse(s.cli.run(['ps', '--format', 'json', b.id]).stdout) ?? [];
    await waitFor(() => pidsNow().length === 2, 'the shell and its sleep');
    expectOk(s.cli.run(['pause', b.id]));
    expectOk(s.cli.kill(b.id, 'TERM', ['--all']));
    expect(s.cli.state(b.id).status).toBe('paused');
    expect(pidsNow()).toHaveLength(2); // frozen: nothing has acted on the signal yet
    expectOk(s.cli.run(['resume', b.id]));
    await waitFor(() => pidsNow().length <= 1, 'the sleep to take its SIGTERM once thawed');
    expectOk(s.cli.delete(b.id, true));
  });

  test('events --stats names CPU throttling as runc does (throttledPeriods, throttledTime)', async () => {
    // A busy loop under a quota of 1% is throttled in nearly every period.
    const b = bundle(['sh', '-c', 'while :; do :; done'], { cpu: { quota: 1000, period: 100000 } });
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const throttling = (): Record<string, number> => {
      const r = s.cli.run(['events', '--stats', b.id]);
      expectOk(r);
      return JSON.parse(r.stdout).data.cpu.throttling;
    };
    // The kernel adds a period's throttled time when the throttle ends: right after the
    // first one, throttled_time can still read 0 (and runc, as tsrun, omits a zero).
    await waitFor(() => {
      const t = throttling();
      return (t.throttledPeriods ?? 0) > 0 && (t.throttledTime ?? 0) > 0;
    }, 'the container to be throttled');
    expect(Object.keys(throttling()).sort()).toEqual(['periods', 'throttledPeriods', 'throttledTime']);
    expectOk(s.cli.delete(b.id, true));
  });

  test('events --stats prints one stats object in runc\'s shape', () => {
    const b = bundle(['sleep', '1000'], { memory: { limit: 64 << 20 }, pids: { limit: 20 } });
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const r = s.cli.run(['events', '--stats', b.id]);
    expectOk(r);
    expect(r.stdout.endsWith('}\n')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const e = JSON.parse(r.stdout);
    expect(e.type).toBe('stats');
    expect(e.id).toBe(b.id);
    // runc's types.Stats, in its order: every key always there
    expect(Object.keys(e.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(e.data.memory.usage.limit).toBe(Number(file(b, 'memory', 'memory.limit_in_bytes')));
    expect(e.data.pids).toEqual({ current: 1, limit: 20 });
    expect(e.data.cpu.usage.total).toBeGreaterThan(0);
    expect(Array.isArray(e.data.cpu.usage.percpu)).toBe(true);
    // 2^63 - 4096 ("no limit") is printed with all its digits, as Go does
    if (flavorOf(BINARY) === 'tsrun') expect(r.stdout).toContain(`"kernel":{"limit":9223372036854771712`);
    // Go's durations take the micro sign: it must survive tsrun's bundle, which is
    // written as ASCII and read as latin1.
    expectOk(s.cli.run(['events', '--stats', '--interval', '250\u00b5s', b.id]));
    expect(s.cli.run(['events', '--stats', '--interval', '250\u00b5', b.id]).code).toBe(1);
    expectOk(s.cli.kill(b.id, 'KILL'));
    return s.cli.waitStatus(b.id, 'stopped').then(() => {
      const gone = s.cli.run(['events', '--stats', b.id]);
      expect({ code: gone.code, err: gone.stderr }).toEqual({ code: 1, err: expect.stringContaining(`container with id ${b.id} is not running`) });
      expectOk(s.cli.delete(b.id));
    });
  });
});
