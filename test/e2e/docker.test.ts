// End to end through Docker: dockerd writes the config (its default seccomp
// profile and capabilities, masked and read-only paths, /etc/hosts and friends
// bound in, /dev/shm, cgroup limits) and containerd's runc shim calls the
// runtime. A private dockerd (./docker) with the runtime under test registered as
// "tsrun": TSRUN_E2E_RUNTIME (default <repo>/bin/tsrun); the suite is checked
// against Debian's runc with TSRUN_E2E_RUNTIME=/usr/sbin/runc. Where the suite
// compares, the reference is the same daemon's default runtime, runc.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { describeIf } from '../helpers/suite';
import { RunResult, sleep } from '../helpers/runtime';
import { e2eRuntime } from './containerd';
import { CONTAINER_VIEW, expectSameView, RESTRICTED_FLAGS } from './container-view';
import { stopsThroughItsTrap, TERM_TRAP_SCRIPT } from './engine-steps';
import { dockerSkipReason, RUNTIME_NAME, startDocker, type Docker } from './docker';

jest.setTimeout(90_000);

const runtime = e2eRuntime();

describeIf(dockerSkipReason(runtime))(`docker through ${path.basename(runtime)}`, () => {
  let dk: Docker;
  beforeAll(async () => {
    dk = await startDocker(runtime);
  }, 120_000);
  afterAll(async () => {
    if (!dk) return;
    expect(await dk.stop()).toEqual([]);
  }, 120_000);

  const ok = (r: RunResult): RunResult => {
    expect({ args: r.args.slice(-6).join(' '), code: r.code, stderr: r.stderr }).toEqual({ args: r.args.slice(-6).join(' '), code: 0, stderr: '' });
    return r;
  };
  const runIn = (flags: string[], script: string, opts: { input?: string; runtimeName?: string } = {}): RunResult =>
    dk.run(['run', '--rm', '--runtime', opts.runtimeName ?? RUNTIME_NAME, '--network', 'none', ...flags, dk.image, 'sh', '-c', script], opts);

  test('run prints the output and ends with the process\'s exit status; stdin reaches it with -i', () => {
    expect(ok(runIn([], 'echo hello; id -u')).stdout).toBe('hello\n0\n');
    const failed = runIn([], 'exit 42');
    expect({ code: failed.code, stderr: failed.stderr }).toEqual({ code: 42, stderr: '' });
    expect(ok(runIn(['-i'], 'cat', { input: 'piped in\n' })).stdout).toBe('piped in\n');
  });

  test('a missing command: docker\'s status 127 and the runtime\'s message, as runc gives it', () => {
    const r = dk.run(['run', '--rm', '--runtime', RUNTIME_NAME, '--network', 'none', dk.image, 'no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/OCI runtime create failed: .*exec: "no-such-command": executable file not found in \$PATH/);
  });

  test('a program that cannot be run: the docker CLI\'s 127 for a missing file, 126 for one it may not execute (it reads the runtime\'s words, case and all)', () => {
    const status = (program: string, flags: string[] = []): number => dk.run(['run', '--rm', '--runtime', RUNTIME_NAME, '--network', 'none', ...flags, dk.image, program]).code;
    expect([status('/no/such/program'), status('/etc'), status('/bin/sh', ['--user', '1000', '--workdir', '/', '--entrypoint', '/root/../proc/1/root/root'])]).toEqual([127, 126, 126]);
  });

  describe('the container docker configures looks as it does under runc', () => {
    const compare = (flags: string[]): void =>
      expectSameView(ok(runIn(flags, CONTAINER_VIEW)).stdout, ok(runIn(flags, CONTAINER_VIEW, { runtimeName: 'runc' })).stdout);
    test('docker\'s defaults: capabilities, seccomp, mounts, devices, masked and read-only paths, cgroups', () => compare([]));
    test('with limits, a user, dropped capabilities, no-new-privileges, a read-only rootfs, tmpfs, sysctl, ulimit, device, shm size', () => compare(RESTRICTED_FLAGS));
  });

  test('--init: docker-init is pid 1, bound in from the host, and runs the command', () => {
    const r = ok(runIn(['--init'], 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$'));
    expect(r.stdout).toMatch(/^\/sbin\/docker-init -- sh -c .*\n\d+\n$/);
    expect(r.stdout.split('\n')[1]).not.toBe('1');
  });

  test('a detached container: exec, top (the runtime\'s ps), update (its update -r -), pause/unpause, stop with its TERM trap, logs, rm', async () => {
    const name = `dk-${process.pid}`;
    const id = ok(dk.run(['run', '-d', '--name', name, '--runtime', RUNTIME_NAME, '--network', 'none', '--memory', '64m', dk.image,
      'sh', '-c', TERM_TRAP_SCRIPT])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const leaves = (): string[] =>
      fs.readdirSync(path.join('/sys/fs/cgroup/pids', dk.cgroupParent), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(leaves()).toEqual([id]);

    expect(ok(dk.run(['exec', '--user', '1000', '-w', '/tmp', '-e', 'A=b', name, 'sh', '-c', 'id -u; pwd; echo $A'])).stdout).toBe('1000\n/tmp\nb\n');
    const failed = dk.run(['exec', name, 'sh', '-c', 'exit 7']);
    expect({ code: failed.code, stderr: failed.stderr }).toEqual({ code: 7, stderr: '' });

    ok(dk.run(['exec', '-d', name, 'sleep', '1000']));
    let top = '';
    for (let i = 0; i < 40 && !/sleep 1000/.test(top); i++, await sleep(25)) top = ok(dk.run(['top', name])).stdout;
    expect(top).toMatch(/sh -c trap/);
    expect(top).toMatch(/sleep 1000/);

    ok(dk.run(['update', '--memory', '96m', '--memory-swap', '96m', '--pids-limit', '77', '--cpu-shares', '256', name]));
    expect(ok(dk.run(['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.shares'])).stdout)
      .toBe(`${96 * 1024 * 1024}\n77\n256\n`);

    ok(dk.run(['pause', name]));
    expect(ok(dk.run(['inspect', '--format', '{{.State.Status}}', name])).stdout.trim()).toBe('paused');
    expect(fs.readFileSync(path.join('/sys/fs/cgroup/freezer', dk.cgroupParent, id, 'freezer.state'), 'utf8').trim()).toBe('FROZEN');
    ok(dk.run(['unpause', name]));
    expect(ok(dk.run(['exec', name, 'echo', 'after-unpause'])).stdout).toBe('after-unpause\n');

    await stopsThroughItsTrap((args) => ok(dk.run(args)), name);
    expect(leaves()).toEqual([]);
  });

  test('-t: the shim hands the runtime a console socket; the process has a terminal', () => {
    const argv = dk.argv(['run', '--rm', '-t', '--runtime', RUNTIME_NAME, '--network', 'none', dk.image, 'sh', '-c', 'tty; echo $TERM']);
    const cmd = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/0\nxterm\n$/);
  });
});
