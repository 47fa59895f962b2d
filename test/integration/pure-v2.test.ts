// The pure cgroup v2 layout, end to end, on a hybrid host: the test seam
// TSRUN_TEST_CGROUP_ROOT (src/cgroups/detect.ts) points tsrun at the cgroup2 mount,
// so it sees a unified-only host. Processes land in the v2 cgroup alone (born there
// by clone3), the container's /sys/fs/cgroup is that cgroup, device access is
// enforced by the BPF program, pause freezes through cgroup.freeze, and kill --all
// and delete empty the cgroup. (The v1 hierarchies are not tsrun's here: its
// processes stay in the test runner's v1 cgroups.) The hierarchy has no controllers
// enabled for children here, so limits are not tested.
import * as fs from 'fs';
import * as path from 'path';
import { detectCgroupLayout } from '../../src/cgroups/detect';
import type { Spec } from '../helpers/bundle';
import { TSRUN_BINARY, runtimeUnderTest, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const unified = detectCgroupLayout().hierarchies.find((h) => h.kind === 'v2');
const skip = containerSkipReason() ?? (BINARY !== TSRUN_BINARY ? 'the seam is tsrun\'s' : !unified ? 'no cgroup2 mount' : undefined);

/** hierarchy (the controllers field, '' for v2) -> path, from /proc/<pid>/cgroup text. */
const cgroupLines = (text: string): Map<string, string> =>
  new Map(text.split('\n').filter(Boolean).map((l) => [l.split(':')[1]!, l.split(':').slice(2).join(':')]));

describeIf(skip)(`pure cgroup v2 layout through TSRUN_TEST_CGROUP_ROOT (${BINARY})`, () => {
  const s = useSuite('purev2', BINARY);
  afterEach(() => {
    s.forceClean();
  });
  const env = { env: { TSRUN_TEST_CGROUP_ROOT: unified?.mountPoint ?? '' } };
  const cli = (args: string[]) => s.cli.run(args, env);

  const running = (configure?: (c: Spec) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        c.linux.namespaces.push({ type: 'cgroup' });
        configure?.(c);
      },
    });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d'], env));
    return { b, pid: s.cli.state(b.id).pid as number };
  };

  test('the init and an exec are in the v2 cgroup only; inside, /sys/fs/cgroup is that cgroup', () => {
    const { b, pid } = running();
    const own = cgroupLines(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    const expected = new Map([...own].map(([k, v]) => [k, k === '' ? b.cgroupsPath : v]));
    expect(cgroupLines(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))).toEqual(expected);
    expect(fs.readFileSync(path.join(unified!.mountPoint, b.cgroupsPath, 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));

    const inside = expectOk(cli(['exec', b.id, 'sh', '-c', 'grep "^0::" /proc/self/cgroup; ls /sys/fs/cgroup | grep -c "^cgroup\\."']));
    const [line, files] = inside.stdout.trim().split('\n');
    expect(line).toBe('0::/');
    expect(Number(files)).toBeGreaterThan(5); // cgroup.procs, cgroup.freeze...: a v2 dir, not v1's tmpfs
    expectOk(cli(['delete', '--force', b.id]));
  });

  // /dev/loop-control: root may open it without a capability, and runc's default
  // rules do not allow it; a config rule allowing it is the control.
  test.each([
    ['denies a device the rules do not allow', [], 'denied'],
    ['allows it once a rule does', [{ allow: true, type: 'c', major: 10, minor: 237, access: 'rw' }], 'opened'],
  ])('devices: the BPF program %s', (_, rules, expected) => {
    const { b } = running((c) => {
      c.mounts.push({ destination: '/dev/loop-control', type: 'bind', source: '/dev/loop-control', options: ['bind'] });
      c.linux.resources.devices.push(...rules);
    });
    const r = cli(['exec', b.id, 'sh', '-c', '(exec 3</dev/loop-control) 2>/dev/null && echo opened || echo denied; echo x > /dev/null && echo null-ok']);
    expectOk(r);
    expect(r.stdout).toBe(`${expected}\nnull-ok\n`);
    expectOk(cli(['delete', '--force', b.id]));
  });

  test('pause freezes through cgroup.freeze, resume thaws; kill --all and delete leave the cgroup empty and gone', async () => {
    const { b } = running();
    const dir = path.join(unified!.mountPoint, b.cgroupsPath);
    expectOk(cli(['pause', b.id]));
    expect(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim()).toBe('1');
    expect(JSON.parse(expectOk(cli(['state', b.id])).stdout).status).toBe('paused');
    expectOk(cli(['resume', b.id]));
    expect(JSON.parse(expectOk(cli(['state', b.id])).stdout).status).toBe('running');

    expectOk(cli(['exec', '-d', b.id, 'sleep', '1000']));
    expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n')).toHaveLength(2);
    expectOk(cli(['kill', '--all', b.id, 'KILL']));
    // An exited process leaves cgroup.procs at once (a zombie is no longer listed).
    await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', 'the cgroup to empty');
    // The init, pid 1 of its namespace, finishes exiting once the other process's
    // zombie there is reaped: a moment later.
    await waitFor(() => JSON.parse(expectOk(cli(['state', b.id])).stdout).status === 'stopped', 'the container to stop');
    expectOk(cli(['delete', b.id]));
    expect(fs.existsSync(dir)).toBe(false);
  });
});
