// The v2 device eBPF program on this machine's real cgroup2 mount: BPF device
// programs work on any cgroup2 dir, whichever controllers are enabled, so the
// hybrid layout's /sys/fs/cgroup/unified is enough. A shell placed in the cgroup
// opens devices after the program is attached; the kernel's verdict (EPERM or
// success) is what is checked. Everything lives under a random parent this file
// creates and removes.
import { spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { removeCgroupDir } from '../../scripts/lib/host-scope';
import { killChild } from '../helpers/children';
import { createCgroupManager, type CgroupManager } from '../../src/cgroups';
import { deviceRuleLines, effectiveDeviceRules } from '../../src/cgroups/devices';
import { emulateDeviceCgroup } from '../../src/cgroups/v2-devices-bpf';
import type { DeviceCgroupRule } from '../../src/config/types';
import { CgroupError } from '../../src/errors';
import { native } from '../../src/native';

const UNIFIED = '/sys/fs/cgroup/unified';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasUnified = fs.existsSync(path.join(UNIFIED, 'cgroup.controllers'));
const suite = isRoot && hasUnified ? describe : describe.skip;

const parent = `tsrun-test-${crypto.randomBytes(4).toString('hex')}`;
const leaf = path.join(UNIFIED, parent, 'c1');
const children: ChildProcess[] = [];
const denyAll: DeviceCgroupRule = { allow: false, access: 'rwm' };

// Waits for a line on stdin (sent once the child is in the cgroup and the program
// attached), then opens /dev/zero for reading and /dev/null for writing.
const PROBE = 'read go; if [ "$(head -c1 /dev/zero | wc -c)" = 1 ]; then echo zero=ok; else echo zero=denied; fi; '
  + 'if echo x >/dev/null; then echo null=ok; else echo null=denied; fi';

/** Runs the probe shell inside the cgroup; returns its stdout and stderr. */
async function probe(m: CgroupManager, attach: () => void): Promise<string> {
  const child = spawn('sh', ['-c', PROBE], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  m.apply(child.pid!);
  attach();
  child.stdin!.end('go\n');
  await closed;
  return out;
}

suite('v2 device eBPF program on the real cgroup2 mount', () => {
  let m: CgroupManager;
  let firstIds: number[] = [];

  beforeAll(() => {
    m = createCgroupManager({ root: UNIFIED, cgroupsPath: `/${parent}/c1`, id: 'c1' });
    m.create();
  });

  afterAll(async () => {
    for (const c of children) await killChild(c);
    // The programs go with the cgroup.
    for (const dir of [leaf, path.join(UNIFIED, parent)]) {
      removeCgroupDir(dir); // waits out EBUSY while a killed task leaves
    }
  });

  test("runc's defaults without /dev/null: /dev/null gets EPERM, /dev/zero opens", async () => {
    expect(native().deviceFilterIds(leaf)).toEqual([]);
    const out = await probe(m, () => m.setDevices([denyAll], ['/dev/null']));
    expect(out).toMatch(/zero=ok/);
    expect(out).toMatch(/null=denied/);
    expect(out).toMatch(/\/dev\/null: Operation not permitted/);
    firstIds = native().deviceFilterIds(leaf);
    expect(firstIds).toHaveLength(1);
  });

  test('a second program replaces the first: one program attached, its rules alone apply', async () => {
    // /dev/null allowed again, /dev/zero now denied: if the first program were still
    // attached (ALLOW_MULTI runs all of them), /dev/null would stay denied.
    const out = await probe(m, () => m.setDevices([denyAll], ['/dev/zero']));
    expect(out).toMatch(/zero=denied/);
    expect(out).toMatch(/null=ok/);
    const ids = native().deviceFilterIds(leaf);
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(firstIds[0]);
  });

  test('a config rule allows a device beyond the defaults (c 1:3 w after the defaults were dropped)', async () => {
    const out = await probe(m, () => m.setDevices([denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' }], ['/dev/null', '/dev/zero']));
    expect(out).toMatch(/zero=denied/);
    expect(out).toMatch(/null=ok/);
    expect(native().deviceFilterIds(leaf)).toHaveLength(1);
  });

  test('attaching to a dir that is not a cgroup fails naming the syscall and errno', () => {
    const bad = createCgroupManager({ root: UNIFIED, restore: { paths: { unified: path.join(UNIFIED, parent, 'missing') } }, id: '' });
    expect(() => bad.setDevices([denyAll])).toThrow(CgroupError);
    expect(() => bad.setDevices([denyAll])).toThrow(/device filter for .*missing: open .*missing: ENOENT/);
  });
});

// The planner's model of the v1 devices cgroup against the kernel's own: the same
// lines written to a v1 devices cgroup of ours must leave the exception list
// (devices.list) the model computes, including the cases where a deny does not
// punch a hole into a wider allow.
const V1_DEVICES = '/sys/fs/cgroup/devices';
const v1suite = isRoot && fs.existsSync(path.join(V1_DEVICES, 'devices.list')) ? describe : describe.skip;

v1suite('device rule model against the v1 kernel (devices.list)', () => {
  const v1parent = path.join(V1_DEVICES, `tsrun-test-${crypto.randomBytes(4).toString('hex')}`);
  afterAll(() => {
    if (!fs.existsSync(v1parent)) return;
    for (const d of fs.readdirSync(v1parent, { withFileTypes: true })) if (d.isDirectory()) fs.rmdirSync(path.join(v1parent, d.name));
    fs.rmdirSync(v1parent);
  });

  const cases: [string, DeviceCgroupRule[]][] = [
    ["runc's defaults", effectiveDeviceRules([denyAll])],
    ['a deny removes bits of the same device', [denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]],
    ['no hole in a wildcard', [denyAll, { allow: true, type: 'c', access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }]],
    ['merge and drop', [denyAll, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'r' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'rw' }]],
    ['allow-all default', [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]],
  ];
  test.each(cases)('%s', (name, rules) => {
    fs.mkdirSync(v1parent, { recursive: true });
    const dir = path.join(v1parent, name.replace(/[^a-z]+/gi, '-'));
    fs.mkdirSync(dir);
    // The lines as written, unchecked: deviceLines refuses the list with a hole (its
    // model says the kernel would keep the wildcard, which this compares).
    const lines = [{ file: 'devices.deny' as const, line: 'a' }, ...rules.flatMap((r, i) => deviceRuleLines(r, i))];
    for (const l of lines) fs.writeFileSync(path.join(dir, l.file), l.line);
    const kernel = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').trim().split('\n').sort();
    const state = emulateDeviceCgroup(lines);
    const bits = (n: number): string => `${n & 2 ? 'r' : ''}${n & 4 ? 'w' : ''}${n & 1 ? 'm' : ''}`;
    // devices.list shows "a *:* rwm" for an allow-all default and hides its exceptions.
    const model = state.defaultAllow ? ['a *:* rwm'] : state.exceptions.map((e) => `${e.type} ${e.major ?? '*'}:${e.minor ?? '*'} ${bits(e.access)}`).sort();
    expect(kernel).toEqual(model);
  });
});
