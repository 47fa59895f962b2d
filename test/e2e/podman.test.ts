// End to end through podman and conmon, the way podman users run containers:
// podman writes the config (its default seccomp profile, masked and read-only
// paths, sysctls, rlimits, tmpfs mounts with runc's tmpcopyup) and conmon calls
// the runtime with its own flags. A private podman (./podman) with the runtime
// under test: TSRUN_E2E_RUNTIME (default <repo>/bin/tsrun); the suite is checked
// against Debian's runc with TSRUN_E2E_RUNTIME=/usr/sbin/runc. Where the suite
// compares, the reference is the same podman with `--runtime` runc.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { describeIf } from '../helpers/suite';
import { RUNC_BINARY as RUNC, RunResult } from '../helpers/runtime';
import { e2eRuntime } from './containerd';
import { CONTAINER_VIEW, expectSameView, RESTRICTED_FLAGS, withMountsSorted } from './container-view';
import { stopsThroughItsTrap, TERM_TRAP_SCRIPT } from './engine-steps';
import { podmanSkipReason, startPodman, type Podman } from './podman';

jest.setTimeout(60_000);

const runtime = e2eRuntime();

describeIf(podmanSkipReason(runtime))(`podman through ${path.basename(runtime)}`, () => {
  let pm: Podman;
  beforeAll(() => {
    pm = startPodman(runtime);
  });
  afterAll(() => {
    if (!pm) return;
    expect(pm.stop()).toEqual([]);
  });

  const ok = (r: RunResult): RunResult => {
    expect({ args: r.args.slice(-6).join(' '), code: r.code, stderr: r.stderr }).toEqual({ args: r.args.slice(-6).join(' '), code: 0, stderr: '' });
    return r;
  };
  const runIn = (flags: string[], script: string, opts?: { input?: string; runtime?: string }): RunResult =>
    pm.run(['run', '--rm', ...pm.containerFlags, ...flags, pm.image, 'sh', '-c', script], opts);

  test('run prints the output and ends with the process\'s exit status; stdin reaches it with -i', () => {
    expect(ok(runIn([], 'echo hello; id -u; hostname | wc -c')).stdout).toMatch(/^hello\n0\n\s*13\n$/);
    const failed = runIn([], 'exit 42');
    expect({ code: failed.code, stderr: failed.stderr }).toEqual({ code: 42, stderr: '' });
    expect(ok(runIn(['-i'], 'cat', { input: 'piped in\n' })).stdout).toBe('piped in\n');
  });

  test('a runtime error reaches podman as a message (JSON log lines), with podman\'s exit status for it: 127 for a missing command', () => {
    const r = pm.run(['run', '--rm', ...pm.containerFlags, pm.image, '/no/such/command']);
    expect(r.code).toBe(127);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Error: .*\/no\/such\/command.*no such file or directory/i);
    // Read as JSON: not the runtime's raw text line (time="..." level=error msg="...").
    expect(lines[0]).not.toMatch(/level=error|msg=/);
  });

  test('podman\'s default config: seccomp filter, masked /proc, read-only /proc/sys with its sysctl written, its own cgroup', () => {
    const r = ok(runIn([], [
      'grep Seccomp: /proc/self/status',
      'cat /proc/sys/net/ipv4/ping_group_range',
      '(echo 1 > /proc/sys/net/ipv4/ip_forward) 2>/dev/null || echo sys-read-only',
      'wc -c < /proc/keys',
      'cat /proc/self/cgroup | grep memory',
    ].join('; ')));
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Seccomp:\s+2$/);
    expect(lines[1]).toMatch(/^0\s+0$/);
    expect(lines[2]).toBe('sys-read-only');
    expect(lines[3]?.trim()).toBe('0');
    // No cgroup namespace on v1 (podman's default): the container's cgroup is the runtime's, below the suite's parent.
    expect(lines[4]?.split(':').slice(1).join(':')).toMatch(new RegExp(`^memory:${pm.cgroupParent}/libpod-[0-9a-f]{64}$`));
  });

  describe('the container podman configures looks as it does under runc', () => {
    const compare = (flags: string[]): void =>
      expectSameView(ok(runIn(flags, CONTAINER_VIEW)).stdout, ok(runIn(flags, CONTAINER_VIEW, { runtime: RUNC })).stdout, withMountsSorted);
    test('podman\'s defaults: capabilities, seccomp, mounts, devices, masked and read-only paths, cgroups', () => compare([]));
    test('with limits, a user, dropped capabilities, no-new-privileges, a read-only rootfs, tmpfs, sysctl, ulimit, device, shm size', () => compare(RESTRICTED_FLAGS));
  });

  test('--read-only: the rootfs refuses writes; /tmp, /run and /var/tmp are tmpfs holding copies of the image\'s files (tmpcopyup)', () => {
    const r = ok(runIn(['--read-only'], [
      'touch /x 2>/dev/null || echo root-read-only',
      'cat /tmp/from-image',
      'echo more >> /tmp/from-image && cat /tmp/from-image',
      'grep -E " /(tmp|run|var/tmp) " /proc/self/mountinfo | cut -d" " -f5,9 | sort',
    ].join('; ')));
    expect(r.stdout).toBe('root-read-only\nseeded\nseeded\nmore\n/run tmpfs\n/tmp tmpfs\n/var/tmp tmpfs\n');
    // The image's file is untouched.
    expect(fs.readFileSync(path.join(pm.rootfs, 'tmp', 'from-image'), 'utf8')).toBe('seeded\n');
  });

  test('limits and identity: --memory, --pids-limit, --user, --cap-drop/--cap-add, -e, -w, --hostname', () => {
    const r = ok(runIn(
      ['--memory', '64m', '--pids-limit', '50', '--user', '1000:1000', '--cap-drop', 'all', '--cap-add', 'NET_RAW', '-e', 'FOO=bar', '-w', '/tmp', '--hostname', 'pm-host'],
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; id -u; id -g; grep CapBnd /proc/self/status; echo $FOO; pwd; hostname',
    ));
    expect(r.stdout).toBe('67108864\n50\n1000\n1000\nCapBnd:\t0000000000002000\nbar\n/tmp\npm-host\n');
  });

  test('a user namespace from --uidmap/--gidmap', () => {
    const r = ok(runIn(['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'], 'id -u; cat /proc/self/uid_map'));
    expect(r.stdout.split('\n')[0]).toBe('0');
    expect(r.stdout.split('\n')[1]?.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
  });

  test('a user namespace and a volume in a directory only the host\'s root may enter: mounted, read-only kept (the runtime opens the source as the host\'s root)', () => {
    const hidden = fs.mkdtempSync(path.join(pm.tmp, 'hidden-'));
    fs.chmodSync(hidden, 0o700);
    fs.mkdirSync(path.join(hidden, 'vol'), { mode: 0o755 });
    fs.writeFileSync(path.join(hidden, 'vol', 'f'), 'volume\n', { mode: 0o644 });
    const r = ok(runIn(['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536', '-v', `${path.join(hidden, 'vol')}:/v:ro`], 'cat /v/f; touch /v/new 2>&1 | grep -c "Read-only"'));
    expect(r.stdout).toBe('volume\n1\n');
  });

  test('a detached container: exec (user, workdir, env, exit status), pause/unpause, stop with its TERM trap, logs, rm', async () => {
    const name = `pm-${process.pid}`;
    ok(pm.run(['run', '-d', '--name', name, ...pm.containerFlags, pm.image, 'sh', '-c', TERM_TRAP_SCRIPT]));
    // The container's cgroup is the runtime's, below the suite's parent.
    const leaf = fs.readdirSync(path.join('/sys/fs/cgroup/pids', pm.cgroupParent)).filter((d) => d.startsWith('libpod-'));
    expect(leaf).toHaveLength(1);
    expect(ok(pm.run(['exec', '--user', '1000', '-w', '/tmp', '-e', 'A=b', name, 'sh', '-c', 'id -u; pwd; echo $A'])).stdout).toBe('1000\n/tmp\nb\n');
    const failed = pm.run(['exec', name, 'sh', '-c', 'exit 7']);
    expect({ code: failed.code, stderr: failed.stderr }).toEqual({ code: 7, stderr: '' });
    ok(pm.run(['pause', name]));
    expect(ok(pm.run(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}'])).stdout).toMatch(/^Paused/);
    ok(pm.run(['unpause', name]));
    expect(ok(pm.run(['exec', name, 'echo', 'after-unpause'])).stdout).toBe('after-unpause\n');
    await stopsThroughItsTrap((args) => ok(pm.run(args)), name);
    expect(fs.readdirSync(path.join('/sys/fs/cgroup/pids', pm.cgroupParent)).filter((d) => d.startsWith('libpod-'))).toEqual([]);
  });

  test('-t: conmon hands the runtime a console socket; the process has a terminal', () => {
    const argv = pm.argv(['run', '--rm', '-t', ...pm.containerFlags, pm.image, 'sh', '-c', 'tty; echo $TERM']);
    const cmd = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/0\nxterm\n$/);
  });
});
