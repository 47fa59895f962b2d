// `exec` into real containers: namespaces, cgroup, process attributes, exit codes,
// signals, state checks and bad input. Runs against TSRUN_TEST_RUNTIME (default
// bin/tsrun); where runc 1.1.5 differs (its exit code 255 on errors) the test says so.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { blockedOpeningFifo, flavorOf, pidAlive, repoRoot, runtimeUnderTest, waitFor, waitPidGone, type RunResult } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { reapIfOurs } from '../helpers/reap';
import { startReceiver } from '../helpers/fd-receivers';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

describeIf(containerSkipReason())(`exec (${BINARY})`, () => {
  const s = useSuite('exec', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  /** An error exit: runc's 255 (its callers tell it from the exec'd process's 1). */
  const errorCode = () => 255;

  /** A running container whose init sleeps; returns the bundle and the init's pid. */
  const running = (configure?: (c: any) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        configure?.(c);
      },
    });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    return { b, pid: s.cli.state(b.id).pid as number };
  };

  const ex = (args: string[]) => s.cli.run(['exec', ...args]);

  // conmon 2.1 (podman exec -t) takes the exit of any child it does not know, reaped
  // before it has read the pid file, for the exec'd process's: tsrun's exit helper
  // (an orphan, which frees Node's memory after tsrun's exit) must not be one there.
  (FLAVOR === 'tsrun' ? test : test.skip)('exec -d with a console socket leaves its caller no orphan but the exec\'d process; without one, the exit helper too', async () => {
    const { b } = running();
    const reaper = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-reaping-parent');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_V8_COVERAGE;
    // The pids of the orphans the caller reaped (the exec'd process is one: its parent,
    // the init's intermediate, is gone), and the exec'd process's pid.
    const orphansOf = (extra: string[]): { orphans: number[]; exec: number } => {
      const pidFile = path.join(b.dir, `exec-${crypto.randomBytes(3).toString('hex')}.pid`);
      const r = spawnSync(reaper, ['--report-orphans', BINARY, ...s.cli.fullArgs(['exec', '-d', '--pid-file', pidFile, ...extra, b.id, 'sleep', '1'])], { encoding: 'utf8', env, timeout: 30_000 });
      expect({ status: r.status, stderr: r.stderr.split('\n').filter((l) => !l.startsWith('orphan ')).join('') }).toEqual({ status: 0, stderr: '' });
      const orphans = r.stderr.split('\n').flatMap((l) => /^orphan (\d+) exit /.exec(l)?.[1] ?? []).map(Number);
      return { orphans, exec: Number(fs.readFileSync(pidFile, 'utf8')) };
    };
    const tty = await startReceiver('tsrun-test-recvtty', path.join(b.dir, 'console.sock'));
    try {
      const withTty = orphansOf(['-t', '--console-socket', path.join(b.dir, 'console.sock')]);
      expect(withTty.orphans).toEqual([withTty.exec]);
      const plain = orphansOf([]);
      expect(plain.orphans).toHaveLength(2);
      expect(plain.orphans).toContain(plain.exec);
    } finally {
      tty.kill();
    }
    expectOk(s.cli.delete(b.id, true));
  });

  test('runs a command in every namespace of the init, returns its exit code, env exactly', () => {
    const { b, pid } = running();
    const r = ex([b.id, 'sh', '-c', 'for n in ipc mnt net pid uts; do readlink /proc/self/ns/$n; done; env | sort; exit 7']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 7, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    const expected = ['ipc', 'mnt', 'net', 'pid', 'uts'].map((n) => fs.readlinkSync(`/proc/${pid}/ns/${n}`));
    expect(lines.slice(0, 5)).toEqual(expected);
    // The environment is the config's (HOME added from /etc/passwd, as runc does),
    // plus what the shell itself sets; nothing of the runtime's.
    expect(lines.slice(5)).toEqual(['HOME=/root', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'PWD=/', 'SHLVL=1', 'TERM=xterm']);
    expectOk(s.cli.delete(b.id, true));
  });

  test('the process is in the container cgroup and sees the container pid namespace', () => {
    const { b, pid } = running();
    const r = ex([b.id, 'sh', '-c', 'cat /proc/self/cgroup; echo ==; cat /proc/1/cmdline | tr "\\0" " "']);
    expectOk(r);
    const [cg, cmd] = r.stdout.split('==\n');
    expect(cg).toBe(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    expect(cmd!.trim()).toBe('sleep 1000');
    expectOk(s.cli.delete(b.id, true));
  });

  test('an exec\'d process keeps its caller\'s umask unless process.user.umask is set (the spec; runc); the init gets 0022', () => {
    const { b } = running();
    const saved = process.umask(0o077);
    let caller: RunResult;
    let given: RunResult;
    let init: RunResult;
    try {
      caller = ex([b.id, 'sh', '-c', 'umask']);
      const file = path.join(b.dir, 'umask-process.json');
      fs.writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'umask'], cwd: '/', user: { uid: 0, gid: 0, umask: 0o027 }, env: ['PATH=/bin:/usr/bin'] }));
      given = ex(['--process', file, b.id]);
      init = ex([b.id, 'grep', 'Umask', '/proc/1/status']);
    } finally {
      process.umask(saved);
    }
    expectOk(caller);
    expect(caller.stdout).toBe('0077\n');
    expectOk(init);
    expect(init.stdout).toMatch(/^Umask:\s+0022\n$/);
    expectOk(given);
    // runc 1.1 leaves a process.json's umask aside for exec (1.2 applies it).
    if (FLAVOR === 'tsrun') expect(given.stdout).toBe('0027\n');
    expectOk(s.cli.delete(b.id, true));
  });

  test('a --process file that blocks the read (a FIFO no one writes): SIGTERM ends the runtime, as runc, and the container runs on', async () => {
    const { b, pid } = running();
    const fifo = path.join(b.dir, 'process-fifo.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const started = s.cli.spawn(['exec', '--process', fifo, b.id], { timeoutMs: 10_000 });
    await waitFor(() => blockedOpeningFifo(started.pid), 'the runtime to block opening the FIFO');
    process.kill(started.pid, 'SIGTERM');
    const r = await started.done;
    expect({ signal: r.signal, timedOut: r.timedOut, running: pidAlive(pid) }).toEqual({ signal: 'SIGTERM', timedOut: false, running: true });
  });

  test('a process.json without user runs as root, and a config.json without process.user too (runc reads none as uid 0)', () => {
    const { b } = running((c) => delete c.process.user);
    const file = path.join(b.dir, 'no-user.json');
    fs.writeFileSync(file, JSON.stringify({ args: ['id', '-u'], cwd: '/', env: ['PATH=/bin:/usr/bin'] }));
    const r = ex(['--process', file, b.id]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    const init = ex([b.id, 'grep', '^Uid:', '/proc/1/status']);
    expect(init.stdout).toMatch(/^Uid:\s+0\s+0\s+0\s+0\n$/);
    expectOk(s.cli.delete(b.id, true));
  });

  test('words after the container id belong to the command, as in runc', () => {
    const { b } = running();
    const r = ex([b.id, 'echo', '-e', 'x', '--cwd']);
    expectOk(r);
    expect(r.stdout).toBe('x --cwd\n');
    expectOk(s.cli.delete(b.id, true));
  });

  test('-e, --cwd, -u uid:gid, -g, --no-new-privs, --cap', () => {
    const { b } = running((c) => (c.process.noNewPrivileges = false));
    const r = ex(['-e', 'TERM=dumb', '-e', 'NEW=1', '--cwd', '/tmp', '-u', '1000:100', '-g', '10', '-g', '20',
      '--no-new-privs', '--cap', 'CAP_NET_RAW', b.id, 'sh', '-c', 'id; pwd; echo $TERM $NEW; grep -E "^(NoNewPrivs|CapBnd|CapPrm)" /proc/self/status']);
    expectOk(r);
    expect(r.stdout).toBe(
      'uid=1000(user) gid=100(users) groups=10,20\n/tmp\ndumb 1\n' +
        // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE and CAP_NET_RAW; a non-root uid loses the permitted set.
        'CapPrm:\t0000000000000000\nCapBnd:\t0000000020002420\nNoNewPrivs:\t1\n',
    );
    expectOk(s.cli.delete(b.id, true));
  });

  test('--no-new-privs=false turns off the config\'s noNewPrivileges; without the flag it stays', () => {
    const { b } = running((c) => (c.process.noNewPrivileges = true));
    const nnp = (...flags: string[]) => {
      const r = ex([...flags, b.id, 'grep', 'NoNewPrivs', '/proc/self/status']);
      expectOk(r);
      return r.stdout;
    };
    expect(nnp('--no-new-privs=false')).toBe('NoNewPrivs:\t0\n');
    expect(nnp()).toBe('NoNewPrivs:\t1\n');
    expectOk(s.cli.delete(b.id, true));
  });

  test('--process FILE: the process spec as is (rlimits, user, env)', () => {
    const { b } = running();
    const file = path.join(b.dir, 'process.json');
    fs.writeFileSync(file, JSON.stringify({
      args: ['sh', '-c', 'id -u; ulimit -n; echo $ONLY; env | wc -l'],
      cwd: '/home/user',
      env: ['ONLY=this', 'PATH=/bin'],
      user: { uid: 1000, gid: 1000 },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 77, hard: 77 }],
    }));
    const r = ex(['--process', file, b.id]);
    expectOk(r);
    // ONLY, PATH, HOME (from passwd), PWD, SHLVL
    expect(r.stdout).toBe('1000\n77\nthis\n5\n');
    expectOk(s.cli.delete(b.id, true));
  });

  // RLIMIT_FSIZE: raising it to unlimited needs no privilege where the host's is unlimited.
  const hostFsizeUnlimited = spawnSync('sh', ['-c', 'ulimit -H -f'], { encoding: 'utf8' }).stdout.trim() === 'unlimited';
  (hostFsizeUnlimited ? test : test.skip)("rlimits of 18446744073709551615 (RLIM_INFINITY): the container's, and --process FILE's", () => {
    const INFINITY = '#18446744073709551615';
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        c.process.rlimits.push({ type: 'RLIMIT_FSIZE', soft: INFINITY, hard: INFINITY });
      },
    });
    // Bare literals past 2^53, which JSON.stringify cannot write.
    const literal = (text: string) => text.replace(/"#(\d+)"/g, '$1');
    fs.writeFileSync(b.configPath, literal(fs.readFileSync(b.configPath, 'utf8')));
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    // Without --process, exec starts from the container's process (kept in its state).
    const inherited = ex([b.id, 'sh', '-c', 'ulimit -H -f; ulimit -S -f']);
    expect({ code: inherited.code, stdout: inherited.stdout, stderr: inherited.stderr }).toEqual({ code: 0, stdout: 'unlimited\nunlimited\n', stderr: '' });
    const file = path.join(b.dir, 'process.json');
    fs.writeFileSync(file, literal(JSON.stringify({
      args: ['sh', '-c', 'ulimit -H -f; ulimit -S -f'],
      cwd: '/',
      env: ['PATH=/bin'],
      user: { uid: 0, gid: 0 },
      rlimits: [{ type: 'RLIMIT_FSIZE', soft: 1048576, hard: INFINITY }], // ulimit -f counts 512-byte blocks
    })));
    const own = ex(['--process', file, b.id]);
    expect({ code: own.code, stdout: own.stdout, stderr: own.stderr }).toEqual({ code: 0, stdout: 'unlimited\n2048\n', stderr: '' });
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 has no execCPUAffinity (runc 1.2 does); this host has 2 CPUs.
  (FLAVOR === 'tsrun' ? test : test.skip)('execCPUAffinity: final pins the exec\'d process, the config\'s applies to every exec, the init keeps its own', () => {
    const { b, pid } = running((c) => (c.process.execCPUAffinity = { final: '1' }));
    const cpus = (text: string): string => /Cpus_allowed_list:\s*(\S+)/.exec(text)?.[1] ?? '?';
    const inherited = ex([b.id, 'cat', '/proc/self/status']);
    expectOk(inherited);
    expect(cpus(inherited.stdout)).toBe('1');
    expect(cpus(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))).not.toBe('1');
    const file = path.join(b.dir, 'affinity.json');
    fs.writeFileSync(file, JSON.stringify({ args: ['cat', '/proc/self/status'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { initial: '1', final: '0' } }));
    const own = ex(['--process', file, b.id]);
    expectOk(own);
    expect(cpus(own.stdout)).toBe('0');
    // initial is applied (before the cgroups): a CPU this host does not have fails there.
    fs.writeFileSync(file, JSON.stringify({ args: ['true'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 }, execCPUAffinity: { initial: '4000' } }));
    const missing = ex(['--process', file, b.id]);
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 255, stderr: expect.stringContaining('cpu affinity 4000: sched_setaffinity: EINVAL') });
    expectOk(s.cli.delete(b.id, true));
  });

  // runc 1.1.5 leaves its caller's affinity to the container; newer runc resets it as tsrun does.
  (FLAVOR === 'tsrun' ? test : test.skip)('a container and an exec made by a runtime pinned to one CPU get every CPU of their cpuset, not its affinity', () => {
    const cpus = (text: string): string => /Cpus_allowed_list:\s*(\S+)/.exec(text)?.[1] ?? '?';
    const mine = cpus(fs.readFileSync('/proc/self/status', 'utf8'));
    expect(mine).not.toBe('0'); // the test needs a second CPU to tell the two apart
    const pinned = (args: string[], stdio: 'ignore' | 'pipe') =>
      spawnSync('taskset', ['-c', '0', BINARY, ...s.cli.fullArgs(args)], { encoding: 'utf8', stdio: ['ignore', stdio, stdio], timeout: 30_000 });
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    // Detached with its output ignored: a pipe would stay open in the container.
    expect(pinned(['run', '-d', '--bundle', b.dir, b.id], 'ignore').status).toBe(0);
    const pid = s.cli.state(b.id).pid as number;
    expect(cpus(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))).toBe(mine);
    const e = pinned(['exec', b.id, 'cat', '/proc/self/status'], 'pipe');
    expect({ code: e.status, cpus: cpus(e.stdout) }).toEqual({ code: 0, cpus: mine });
    expectOk(s.cli.delete(b.id, true));
  });

  test('a process killed by a signal gives 128+signal; signals to exec are forwarded', async () => {
    const { b } = running();
    expect(ex([b.id, 'sh', '-c', 'kill -9 $$']).code).toBe(137);
    const out = path.join(b.dir, 'exec.out');
    const fg = s.cli.spawn(['exec', b.id, 'sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done'], { stdoutFile: out });
    await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('ready'), 'the trap to be installed');
    process.kill(fg.pid, 'SIGTERM');
    const r = await fg.done;
    expect(r.code).toBe(42);
    expectOk(s.cli.delete(b.id, true));
  });

  test('signals Node has no listener for by default reach the process too, the real-time ones as well', async () => {
    const { b } = running();
    const out = path.join(b.dir, 'exec.out');
    // Numbers for the real-time ones (37 = SIGRTMIN+3 with glibc, 64 = SIGRTMAX).
    const traps = [['SIGPWR', 'PWR'], ['SIGXCPU', 'XCPU'], ['SIGIO', 'IO'], [37, '37'], [64, '64']] as const;
    const script = traps.map(([, name]) => `trap "echo got-${name}" ${name}; `).join('') + 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done';
    const fg = s.cli.spawn(['exec', b.id, 'sh', '-c', script], { stdoutFile: out });
    const seen = (line: string) => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').includes(line);
    await waitFor(() => seen('ready'), 'the traps to be installed');
    for (const [signal, name] of traps) {
      process.kill(fg.pid, signal);
      await waitFor(() => seen(`got-${name}`), `${name} to reach the process`);
    }
    process.kill(fg.pid, 'SIGTERM');
    const r = await fg.done;
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 42, stdout: ['ready', ...traps.map(([, n]) => `got-${n}`)].join('\n') + '\n' });
    expectOk(s.cli.delete(b.id, true));
  });

  test('--detach --pid-file returns at once; the process runs in the container', async () => {
    const { b, pid } = running();
    const pidFile = path.join(b.dir, 'exec.pid');
    const r = ex(['--detach', '--pid-file', pidFile, b.id, 'sleep', '500']);
    expectOk(r);
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pidAlive(execPid)).toBe(true);
    expect(fs.readlinkSync(`/proc/${execPid}/ns/pid`)).toBe(fs.readlinkSync(`/proc/${pid}/ns/pid`));
    // Only stdio: no fd of the runtime leaked into the process.
    expect(fs.readdirSync(`/proc/${execPid}/fd`).sort()).toEqual(['0', '1', '2']);
    expectOk(s.cli.delete(b.id, true));
    reapIfOurs(execPid);
    expect(await waitPidGone(execPid)).toBe(true);
  });

  test('stdio of exec are the caller fds (pipes, as containerd passes them)', () => {
    const { b } = running();
    const r = spawnSync(BINARY, ['--root', s.cli.root, 'exec', b.id, 'sh', '-c', 'read x; echo got:$x; echo err >&2'], {
      input: 'line\n',
      encoding: 'utf8',
    });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'got:line\n', stderr: 'err\n' });
    expectOk(s.cli.delete(b.id, true));
  });

  test('exec into a created container works (runc allows it)', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    const r = ex([b.id, 'echo', 'inside']);
    expectOk(r);
    expect(r.stdout).toBe('inside\n');
    expect(s.cli.state(b.id).status).toBe('created');
    expectOk(s.cli.delete(b.id, true));
  });

  test('exec into a stopped container is refused', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['true']) });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    await s.cli.waitStatus(b.id, 'stopped');
    const r = ex([b.id, 'true']);
    expect(r.code).toBe(errorCode());
    expect(r.stderr).toMatch(/exec failed: cannot exec in a stopped container/);
    expectOk(s.cli.delete(b.id));
  });

  test('exec into a paused container is refused unless --ignore-paused', () => {
    const { b } = running();
    const v1 = path.join('/sys/fs/cgroup/freezer', b.cgroupsPath);
    const v2 = path.join('/sys/fs/cgroup', b.cgroupsPath);
    const [file, frozen, thawed] = fs.existsSync(path.join(v1, 'freezer.state'))
      ? [path.join(v1, 'freezer.state'), 'FROZEN', 'THAWED']
      : [path.join(v2, 'cgroup.freeze'), '1', '0'];
    fs.writeFileSync(file, frozen);
    try {
      const r = ex([b.id, 'true']);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/cannot exec in a paused container \(use --ignore-paused to override\)/);
    } finally {
      fs.writeFileSync(file, thawed);
    }
    expectOk(ex([b.id, 'true']));
    expectOk(s.cli.delete(b.id, true));
  });

  describe('exec --ignore-paused: resume, kill and delete of the paused container never wait for it', () => {
    /** cgroup.procs of the container where it is frozen: v1's freezer hierarchy, else v2's. */
    const procsFile = (cgroupsPath: string) => {
      const v1 = path.join('/sys/fs/cgroup/freezer', cgroupsPath);
      return path.join(fs.existsSync(v1) ? v1 : path.join('/sys/fs/cgroup', cgroupsPath), 'cgroup.procs');
    };

    /** A paused container and a detached exec that waits, frozen, in its cgroup. */
    const pendingExec = async () => {
      const { b, pid } = running();
      expectOk(s.cli.run(['pause', b.id]));
      const pidFile = path.join(b.dir, 'exec.pid');
      const exec = s.cli.spawn(['exec', '--ignore-paused', '-d', '--pid-file', pidFile, b.id, 'sleep', '1000']);
      // Placed in the cgroup before it joins any namespace (runc too), it froze there.
      const procs = procsFile(b.cgroupsPath);
      await waitFor(() => fs.readFileSync(procs, 'utf8').trim().split('\n').length >= 2, 'the exec to wait in the frozen cgroup');
      return { b, pid, pidFile, exec: exec.done };
    };

    // Without a pid namespace (and, paused, without a fork into the cgroup) the first
    // process is the one that execs: EOF on the sync socket once it died was a start.
    (FLAVOR === 'tsrun' ? test : test.skip)('without a pid namespace, an exec whose init is killed before its execve fails and writes no pid file', async () => {
      const { b, pid } = running((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid')));
      expectOk(s.cli.run(['pause', b.id]));
      const pidFile = path.join(b.dir, 'exec.pid');
      const exec = s.cli.spawn(['exec', '--ignore-paused', '-d', '--pid-file', pidFile, b.id, 'sleep', '1000']);
      const procs = procsFile(b.cgroupsPath);
      const others = () => fs.readFileSync(procs, 'utf8').trim().split('\n').filter((p) => p !== '' && Number(p) !== pid);
      // Frozen in the container's cgroup once tsrun placed it there and let go of it.
      await waitFor(() => others().length >= 1, 'the exec to wait in the frozen cgroup');
      const execInit = Number(others()[0]);
      process.kill(execInit, 'SIGKILL');
      expectOk(s.cli.run(['resume', b.id]));
      const r = await exec.done;
      expect({ timedOut: r.timedOut, code: r.code }).toEqual({ timedOut: false, code: errorCode() });
      expect(r.stderr).toContain('the init exited before it executed the process');
      expect(fs.existsSync(pidFile)).toBe(false);
      expect(s.cli.state(b.id).status).toBe('running');
      expectOk(s.cli.delete(b.id, true));
    });

    test('resume: the exec then completes, writes its pid file, and its process runs in the container', async () => {
      const { b, pid, pidFile, exec } = await pendingExec();
      expectOk(s.cli.run(['resume', b.id]));
      expectOk(await exec);
      const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(pidAlive(execPid)).toBe(true);
      expect(fs.readFileSync(`/proc/${execPid}/cgroup`, 'utf8')).toBe(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
      expect(fs.readlinkSync(`/proc/${execPid}/ns/pid`)).toBe(fs.readlinkSync(`/proc/${pid}/ns/pid`));
      expectOk(s.cli.delete(b.id, true));
      expect(await waitPidGone(execPid)).toBe(true);
    });

    /**
     * The exec ends with the container: it fails, or, when its process got into the
     * pid namespace before the dying init closed it (a race in runc and here alike),
     * it succeeds and its process dies with the rest.
     */
    const endsWithTheContainer = async (r: RunResult, pidFile: string) => {
      expect({ timedOut: r.timedOut, ended: r.code === 0 || r.code === errorCode() }).toEqual({ timedOut: false, ended: true });
      if (r.code === 0) expect(await waitPidGone(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(true);
      else expect(fs.existsSync(pidFile)).toBe(false);
    };

    test('kill KILL: the container dies, the exec ends with it', async () => {
      const { b, pid, pidFile, exec } = await pendingExec();
      expectOk(s.cli.kill(b.id, 'KILL'));
      await endsWithTheContainer(await exec, pidFile);
      expect(await waitPidGone(pid)).toBe(true);
      expectOk(s.cli.delete(b.id, true));
    });

    test('delete --force: everything goes, the exec with it', async () => {
      const { b, pid, pidFile, exec } = await pendingExec();
      expectOk(s.cli.delete(b.id, true));
      await endsWithTheContainer(await exec, pidFile);
      expect(pidAlive(pid)).toBe(false);
      expect(s.leftovers()).toEqual({ mounts: [], cgroups: [], state: [], processes: [] });
    });
  });

  describe('bad input: exit with the cause named, the container unharmed', () => {
    const unharmed = (id: string, pid: number) => {
      expect(s.cli.state(id).status).toBe('running');
      expect(s.cli.state(id).pid).toBe(pid);
      expectOk(ex([id, 'true']));
    };

    test('a process.json that violates the schema', () => {
      const { b, pid } = running();
      const file = path.join(b.dir, 'bad.json');
      fs.writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'root', gid: 0 } }));
      const r = ex(['--process', file, b.id]);
      expect(r.code).toBe(errorCode());
      if (s.cli.flavor === 'tsrun') expect(r.stderr).toMatch(/process\.user\.uid: must be an integer/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    test('a cwd that does not exist in the container', () => {
      const { b, pid } = running();
      const r = ex(['--cwd', '/no/such/dir', b.id, 'true']);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/\/no\/such\/dir.*(ENOENT|no such file or directory)/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    test('a user that is not a number', () => {
      const { b, pid } = running();
      const r = ex(['-u', 'nosuchuser', b.id, 'true']);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/parsing nosuchuser as int for uid failed/);
      // A third field belongs to the gid (runc splits at the first colon only).
      const three = ex(['-u', '1000:1000:5', b.id, 'true']);
      expect(three.code).toBe(errorCode());
      expect(three.stderr).toMatch(/parsing 1000:5 as int for gid failed/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    // Against runc 1.1.5 this one outlives jest's timeout (its exec and the stopping
    // loop interlock differently); a review saw its kill and delete return at once.
    (FLAVOR === 'tsrun' ? test : test.skip)('an exec whose process a container process stops (SIGSTOP) before it runs keeps neither kill nor delete --force waiting', async () => {
      // The container stops every new process of its pid namespace as it appears
      // (builtins only: the loop forks nothing, so the last pid is never its own), the
      // exec's among them.
      const loop = 'while :; do read n < /proc/sys/kernel/ns_last_pid; [ $n != $$ ] && kill -STOP $n $((n + 1)) 2>/dev/null; done';
      const { b } = running((c) => (c.process.args = ['sh', '-c', loop]));
      // The container's processes: its devices cgroup on v1 (where tsrun lists them;
      // the exec's joins pids only once it goes on), its own cgroup on v2.
      const procsFile = ['/sys/fs/cgroup/devices', '/sys/fs/cgroup'].map((r) => path.join(r, b.cgroupsPath, 'cgroup.procs')).find((f) => fs.existsSync(f))!;
      const stopped = (): boolean => {
        const procs = fs.readFileSync(procsFile, 'utf8').split('\n').filter(Boolean);
        return procs.some((p) => {
          try {
            return / T /.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(')')[1]!.slice(0, 3));
          } catch {
            return false;
          }
        });
      };
      let exec: ReturnType<typeof s.cli.spawn> | undefined;
      for (let attempt = 0; attempt < 20 && !exec; attempt++) {
        const e = s.cli.spawn(['exec', b.id, 'true'], { timeoutMs: 60_000 });
        const caught = await Promise.race([e.done.then(() => false), waitFor(stopped, 'a stopped exec', 3_000).then(() => true, () => false)]);
        if (caught) exec = e;
        else await e.done;
      }
      expect(exec).toBeDefined();
      // Generous timeouts only to tell a hang from an answer: never a timing assertion.
      const kill = s.cli.run(['kill', b.id, 'KILL'], { timeoutMs: 20_000 });
      expect({ timedOut: kill.timedOut, code: kill.code }).toEqual({ timedOut: false, code: 0 });
      const del = s.cli.run(['delete', '--force', b.id], { timeoutMs: 20_000 });
      expect({ timedOut: del.timedOut, code: del.code }).toEqual({ timedOut: false, code: 0 });
      const ended = await exec!.done;
      expect(ended.timedOut).toBe(false);
      expect(ended.code).not.toBe(0);
    });

    test('a uid or gid above 2^31-1 is refused, never run as root (setresuid(-1) changes nothing)', () => {
      const { b, pid } = running();
      for (const user of ['4294967295', '1000:4294967295', '3000000000']) {
        const r = ex(['-u', user, b.id, 'id']);
        expect({ user, code: r.code, out: r.stdout }).toEqual({ user, code: errorCode(), out: '' });
        expect(r.stderr).toMatch(/uids and gids must be in range 0-2147483647/);
      }
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    test('a program that does not exist', () => {
      const { b, pid } = running();
      const r = ex([b.id, 'no-such-program']);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/exec: \\?"no-such-program\\?": executable file not found in \$PATH/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    test('an -e without "=" (it would reach the process as it is)', () => {
      const { b, pid } = running();
      const r = ex(['-e', 'BAD', b.id, 'env']);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/invalid environment variable: \\?"BAD\\?"/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });

    test('no command and no --process', () => {
      const { b, pid } = running();
      const r = ex([b.id]);
      expect(r.code).toBe(errorCode());
      expect(r.stderr).toMatch(/exec failed: process args cannot be empty/);
      unharmed(b.id, pid);
      expectOk(s.cli.delete(b.id, true));
    });
  });

  describe('a network namespace joined by path (ip netns add)', () => {
    const name = `tsrun-test-${crypto.randomBytes(4).toString('hex')}`;
    const haveIp = spawnSync('ip', ['-V']).status === 0;
    afterAll(() => {
      if (haveIp) spawnSync('ip', ['netns', 'delete', name]);
    });

    (haveIp ? test : test.skip)('create joins it, exec sees it', () => {
      expect(spawnSync('ip', ['netns', 'add', name]).status).toBe(0);
      const nsPath = `/var/run/netns/${name}`;
      const { b, pid } = running((c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: nsPath } : n));
      });
      const inode = String(fs.statSync(nsPath).ino);
      expect(fs.readlinkSync(`/proc/${pid}/ns/net`)).toBe(`net:[${inode}]`);
      const r = ex([b.id, 'readlink', '/proc/self/ns/net']);
      expectOk(r);
      expect(r.stdout).toBe(`net:[${inode}]\n`);
      expectOk(s.cli.delete(b.id, true));
    });
  });
});
