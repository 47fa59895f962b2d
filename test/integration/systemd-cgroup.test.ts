// --systemd-cgroup (src/cgroups/systemd.ts): the container's cgroups are a transient
// systemd scope, "<prefix>-<name>.scope" in the slice cgroupsPath names
// ("slice:prefix:name"), started with the init in it, carrying the limits systemd
// has properties for, and stopped by delete. PID 1 here is not systemd, so the
// runtime under test runs inside a container that boots systemd
// (helpers/systemd-host.ts). Under runc too (TSRUN_TEST_RUNTIME=/usr/sbin/runc),
// except where a test says otherwise.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { errorMessage, flavorOf, runtimeUnderTest, TSRUN_BINARY, waitFor, type RunResult } from '../helpers/runtime';
import { isEmpty } from '../helpers/cleanup';
import { uniqueId, type Bundle } from '../helpers/bundle';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { bootSystemdHost, systemdHostSkipReason, type SystemdHost } from '../helpers/systemd-host';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

/** The host's cgroup hierarchies (their dirs below /sys/fs/cgroup): the scope has a dir in each. */
const HIERARCHIES = fs
  .readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .map((l) => l.split(' '))
  .filter((f) => /^cgroup2?$/.test(f[f.indexOf('-') + 1] ?? '') && f[4]?.startsWith('/sys/fs/cgroup/'))
  .map((f) => (f[4] as string).slice('/sys/fs/cgroup/'.length));

describeIf(containerSkipReason() ?? systemdHostSkipReason())(`--systemd-cgroup (${BINARY})`, () => {
  const s = useSuite('systemd-cgroup', BINARY);
  let host: SystemdHost;
  let innerRoot: string;

  beforeAll(async () => {
    // The systemd host is always tsrun's: only the runtime inside is under test.
    const outer = s.addCli(TSRUN_BINARY, 'outer');
    host = await bootSystemdHost(s, outer);
    innerRoot = path.join(s.env.tmp, 'inner-state');
  });

  afterEach(() => {
    // The inner containers end with the host (its pid namespace); between tests,
    // each test deletes its own.
    const left = host?.run(['sh', '-c', `ls ${innerRoot} 2>/dev/null || true`]).stdout.trim();
    for (const id of (left ?? '').split('\n').filter(Boolean)) inner(['delete', '--force', id]);
  });

  const inner = (args: string[]): RunResult => host.run([BINARY, '--systemd-cgroup', '--root', innerRoot, ...args]);

  /** A bundle whose cgroupsPath is systemd's form (the suite's helper writes an absolute path). */
  const bundle = (slice: string, configure: (c: Bundle['config'], cgroup: string) => void = () => undefined): { b: Bundle; unit: string; cgroup: string } => {
    const id = uniqueId('sd');
    const unit = `tsrun-test-${id}.scope`;
    const cgroup = `${expandSlice(slice)}/${unit}`;
    const b = s.bundle({ id, configure: (c) => configure(c, cgroup) });
    b.config.linux.cgroupsPath = `${slice}:tsrun-test:${id}`;
    fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
    return { b, unit, cgroup };
  };

  /** The host dir of the scope's cgroup in one hierarchy. */
  const dirOf = (hierarchy: string, cgroup: string): string => host.hostCgroupDir(hierarchy, cgroup);
  const read = (hierarchy: string, cgroup: string, file: string): string => fs.readFileSync(path.join(dirOf(hierarchy, cgroup), file), 'utf8').trim();

  const expectUnitGone = (unit: string, cgroup: string): void => {
    expect(host.show(unit, ['ActiveState', 'LoadState'])).toEqual({ ActiveState: 'inactive', LoadState: 'not-found' });
    expect(HIERARCHIES.filter((h) => fs.existsSync(dirOf(h, cgroup)))).toEqual([]);
  };

  test('create starts a scope holding the init, with the limits as unit properties and files; exec joins it; update, pause and delete go through it', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { ...c.linux.resources, memory: { limit: 32 << 20 }, pids: { limit: 40 }, cpu: { shares: 512 } };
    });
    expectOk(inner(['create', '--bundle', b.dir, b.id]));
    expect(host.show(unit, ['ActiveState', 'Slice', 'ControlGroup', 'Delegate', 'DefaultDependencies', 'MemoryAccounting', 'CPUAccounting', 'BlockIOAccounting', 'TasksAccounting', 'MemoryLimit', 'TasksMax', 'CPUShares'])).toEqual({
      ActiveState: 'active',
      Slice: 'system.slice',
      ControlGroup: cgroup,
      Delegate: 'yes',
      DefaultDependencies: 'no',
      MemoryAccounting: 'yes',
      CPUAccounting: 'yes',
      BlockIOAccounting: 'yes',
      TasksAccounting: 'yes',
      MemoryLimit: String(32 << 20),
      TasksMax: '40',
      CPUShares: '512',
    });
    // The init is in the scope in every hierarchy, systemd's and the others.
    for (const h of HIERARCHIES) expect({ h, procs: read(h, cgroup, 'cgroup.procs').split('\n').length }).toEqual({ h, procs: 1 });
    expect(read('memory', cgroup, 'memory.limit_in_bytes')).toBe(String(32 << 20));
    expect(read('pids', cgroup, 'pids.max')).toBe('40');
    expect(read(HIERARCHIES.find((h) => h.split(',').includes('cpu')) as string, cgroup, 'cpu.shares')).toBe('512');

    expectOk(inner(['start', b.id]));
    const exec = inner(['exec', b.id, 'cat', '/proc/self/cgroup']);
    expectOk(exec);
    for (const controller of ['memory', 'pids', 'freezer', 'name=systemd']) {
      expect(exec.stdout.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))?.split(':')[2]).toBe(cgroup);
    }

    expectOk(inner(['update', '--memory', String(64 << 20), '--pids-limit', '60', b.id]));
    expect(host.show(unit, ['MemoryLimit', 'TasksMax'])).toEqual({ MemoryLimit: String(64 << 20), TasksMax: '60' });
    expect(read('memory', cgroup, 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read('pids', cgroup, 'pids.max')).toBe('60');

    expectOk(inner(['pause', b.id]));
    expect(read('freezer', cgroup, 'freezer.state')).toBe('FROZEN');
    expectOk(inner(['resume', b.id]));
    expect(read('freezer', cgroup, 'freezer.state')).toBe('THAWED');

    expectOk(inner(['kill', b.id, 'KILL']));
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  test('run: the slice may be nested ("a-b.slice" lies in "a.slice"); the exit status is the process\'s, and the scope is gone after', () => {
    const slice = 'tsrun_test-sub.slice';
    const { b, unit, cgroup } = bundle(slice, (c, cg) => {
      c.process.args = ['sh', '-c', 'cat /proc/self/cgroup; exit 3'];
      void cg;
    });
    const r = inner(['run', '--bundle', b.dir, b.id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: '' });
    // In every hierarchy. runc 1.1.5 leaves its process in the new slice's devices
    // cgroup, not the scope's (it joins the dir before systemd is done with the slice
    // it just made, which then takes the scope's devices dir away): tsrun only.
    if (FLAVOR === 'runc') return;
    const elsewhere = r.stdout.split('\n').filter((l) => l !== '' && !l.endsWith(`:${cgroup}`));
    expect({ elsewhere, lines: r.stdout.split('\n').filter(Boolean).length }).toEqual({ elsewhere: [], lines: HIERARCHIES.length });
    expect(cgroup).toBe(`/tsrun_test.slice/tsrun_test-sub.slice/${unit}`);
    expectUnitGone(unit, cgroup);
  });

  test('the device rules are the unit\'s too: an update (systemd writes the device cgroup again) and a daemon-reload keep them, and the running container keeps its devices', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 136, access: 'rwm' }] };
    });
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    const rules = (): string[] => read('devices', cgroup, 'devices.list').split('\n').sort();
    const before = rules();
    expect(before).toEqual(expect.arrayContaining(['c 1:3 rwm', 'c 136:* rwm', 'c *:* m', 'b *:* m']));
    expect(host.show(unit, ['DevicePolicy'])).toEqual({ DevicePolicy: 'strict' });
    expectOk(inner(['update', '--memory', String(48 << 20), b.id]));
    expect(rules()).toEqual(before);
    expectOk(host.run(['systemctl', 'daemon-reload']));
    expect(rules()).toEqual(before);
    const exec = inner(['exec', b.id, 'sh', '-c', 'echo ok > /dev/null && echo fine']);
    expect({ code: exec.code, stdout: exec.stdout }).toEqual({ code: 0, stdout: 'fine\n' });
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  // runc 1.1.5 gives systemd only the fields an update names (a period alone drops
  // the quota): tsrun only.
  (FLAVOR === 'tsrun' ? test : test.skip)('update tells systemd the settings after it: a period alone keeps the quota, in systemd\'s copy too', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { cpu: { quota: 25000, period: 50000 } };
    });
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    const cpu = HIERARCHIES.find((h) => h.split(',').includes('cpu')) as string;
    expectOk(inner(['update', '--cpu-period', '100000', b.id]));
    expect({ quota: read(cpu, cgroup, 'cpu.cfs_quota_us'), period: read(cpu, cgroup, 'cpu.cfs_period_us') }).toEqual({ quota: '25000', period: '100000' });
    expect(host.show(unit, ['CPUQuotaPerSecUSec'])).toEqual({ CPUQuotaPerSecUSec: '250ms' });
    expectOk(host.run(['systemctl', 'daemon-reload']));
    expect(read(cpu, cgroup, 'cpu.cfs_quota_us')).toBe('25000');
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  // runc 1.1.5 leaves the device rules systemd cannot hold to systemd's rewrite at
  // each update (a default-allow list then denies everything): tsrun only.
  (FLAVOR === 'tsrun' ? test : test.skip)('update puts back the device rules systemd cannot hold (a default-allow list with an exception)', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 12, access: 'rw' }] };
    });
    const started = inner(['run', '-d', '--bundle', b.dir, b.id]);
    expect({ code: started.code, stderr: errorMessage(started) }).toEqual({ code: 0, stderr: expect.stringMatching(/systemd cannot hold device rules that allow by default/) });
    const devices = (): string => read('devices', cgroup, 'devices.list');
    const before = devices();
    expect(before.split('\n')).toEqual(expect.arrayContaining(['a *:* rwm']));
    expectOk(inner(['update', '--memory', String(64 << 20), b.id]));
    expect(devices()).toBe(before);
    const exec = inner(['exec', b.id, 'sh', '-c', 'head -c1 /dev/zero >/dev/null && echo zero-read']);
    expect({ code: exec.code, stdout: exec.stdout }).toEqual({ code: 0, stdout: 'zero-read\n' });
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  (fs.existsSync('/usr/bin/containerd') ? test : test.skip)('under containerd (ctr run --runc-systemd-cgroup, as with SystemdCgroup = true): the shim\'s create, start, kill and delete go through the scope', () => {
    const dir = path.join(s.env.tmp, 'containerd');
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, 'config.toml');
    fs.writeFileSync(config, [
      'version = 2',
      'root = "/var/lib/tsrun-test-containerd"',
      'state = "/run/tsrun-test-containerd"',
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
      '[grpc]',
      '  address = "/run/tsrun-test-containerd/containerd.sock"',
      '[ttrpc]',
      '  address = "/run/tsrun-test-containerd/containerd.sock.ttrpc"',
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'));
    // A service of the systemd host's: it ends with the host.
    expect(host.run(['systemd-run', '--quiet', '--unit=tsrun-test-containerd', 'containerd', '--config', config]).code).toBe(0);
    const ctr = (args: string[]): RunResult => host.run(['ctr', '--address', '/run/tsrun-test-containerd/containerd.sock', '--namespace', 'tsrun-test', ...args]);
    for (let i = 0; ctr(['version']).code !== 0; i++) if (i > 100) throw new Error('containerd did not come up');
    const rootfs = s.bundle().rootfs;
    const id = uniqueId('ctr');
    const unit = `ctr-${id}.scope`;
    const run = ctr(['run', '--rootfs', '--runc-binary', BINARY, '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${id}`, '--rm', rootfs, id, '/bin/sh', '-c', 'cat /proc/self/cgroup; exit 4']);
    const memory = run.stdout.split('\n').find((l) => /:memory:/.test(l))?.replace(/^\d+:/, '');
    expect({ code: run.code, memory }).toEqual({ code: 4, memory: `memory:/system.slice/${unit}` });
    expect(host.show(unit, ['LoadState'])).toEqual({ LoadState: 'not-found' });

    const id2 = uniqueId('ctr');
    const unit2 = `ctr-${id2}.scope`;
    expectOk(ctr(['run', '-d', '--rootfs', '--runc-binary', BINARY, '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${id2}`, rootfs, id2, '/bin/sleep', '1000']));
    expect(host.show(unit2, ['ActiveState'])).toEqual({ ActiveState: 'active' });
    expectOk(ctr(['task', 'kill', '--signal', 'SIGKILL', id2]));
    for (let i = 0; !/STOPPED/.test(ctr(['task', 'ls']).stdout); i++) if (i > 100) throw new Error('the task did not stop');
    // ctr warns that the task ended with 137 (SIGKILL).
    expect(ctr(['task', 'delete', id2]).code).toBe(0);
    expectOk(ctr(['container', 'delete', id2]));
    expect(host.show(unit2, ['LoadState'])).toEqual({ LoadState: 'not-found' });
  });

  (fs.existsSync('/usr/bin/podman') ? test : test.skip)('under podman --cgroup-manager systemd: podman\'s "machine.slice:libpod:<id>" scope, beside the one it makes for conmon; rm stops it', () => {
    const dir = path.join(s.env.tmp, 'podman');
    fs.mkdirSync(dir, { recursive: true });
    const tar = path.join(dir, 'rootfs.tar');
    const packed = spawnSync('tar', ['-C', s.bundle().rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
    expect(packed.status).toBe(0);
    const podman = (args: string[]): RunResult => host.run(['podman', '--root', path.join(dir, 'storage'), '--runroot', '/run/tsrun-test-podman', '--storage-driver', 'vfs', '--cgroup-manager', 'systemd', '--events-backend', 'file', ...args]);
    // podman's temporary files go to /var/tmp, which the systemd host's fresh /var lacks.
    expectOk(host.run(['mkdir', '-p', '/var/tmp']));
    expect(podman(['import', tar, 'localhost/tsrun-test:1']).code).toBe(0);
    const run = podman(['run', '--rm', '--network', 'none', '--runtime', BINARY, 'localhost/tsrun-test:1', '/bin/sh', '-c', 'grep :memory: /proc/self/cgroup; exit 5']);
    expect(run.code).toBe(5);
    expect(run.stdout).toMatch(/^\d+:memory:\/machine\.slice\/libpod-[0-9a-f]{64}\.scope\n$/);
    const started = podman(['run', '-d', '--name', 'tsrun-test-d', '--network', 'none', '--runtime', BINARY, 'localhost/tsrun-test:1', '/bin/sleep', '1000']);
    expect(started.code).toBe(0);
    const unit = `libpod-${started.stdout.trim()}.scope`;
    expect(host.show(unit, ['ActiveState', 'Slice'])).toEqual({ ActiveState: 'active', Slice: 'machine.slice' });
    expect(podman(['rm', '--force', '--time', '0', 'tsrun-test-d']).code).toBe(0);
    expect(host.show(unit, ['LoadState'])).toEqual({ LoadState: 'not-found' });
  });

  test('a create into the scope of a running container (the same cgroupsPath) fails and leaves that container and its unit alone', () => {
    const first = bundle('system.slice', (c) => (c.process.args = ['sleep', '1000']));
    expectOk(inner(['run', '-d', '--bundle', first.b.dir, first.b.id]));
    // A second container naming the same unit, whose create fails anyway (a hostname
    // without a UTS namespace), as a clash would also have failed it.
    const second = s.bundle({ configure: (c) => {
      c.process.args = ['true'];
      c.hostname = 'h';
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    } });
    second.config.linux.cgroupsPath = `system.slice:tsrun-test:${first.b.id}`;
    fs.writeFileSync(second.configPath, JSON.stringify(second.config, null, 2));
    expect(inner(['create', '--bundle', second.dir, second.id]).code).not.toBe(0);
    expect(inner(['state', first.b.id]).stdout).toMatch(/"status": "running"/);
    expect(host.show(first.unit, ['ActiveState'])).toEqual({ ActiveState: 'active' });
    expectOk(inner(['delete', '--force', first.b.id]));
    expectUnitGone(first.unit, first.cgroup);
  });

  test('delete --force of a container whose systemd cannot be reached still removes it (as runc: the unit ends by itself once empty)', async () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => (c.process.args = ['sleep', '1000']));
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    // Both ways in: systemd's private socket (tsrun's) and the system bus (runc's).
    const sockets = ['/run/systemd/private', '/run/dbus/system_bus_socket'];
    expectOk(host.run(['sh', '-c', sockets.map((p) => `mv ${p} ${p}.away`).join(' && ')]));
    let r: RunResult;
    try {
      r = inner(['delete', '--force', b.id]);
    } finally {
      host.run(['sh', '-c', sockets.map((p) => `mv ${p}.away ${p}`).join('; ')]);
    }
    expect(r.code).toBe(0);
    expect(inner(['list', '-q']).stdout.trim()).toBe('');
    // Its processes gone, systemd ends the scope itself, when it notices: not within
    // 10 s once on a loaded host (a clean-clone CI run beside other test runs), nor
    // within 30 s in another such run. When it has not yet, the scope must at least be
    // empty (what tsrun owes); it is then stopped here, as the test's own cleanup.
    const ended = () => host.show(unit, ['LoadState']).LoadState === 'not-found';
    await waitFor(ended, `systemd to end ${unit}`, 30_000).catch(() => undefined);
    if (!ended()) {
      const procs = HIERARCHIES.filter((h) => fs.existsSync(dirOf(h, cgroup))).flatMap((h) => fs.readFileSync(path.join(dirOf(h, cgroup), 'cgroup.procs'), 'utf8').split('\n').filter(Boolean));
      expect(procs).toEqual([]);
      expectOk(host.run(['systemctl', 'stop', unit]));
      await waitFor(ended, `${unit} to be stopped`, 30_000);
    }
    expectUnitGone(unit, cgroup);
  });

  test('a foreground run holds no connection to systemd while its container runs', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => (c.process.args = ['sleep', '3']));
    const connections = "ss -x state connected src /run/systemd/private | tail -n +2 | wc -l";
    const r = host.run(['sh', '-c', `before=$(${connections}); ${BINARY} --systemd-cgroup --root ${innerRoot} run --bundle ${b.dir} ${b.id} & sleep 1.5; during=$(${connections}); wait; echo "$before $during"`]);
    expect(r.code).toBe(0);
    const [before, during] = r.stdout.trim().split(' ').map(Number);
    expect(during).toBe(before);
    expectUnitGone(unit, cgroup);
  });

  test('org.systemd.property.* annotations set the unit\'s properties (GVariant text values)', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      // A "...Sec" name is its "...USec" property, in seconds (runc's rule).
      c.annotations = { 'org.systemd.property.TimeoutStopSec': 'uint64 7', 'org.systemd.property.RuntimeMaxUSec': 'uint64 123456789000', 'org.systemd.property.CollectMode': "'inactive-or-failed'" };
    });
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    expect(host.show(unit, ['TimeoutStopUSec', 'RuntimeMaxUSec', 'CollectMode'])).toEqual({ TimeoutStopUSec: '7s', RuntimeMaxUSec: '1d 10h 17min 36.789000s', CollectMode: 'inactive-or-failed' });
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  test('a limit both an annotation and linux.resources give is the config\'s, in the unit as in the files, a daemon-reload after too (runc sets the limits after the annotations)', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.resources = { ...c.linux.resources, pids: { limit: 40 } };
      c.annotations = { 'org.systemd.property.TasksMax': 'uint64 33', 'org.systemd.property.TimeoutStopSec': 'uint64 7' };
    });
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    expect(host.show(unit, ['TasksMax', 'TimeoutStopUSec'])).toEqual({ TasksMax: '40', TimeoutStopUSec: '7s' });
    expect(read('pids', cgroup, 'pids.max')).toBe('40');
    expectOk(host.run(['systemctl', 'daemon-reload']));
    expect(read('pids', cgroup, 'pids.max')).toBe('40');
    expectOk(inner(['delete', '--force', b.id]));
    expectUnitGone(unit, cgroup);
  });

  test('a create that fails after the scope started (a failing prestart hook) leaves no unit, no cgroup and no state', () => {
    const { b, unit, cgroup } = bundle('system.slice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.hooks = { prestart: [{ path: '/bin/false' }] };
    });
    const r = inner(['create', '--bundle', b.dir, b.id]);
    expect(r.code).not.toBe(0);
    expectUnitGone(unit, cgroup);
    expect(inner(['list', '-q']).stdout.trim()).toBe('');
  });

  test('a cgroupsPath not of the form "slice:prefix:name", and a slice name systemd does not take, are refused before anything is made', () => {
    for (const [cgroupsPath, message] of [
      ['/tsrun-test/abs', /expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/tsrun-test\/abs" instead/],
      ['bad--name.slice:p:n', /invalid slice name: bad--name.slice/],
    ] as const) {
      const b = s.bundle({ configure: (c) => (c.process.args = ['true']) });
      b.config.linux.cgroupsPath = cgroupsPath;
      fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
      const r = inner(['create', '--bundle', b.dir, b.id]);
      expect(r.code).not.toBe(0);
      expect(errorMessage(r)).toMatch(message);
      expect(inner(['list', '-q']).stdout.trim()).toBe('');
    }
  });
});

describeIf(containerSkipReason() ?? systemdHostSkipReason())(`--systemd-cgroup on a pure cgroup v2 host (${BINARY})`, () => {
  const s = useSuite('systemd-cgroup-v2', BINARY);
  let host: SystemdHost;
  let innerRoot: string;

  beforeAll(async () => {
    host = await bootSystemdHost(s, s.addCli(TSRUN_BINARY, 'outer'), true);
    innerRoot = path.join(s.env.tmp, 'inner-state');
  });

  const inner = (args: string[]): RunResult => host.run([BINARY, '--systemd-cgroup', '--root', innerRoot, ...args]);

  test('the scope holds the init in the v2 hierarchy; the device rules hold in it; delete stops the scope and its cgroup goes', () => {
    const id = uniqueId('sd');
    const unit = `tsrun-test-${id}.scope`;
    const b = s.bundle({
      id,
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        // /dev/full is one of the devices every container may use: a config that
        // defines it drops that default (runc's rule), and this one denies it.
        c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }] };
      },
    });
    b.config.linux.cgroupsPath = `system.slice:tsrun-test:${id}`;
    b.config.linux.devices = [{ path: '/dev/full', type: 'c', major: 1, minor: 7 }];
    fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
    expectOk(inner(['run', '-d', '--bundle', b.dir, b.id]));
    expect(host.show(unit, ['ActiveState', 'ControlGroup'])).toEqual({ ActiveState: 'active', ControlGroup: `/system.slice/${unit}` });
    const exec = inner(['exec', b.id, 'sh', '-c', 'cat /proc/self/cgroup; head -c1 /dev/zero >/dev/null && echo zero-read; head -c1 /dev/full >/dev/null 2>&1 && echo full-read || echo full-refused']);
    expect(exec.stdout.split('\n')).toEqual(expect.arrayContaining([`0::/system.slice/${unit}`, 'zero-read', 'full-refused']));
    expect(fs.readFileSync(path.join(host.hostCgroupDir('unified', `system.slice/${unit}`), 'cgroup.procs'), 'utf8').trim().split('\n')).toHaveLength(1);
    expectOk(inner(['delete', '--force', b.id]));
    expect(host.show(unit, ['ActiveState', 'LoadState'])).toEqual({ ActiveState: 'inactive', LoadState: 'not-found' });
    expect(fs.existsSync(host.hostCgroupDir('unified', `system.slice/${unit}`))).toBe(false);
  });
});

describeIf(containerSkipReason())(`--systemd-cgroup on a host without systemd (${BINARY})`, () => {
  const s = useSuite('systemd-cgroup-none', BINARY);
  afterEach(() => s.forceClean());

  test('create and run fail with runc\'s message and leave nothing', () => {
    if (fs.existsSync('/run/systemd/system')) return; // this host runs systemd: nothing to show here
    const b = s.bundle();
    b.config.linux.cgroupsPath = `system.slice:tsrun-test:${b.id}`;
    fs.writeFileSync(b.configPath, JSON.stringify(b.config, null, 2));
    for (const cmd of ['create', 'run']) {
      const r = s.cli.run(['--systemd-cgroup', cmd, '--bundle', b.dir, b.id]);
      expect({ cmd, code: r.code, stdout: r.stdout }).toEqual({ cmd, code: 1, stdout: '' });
      expect(errorMessage(r)).toMatch(/systemd not running on this host, cannot use systemd cgroups manager/);
      expect(s.cli.run(['list', '-q']).stdout.trim()).toBe('');
      expect(isEmpty(s.leftovers())).toBe(true);
    }
  });
});

/** systemd's slice naming (as src/cgroups/systemd-unit.ts's expandSlice), for the expected paths. */
function expandSlice(slice: string): string {
  const base = slice.slice(0, -'.slice'.length);
  let out = '';
  let prefix = '';
  for (const part of base.split('-')) {
    out += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return out;
}
