// Hardening (DESIGN.md section 3), each rule proven from inside a container: no fd of
// the runtime reaches it, procfs writes go only into a real procfs, masked /proc
// entries stay masked, a rootfs symlink cannot send a mount out of the rootfs, and no
// container process can open the node binary or tsrun-init for writing through
// /proc/<pid>/exe (the CVE-2019-5736 class).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { runtimeUnderTest, flavorOf, repoRoot, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { installCopy } from '../helpers/bundled-cli';
import { native } from '../../src/native';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);
const KEYRING = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-keyring');

describeIf(containerSkipReason())(`hardening (${BINARY})`, () => {
  const s = useSuite('harden', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const bundle = (script: string, configure?: (c: any) => void) =>
    s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        configure?.(c);
      },
    });

  test('no fd of the runtime reaches the container, whatever the runtime inherited', () => {
    // Not the last command: busybox sh would exec ls in place and list ls's own fds.
    const b = bundle('ls /proc/1/fd; echo end');
    const out = path.join(s.env.tmp, 'fds.out');
    const outFd = fs.openSync(out, 'w');
    const extra = fs.openSync(b.configPath, 'r');
    try {
      // fds 3, 4 (pipes) and 5 (a file) are open in the runtime without CLOEXEC.
      const r = spawnSync(BINARY, ['--root', s.cli.root, 'run', '--bundle', b.dir, b.id], {
        stdio: ['ignore', outFd, 'pipe', 'pipe', 'pipe', extra],
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(extra);
    }
    expect(fs.readFileSync(out, 'utf8')).toBe('0\n1\n2\nend\n');
  });

  test('the container has a session keyring of its own, which exec joins; --no-new-keyring keeps the caller\'s', () => {
    // "<serial> keyring;<uid>;<gid>;<perm>;<description>" of the session keyring.
    const host = spawnSync(KEYRING, { encoding: 'utf8' });
    expect(host.status).toBe(0);
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    fs.copyFileSync(KEYRING, path.join(b.rootfs, 'bin', 'keyring'));
    fs.chmodSync(path.join(b.rootfs, 'bin', 'keyring'), 0o755);
    expectOk(s.cli.run(['run', '-d', '--bundle', b.dir, b.id]));
    const own = expectOk(s.cli.run(['exec', b.id, 'keyring'])).stdout.trim();
    const m = /^(\d+) keyring;0;0;([0-9a-f]+);_ses\.(.+)$/.exec(own);
    expect(m?.[3]).toBe(b.id);
    expect(m![1]).not.toBe(host.stdout.split(' ')[0]);
    // Searchable by its owner's uid, so that exec (any user) joins this one by name.
    expect(parseInt(m![2]!, 16) & 0x80000).toBe(0x80000);
    expect(expectOk(s.cli.run(['exec', '--user', '1000:1000', b.id, 'keyring'])).stdout.trim()).toBe(own);
    expectOk(s.cli.delete(b.id, true));

    const shared = s.bundle({ configure: (c) => (c.process.args = ['keyring']) });
    fs.copyFileSync(KEYRING, path.join(shared.rootfs, 'bin', 'keyring'));
    fs.chmodSync(path.join(shared.rootfs, 'bin', 'keyring'), 0o755);
    const kept = expectOk(s.cli.run(['run', '--no-new-keyring', '--bundle', shared.dir, shared.id]));
    expect(kept.stdout).toBe(host.stdout);
  });

  // CVE-2024-21626's class: with the host's pid namespace (hostPID) or one shared with
  // another container, /proc/<pid>/root of a process outside leads to its root.
  test('a cwd that a rootfs link leads out through /proc/<pid>/root is refused, at run and at exec (runc refuses both)', () => {
    const target = fs.mkdtempSync(path.join(s.env.tmp, 'host-target-'));
    const escape = `/proc/${process.pid}/root${target}`;
    const b = bundle('touch pwned-run; echo ran', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      c.process.cwd = '/work';
    });
    fs.symlinkSync(escape, path.join(b.rootfs, 'work'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('ran');
    if (FLAVOR === 'tsrun') expect(r.stderr).toMatch(/chdir \/work: the directory is outside the container's root: possible container breakout/);
    s.forceClean();
    // exec --cwd into a running container, the same link.
    const held = bundle('sleep 1000', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid')));
    fs.symlinkSync(escape, path.join(held.rootfs, 'work'));
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    const e = s.cli.run(['exec', '--cwd', '/work', held.id, 'sh', '-c', 'touch pwned-exec; echo ran']);
    expect(e.code).not.toBe(0);
    expect(e.stdout).not.toContain('ran');
    expect(fs.readdirSync(target)).toEqual([]);
    expectOk(s.cli.delete(held.id, true));
  });

  // runc 1.1.5's exec blocks on it for good (and with it nothing else waits).
  (FLAVOR === 'tsrun' ? test : test.skip)('an /etc/passwd that is a FIFO (or any non-file) neither blocks an exec nor gives a HOME: "/" as with no entry', () => {
    const b = bundle('rm -f /etc/passwd && mkfifo /etc/passwd && sleep 1000', (c) => (c.root.readonly = false));
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    let exec = s.cli.run(['exec', b.id, 'sh', '-c', 'echo HOME=$HOME'], { timeoutMs: 20_000 });
    for (let i = 0; i < 50 && exec.stdout.trim() === 'HOME=/root'; i++) exec = s.cli.run(['exec', b.id, 'sh', '-c', 'echo HOME=$HOME'], { timeoutMs: 20_000 });
    expect({ timedOut: exec.timedOut, code: exec.code, out: exec.stdout.trim() }).toEqual({ timedOut: false, code: 0, out: 'HOME=/' });
    expectOk(s.cli.delete(b.id, true));
  });

  test('masked /proc entries stay masked and cannot be unmounted', () => {
    const b = bundle('cat /proc/kcore | wc -c; cat /proc/keys | wc -c; umount /proc/kcore 2>/dev/null || echo umount-denied; cat /proc/kcore | wc -c');
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout.replace(/ +/g, '') }).toEqual({ code: 0, stdout: '0\n0\numount-denied\n0\n' });
  });

  test('sysctls are written before /proc/sys turns read-only (the default readonlyPaths), as podman configs need', () => {
    const b = bundle('cat /proc/sys/net/ipv4/ping_group_range; echo 1 > /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo sys-read-only', (c) => {
      c.linux.sysctl = { 'net.ipv4.ping_group_range': '0 0' };
      expect(c.linux.readonlyPaths).toContain('/proc/sys');
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout.replace(/\s+/g, ' ') }).toEqual({ code: 0, stdout: '0 0 sys-read-only ' });
  });

  test('a rootfs symlink cannot redirect a mount out of the rootfs', () => {
    const outside = fs.mkdtempSync(path.join(s.env.tmp, 'outside-'));
    const b = bundle('echo escaped > /evil/marker && ls /evil', (c) => {
      c.root.readonly = false;
      c.mounts.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    // An absolute symlink naming a host directory: resolved inside the rootfs instead.
    fs.symlinkSync(outside, path.join(b.rootfs, 'evil'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'marker\n' });
    expect(fs.readdirSync(outside)).toEqual([]);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts.includes(outside)).toBe(false);
  });

  // /proc/self/stat's 7th field is the controlling terminal (0: none); /dev/tty opens
  // only with one. Asked from a real terminal (util-linux `script`), whose shell
  // could be fed input through TIOCSTI by a process that kept it.
  const TTY_PROBE = 'read pid comm state ppid pgrp session tty rest < /proc/self/stat; echo tty=$tty; (: > /dev/tty) 2>/dev/null && echo has-tty || echo no-tty';
  (spawnSync('script', ['--version']).status === 0 ? test : test.skip)('no process of a container keeps the caller\'s terminal as its controlling terminal (run and exec)', () => {
    const b = bundle(TTY_PROBE);
    const underTerminal = (args: string): string => {
      const r = spawnSync('script', ['-qec', `${BINARY} --root ${s.cli.root} ${args} </dev/null`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
      return r.stdout.replace(/\r/g, '');
    };
    expect(underTerminal(`run -b ${b.dir} ${b.id}`)).toBe('tty=0\nno-tty\n');
    const held = bundle('sleep 1000');
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    expect(underTerminal(`exec ${held.id} sh -c '${TTY_PROBE}'`)).toBe('tty=0\nno-tty\n');
  });

  (spawnSync('script', ['--version']).status === 0 ? test : test.skip)('from a terminal, a process without process.terminal gets pipes, never the terminal itself (run and exec), as with runc', () => {
    // With the terminal's fds it could change its modes for good (stty raw), read what
    // is typed after it, and with CAP_SYS_ADMIN push input into the caller's shell.
    const probe = '[ -t 0 ] && echo in-tty || echo in-pipe; [ -t 1 ] && echo out-tty || echo out-pipe; [ -t 2 ] && echo err-tty >&2 || echo err-pipe >&2; stty raw 2>/dev/null && echo changed; exit 3';
    const b = bundle(probe);
    const underTerminal = (args: string): string[] => {
      const r = spawnSync('script', ['-qec', `${BINARY} --root ${s.cli.root} ${args}; echo rc=$?; stty -a | grep -o -- '-icanon'`, '/dev/null'], { encoding: 'utf8', timeout: 30_000, input: '' });
      // stdout and stderr come through pipes of their own: their order is not kept.
      return r.stdout.replace(/\r/g, '').split('\n').filter(Boolean).sort();
    };
    const expected = ['err-pipe', 'in-pipe', 'out-pipe', 'rc=3'];
    expect(underTerminal(`run -b ${b.dir} ${b.id}`)).toEqual(expected);
    const held = bundle('sleep 1000');
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    expect(underTerminal(`exec ${held.id} sh -c '${probe}'`)).toEqual(expected);
  });

  (spawnSync('script', ['--version']).status === 0 ? test : test.skip)('a run whose terminal hangs up while it copies ends cleanly and removes its container', async () => {
    const b = bundle('i=0; while [ $i -lt 100 ]; do echo line $i; i=$((i+1)); sleep 0.05; done');
    const err = path.join(s.env.tmp, `hangup-${b.id}.err`);
    const term = spawn('script', ['-qec', `setsid -w ${BINARY} --root ${s.cli.root} run -b ${b.dir} ${b.id} 2>${err}`, '/dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await waitFor(() => s.cli.list(['-q']).stdout.includes(b.id), 'the container to run');
      // The terminal's master closes: writes to it fail (EIO); in a session of its own
      // (setsid), the runtime gets no SIGHUP to end it another way.
      process.kill(term.pid!, 'SIGKILL');
      await waitFor(() => !s.cli.list(['-q']).stdout.includes(b.id), 'the run to remove its container');
      // Before, the first failed write was an unhandled error: Node aborted, the container stayed.
      await waitFor(() => fs.existsSync(err), 'the run to end');
      expect(fs.readFileSync(err, 'utf8')).not.toMatch(/Assertion|Unhandled|node:internal/);
    } finally {
      term.kill('SIGKILL');
    }
  });

  test('a process running as another user can reopen its stdio (/dev/stdout), in run and in exec, as with runc', () => {
    const write = 'echo out > /dev/stdout && echo err > /dev/stderr';
    const b = bundle(write, (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    const held = bundle('sleep 1000');
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    const e = s.cli.run(['exec', '--user', '1000:1000', held.id, 'sh', '-c', write]);
    expect({ code: e.code, stdout: e.stdout, stderr: e.stderr }).toEqual({ code: 0, stdout: 'out\n', stderr: 'err\n' });
    // With sockets as tsrun's stdio (Node's 'pipe', systemd's journal), which cannot be
    // reopened (ENXIO): runc's pipes can.
    const viaSockets = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(BINARY, ['--root', s.cli.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const again = bundle(write, (c) => (c.process.user = { uid: 1000, gid: 1000 }));
    expect(viaSockets(['run', '-b', again.dir, again.id])).toEqual({ status: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(viaSockets(['exec', '--user', '1000:1000', held.id, 'sh', '-c', write])).toEqual({ status: 0, stdout: 'out\n', stderr: 'err\n' });
  });

  // runc gives a foreground process pipes: the caller's own files are never the
  // container's. Handed over, the init's hand-over of its stdio to the user would chown
  // them, and a reopen of /dev/stdout would truncate the caller's file.
  test('a foreground run or exec reading and writing the caller\'s files: they keep their owner and their contents, as with runc', () => {
    const write = 'echo one; echo two > /dev/stdout; echo three; cat; echo err >&2';
    const files = { in: path.join(s.env.tmp, 'stdio-in'), out: path.join(s.env.tmp, 'stdio-out'), err: path.join(s.env.tmp, 'stdio-err'), device: path.join(s.env.tmp, 'stdio-zero') };
    const withFiles = (args: string[], stdoutFile: string): { status: number | null; out: string; err: string; owners: number[] } => {
      fs.writeFileSync(files.in, 'input\n');
      fs.writeFileSync(files.out, 'before\n');
      fs.writeFileSync(files.err, 'before\n');
      const fds = [fs.openSync(files.in, 'r'), fs.openSync(stdoutFile, 'a'), fs.openSync(files.err, 'a')];
      try {
        const r = spawnSync(BINARY, ['--root', s.cli.root, ...args], { stdio: fds, timeout: 30_000 });
        return { status: r.status, out: fs.readFileSync(files.out, 'utf8'), err: fs.readFileSync(files.err, 'utf8'), owners: [files.in, stdoutFile, files.err].map((f) => fs.statSync(f).uid) };
      } finally {
        for (const fd of fds) fs.closeSync(fd);
      }
    };
    const b = bundle(write, (c) => (c.process.user = { uid: 1000, gid: 1000 }));
    expect(withFiles(['run', '-b', b.dir, b.id], files.out)).toEqual({ status: 0, out: 'before\none\ntwo\nthree\ninput\n', err: 'before\nerr\n', owners: [0, 0, 0] });
    const held = bundle('sleep 1000');
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    expect(withFiles(['exec', '--user', '1000:1000', held.id, 'sh', '-c', write], files.out)).toEqual({ status: 0, out: 'before\none\ntwo\nthree\ninput\n', err: 'before\nerr\n', owners: [0, 0, 0] });
    // A device node of the host's (not /dev/null) as stdout keeps its owner too.
    expect(spawnSync('mknod', [files.device, 'c', '1', '5']).status).toBe(0);
    const zero = bundle(write, (c) => (c.process.user = { uid: 1000, gid: 1000 }));
    expect(withFiles(['run', '-b', zero.dir, zero.id], files.device)).toMatchObject({ status: 0, owners: [0, 0, 0] });
    // And a directory given as stdin (the container reads an empty stdin).
    const dir = path.join(s.env.tmp, 'stdio-dir');
    fs.mkdirSync(dir);
    const reader = bundle('cat; echo read', (c) => (c.process.user = { uid: 1000, gid: 1000 }));
    const dirFd = fs.openSync(dir, 'r');
    try {
      const r = spawnSync(BINARY, ['--root', s.cli.root, 'run', '-b', reader.dir, reader.id], { stdio: [dirFd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
      expect({ status: r.status, stdout: r.stdout, owner: fs.statSync(dir).uid }).toEqual({ status: 0, stdout: 'read\n', owner: 0 });
    } finally {
      fs.closeSync(dirFd);
    }
  });

  // runc's init hands a detached container's stdio to its user, a device node of the
  // host's too (its fixStdioPermissions skips only /dev/null): every process on the host
  // then sees, say, /dev/zero owned by that user. tsrun leaves device nodes alone.
  (FLAVOR === 'tsrun' ? test : test.skip)('a detached container\'s user is not given a device node of the host\'s that is its stdio', () => {
    const device = path.join(s.env.tmp, 'detached-zero');
    expect(spawnSync('mknod', [device, 'c', '1', '5']).status).toBe(0);
    const out = path.join(s.env.tmp, 'detached-zero.out');
    const b = bundle('head -c 3 | wc -c; sleep 1000', (c) => (c.process.user = { uid: 1000, gid: 1000 }));
    const fds = [fs.openSync(device, 'r'), fs.openSync(out, 'w')];
    try {
      const r = spawnSync(BINARY, ['--root', s.cli.root, 'run', '-d', '-b', b.dir, b.id], { stdio: [fds[0]!, fds[1]!, fds[1]!], timeout: 30_000 });
      expect(r.status).toBe(0);
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    return waitFor(() => fs.readFileSync(out, 'utf8') === '3\n', 'the container to read its stdin').then(() => {
      expect(fs.statSync(device).uid).toBe(0);
      expectOk(s.cli.delete(b.id, true));
    });
  });

  // A Node parent's inherited stdout is a pipe libuv made non-blocking. The init clears
  // O_NONBLOCK on the container's stdio: handed on as it is, the caller's pipe would
  // stay blocking after tsrun is gone (runc pipes everything).
  test('a non-blocking pipe of the caller\'s stays non-blocking after a foreground run or exec', () => {
    const nat = native();
    // libuv makes a child's stdio blocking as it spawns it: perl (perl-base, essential in
    // Debian) sets O_NONBLOCK on its fds 0 and 1 and then execs the runtime.
    const nonBlockingThenExec = 'use Fcntl; for my $h (*STDIN, *STDOUT) { fcntl($h, F_SETFL, fcntl($h, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!" } exec @ARGV or die "exec: $!"';
    const nonBlocking = (fd: number): boolean => (parseInt(/^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8) & 0o4000) !== 0;
    const held = bundle('sleep 1000');
    expectOk(s.cli.runContainer(held.id, held.dir, ['-d']));
    const reader = bundle('wc -c');
    for (const args of [['run', '-b', reader.dir, reader.id], ['exec', held.id, 'wc', '-c']]) {
      const [inRead, inWrite] = nat.pipe();
      const [outRead, outWrite] = nat.pipe();
      try {
        fs.writeSync(inWrite, 'x'.repeat(1000));
        fs.closeSync(inWrite);
        const r = spawnSync('perl', ['-e', nonBlockingThenExec, BINARY, '--root', s.cli.root, ...args], { stdio: [inRead, outWrite, 'pipe'], encoding: 'utf8', timeout: 30_000 });
        const out = Buffer.alloc(100);
        const got = out.subarray(0, fs.readSync(outRead, out)).toString().trim();
        expect({ args: args[0], status: r.status, stderr: r.stderr, got, stdin: nonBlocking(inRead), stdout: nonBlocking(outWrite) }).toEqual({ args: args[0], status: 0, stderr: '', got: '1000', stdin: true, stdout: true });
      } finally {
        for (const fd of [inRead, outRead, outWrite]) fs.closeSync(fd);
      }
    }
  });

  // runc gives stdout and stderr a pipe each, and their order in one file is lost.
  (FLAVOR === 'tsrun' ? test : test.skip)('stdout and stderr into one file (`> log 2>&1`) keep their order through the copy', () => {
    const b = bundle('for i in 1 2 3 4 5 6 7 8; do echo out$i; echo err$i >&2; done');
    const log = path.join(s.env.tmp, `both-${b.id}`);
    const fd = fs.openSync(log, 'w');
    try {
      const r = spawnSync(BINARY, ['--root', s.cli.root, 'run', '-b', b.dir, b.id], { stdio: ['ignore', fd, fd], timeout: 30_000 });
      expect(r.status).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(log, 'utf8')).toBe([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `out${i}\nerr${i}\n`).join(''));
  });

  test('the copy between the caller\'s files and a foreground container: a megabyte each way, stdin never read, a process that cannot start', () => {
    const input = path.join(s.env.tmp, 'copy-in');
    const output = path.join(s.env.tmp, 'copy-out');
    const errors = path.join(s.env.tmp, 'copy-err');
    fs.writeFileSync(input, Buffer.alloc(1 << 20, 'x'));
    const run = (args: string[]): { status: number | null; out: string; err: string } => {
      const fds = [fs.openSync(input, 'r'), fs.openSync(output, 'w'), fs.openSync(errors, 'w')];
      try {
        const r = spawnSync(BINARY, ['--root', s.cli.root, ...args], { stdio: fds, timeout: 30_000 });
        return { status: r.status, out: fs.readFileSync(output, 'utf8'), err: fs.readFileSync(errors, 'utf8') };
      } finally {
        for (const fd of fds) fs.closeSync(fd);
      }
    };
    // All of stdin reaches the process, all of its output the file.
    const counted = bundle('wc -c; head -c 1048576 /dev/zero | tr "\\0" y');
    const r = run(['run', '-b', counted.dir, counted.id]);
    expect({ status: r.status, first: r.out.slice(0, 8), length: r.out.length, err: r.err }).toEqual({ status: 0, first: '1048576\n', length: 8 + (1 << 20), err: '' });
    // A process that never reads its stdin ends all the same (the pipe fills, then is dropped).
    const ignoring = bundle('echo done');
    expect(run(['run', '-b', ignoring.dir, ignoring.id])).toEqual({ status: 0, out: 'done\n', err: '' });
    // A process that cannot start: the failure is reported, nothing waits on the copy.
    const missing = bundle('true', (c) => (c.process.args = ['/no-such-program']));
    const failed = run(['run', '-b', missing.dir, missing.id]);
    expect(failed.status).not.toBe(0);
    expect(failed.err).toMatch(/no-such-program/);
  });

  test("a net.* sysctl is refused when the network namespace joined is the runtime's own (the host's)", () => {
    // Run in a network namespace of the test's own (unshare -n): were the check
    // missing, the sysctl would land there, not on the machine's.
    const b = bundle('true', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
      c.linux.sysctl = { 'net.ipv4.ip_default_ttl': '77' };
    });
    const r = spawnSync('unshare', ['-n', '--', BINARY, '--root', s.cli.root, 'run', '-b', b.dir, b.id], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/net.ipv4.ip_default_ttl\\?"?:? not allowed in host network namespace/);
  });

  test('a key in the path form (net/ipv4/ip_default_ttl) is checked and written as the dotted one, as runc does', () => {
    const b = bundle('cat /proc/sys/net/ipv4/ip_default_ttl', (c) => (c.linux.sysctl = { 'net/ipv4/ip_default_ttl': '77' }));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '77\n', stderr: '' });
    const host = bundle('true', (c) => (c.linux.sysctl = { 'kernel/panic': '1' }));
    const refused = s.cli.runContainer(host.id, host.dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/kernel[./]panic\\?"?:? is not in a separate kernel namespace/);
  });

  // runc 1.1.5 checks only that the config lists an IPC namespace, and writes the
  // host's limits when its path is the runtime's own.
  (FLAVOR === 'runc' ? test.skip : test)("an IPC sysctl is refused when the IPC namespace joined is the runtime's own (the host's)", () => {
    // Run in an IPC namespace of the test's own (unshare -i): were the check
    // missing, the sysctl would land there, not on the machine's.
    const b = bundle('true', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'ipc' ? { type: 'ipc', path: '/proc/self/ns/ipc' } : n));
      c.linux.sysctl = { 'kernel.shmmni': '1234' };
    });
    const r = spawnSync('unshare', ['-i', '--', 'sh', '-c', `${BINARY} --root ${s.cli.root} run -b ${b.dir} ${b.id}; echo "shmmni $(cat /proc/sys/kernel/shmmni)"`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toMatch(/linux.sysctl \\?"kernel.shmmni\\?": is not allowed in the hosts ipc namespace/);
    expect(r.stdout).not.toContain('shmmni 1234');
  });

  // runc 1.1.5 sets the joined namespace's name: the host's, here.
  (FLAVOR === 'runc' ? test.skip : test)("hostname and domainname are refused in a UTS namespace joined by the runtime's own path (the host's)", () => {
    for (const field of ['hostname', 'domainname'] as const) {
      const b = bundle('true', (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'uts' ? { type: 'uts', path: '/proc/self/ns/uts' } : n));
        delete c.hostname;
        c[field] = 'set-by-container';
      });
      // In a UTS namespace of the test's own (unshare -u): were the check missing, the
      // name would land there, not on the machine.
      const r = spawnSync('unshare', ['-u', '--', 'sh', '-c', `${BINARY} --root ${s.cli.root} run -b ${b.dir} ${b.id}; echo "now $(hostname) $(cat /proc/sys/kernel/domainname)"`], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).toMatch(new RegExp(`${field}: unable to set ${field} without a private UTS namespace`));
      expect(r.stdout).not.toContain('set-by-container');
    }
  });

  test('a bind mount inside /proc, or of a plain directory onto /proc, is refused (runc: CVE-2019-16884); lxcfs files may be covered', () => {
    const dir = fs.mkdtempSync(path.join(s.env.tmp, 'plain-'));
    const refused = (destination: string): string => {
      const b = bundle('true', (c) => c.mounts.push({ destination, type: 'bind', source: dir, options: ['rbind'] }));
      const r = s.cli.runContainer(b.id, b.dir);
      expect(r.code).toBe(1);
      return r.stderr;
    };
    expect(refused('/proc/1/attr')).toMatch(/proc\/1\/attr\\?" cannot be mounted because it is inside \/proc/);
    expect(refused('/proc')).toMatch(/proc\\?" cannot be mounted because it is not of type proc/);
    // /proc/net/dev may be covered as written, but procfs's own links take it to
    // /proc/<pid>/net/dev: a mount there covers one process's file, and is judged there.
    const netDev = path.join(dir, 'net-dev');
    fs.writeFileSync(netDev, 'fake\n');
    const viaLink = bundle('true', (c) => c.mounts.push({ destination: '/proc/net/dev', type: 'bind', source: netDev, options: ['bind'] }));
    const r1 = s.cli.runContainer(viaLink.id, viaLink.dir);
    expect({ code: r1.code, stdout: r1.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r1.stderr).toMatch(/proc\/\d+\/net\/dev\\?" cannot be mounted because it is inside \/proc/);
    const meminfo = path.join(dir, 'meminfo');
    fs.writeFileSync(meminfo, 'MemTotal: 1 kB\n');
    const b = bundle('cat /proc/meminfo', (c) => c.mounts.push({ destination: '/proc/meminfo', type: 'bind', source: meminfo, options: ['bind', 'ro'] }));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'MemTotal: 1 kB\n' });
  });

  test('a mount that a symlink in the rootfs leads into /proc is refused, whatever its destination says (runc resolves, then judges)', () => {
    const file = path.join(fs.mkdtempSync(path.join(s.env.tmp, 'plain-')), 'pattern');
    fs.writeFileSync(file, '|/tmp/evil %p\n');
    const led = (destination: string, link: string, mount: Record<string, unknown>) => {
      const b = bundle('cat /proc/sys/kernel/core_pattern', (c) => c.mounts.push({ destination, ...mount }));
      fs.symlinkSync(link, path.join(b.rootfs, destination.split('/')[1]));
      return s.cli.runContainer(b.id, b.dir);
    };
    // A file bound over a sysctl would hide what the container, or a runtime, reads there.
    const onFile = led('/kern/core_pattern', '/proc/sys/kernel', { type: 'bind', source: file, options: ['bind', 'ro'] });
    expect({ code: onFile.code, stdout: onFile.stdout }).toEqual({ code: 1, stdout: '' });
    expect(onFile.stderr).toMatch(/proc\/sys\/kernel\/core_pattern\\?" cannot be mounted because it is inside \/proc/);
    // Relative links too, and a filesystem mounted (not bound) there.
    const overlay = led('/sysk', '../proc/sys', { type: 'overlay', source: 'overlay', options: ['lowerdir=/tmp'] });
    expect(overlay.code).toBe(1);
    expect(overlay.stderr).toMatch(/proc\/sys\\?" cannot be mounted because it is inside \/proc/);
    // Filesystems runc 1.1 mounts without its rule as written: led there, refused (runc 1.2).
    if (FLAVOR === 'tsrun') {
      for (const type of ['tmpfs', 'mqueue']) {
        const byType = led('/tmpk', '/proc/sys/kernel', { type, source: type });
        expect({ type, code: byType.code, stdout: byType.stdout }).toEqual({ type, code: 1, stdout: '' });
        expect(byType.stderr).toMatch(/proc\/sys\/kernel\\?" cannot be mounted because it is inside \/proc/);
      }
    }
  });

  test('a mount whose destination a rootfs symlink leads to the container\'s root is refused (exec would get it as its "/"); runc refuses it too', () => {
    const source = fs.mkdtempSync(path.join(s.env.tmp, 'volume-'));
    fs.writeFileSync(path.join(source, 'from-the-volume'), '');
    const cases: Array<[string, Record<string, unknown>]> = [
      ['/', { type: 'bind', source, options: ['rbind'] }],
      ['.', { type: 'bind', source, options: ['rbind', 'ro'] }],
      ['/', { type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }],
    ];
    for (const [link, mount] of cases) {
      const b = bundle('true', (c) => c.mounts.push({ destination: '/data', ...mount }));
      fs.symlinkSync(link, path.join(b.rootfs, 'data'));
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ link, mount, code: r.code, stdout: r.stdout }).toEqual({ link, mount, code: 1, stdout: '' });
      if (FLAVOR === 'tsrun') expect(r.stderr).toContain('on /data: the destination resolves to the container\'s root directory');
    }
  });

  (FLAVOR === 'runc' ? test.skip : test)('a masked or read-only path that a rootfs symlink leads to the container\'s root is refused', () => {
    for (const field of ['maskedPaths', 'readonlyPaths']) {
      const b = bundle('true', (c) => {
        c.linux[field] = ['/hidden'];
      });
      fs.symlinkSync('/', path.join(b.rootfs, 'hidden'));
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ field, code: r.code }).toEqual({ field, code: 1 });
      expect(r.stderr).toContain('Path /hidden: the destination resolves to the container\'s root directory');
    }
  });

  (FLAVOR === 'runc' ? test.skip : test)('without a procfs at /proc, files the image plants at proc/self/fd/<n> cannot take the exec FIFO\'s handshake (the process would run without start)', async () => {
    const b = bundle('touch /ran', (c) => {
      c.root.readonly = false;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
    });
    const fds = path.join(b.rootfs, 'proc', 'self', 'fd');
    fs.mkdirSync(fds, { recursive: true });
    for (let n = 3; n < 32; n++) fs.writeFileSync(path.join(fds, String(n)), 'planted\n');
    // The init parks after create has returned: it fails there, saying why on the
    // stderr it got, and the container is stopped before anything ran.
    const err = path.join(b.dir, 'create.err');
    s.cli.create(b.id, b.dir, [], { stderrFile: err });
    await waitFor(() => /exec fifo: \/proc\/self\/fd\/\d+ does not lead to the exec FIFO/.test(fs.readFileSync(err, 'utf8')), 'the init\'s refusal');
    const start = s.cli.start(b.id);
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('cannot start a container that has stopped') });
    for (let n = 3; n < 32; n++) expect(fs.readFileSync(path.join(fds, String(n)), 'utf8')).toBe('planted\n');
    expect(fs.existsSync(path.join(b.rootfs, 'ran'))).toBe(false);
  });

  /**
   * Runs the bundle with each of the init's `syscall` calls held 1 s by strace; once a
   * mount (of type `fstype`, if given) is on `dest` in the init's mount namespace, the volume's
   * directory `dir` (the first component of `dest` below /data) is renamed away and
   * `dest` becomes a symlink to /config, as a process of another container sharing
   * the volume could make it. Returns the run's status and stderr.
   */
  /**
   * A container with a host directory bound at /config, a volume at /data and `mount`
   * below it, and few mount(2) calls (binds go through open_tree and move_mount).
   */
  function volumeBundle(config: string, volume: string, mount: Record<string, unknown>): ReturnType<typeof bundle> {
    return bundle('true', (c) => {
      c.root.readonly = false;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.mounts = [
        { destination: '/config', type: 'bind', source: config, options: ['rbind'] },
        { destination: '/data', type: 'bind', source: volume, options: ['rbind'] },
        mount,
      ];
    });
  }

  async function swappedWhileMounted(b: { id: string; dir: string; rootfs: string }, volume: string, syscall: string, dest: string, fstype?: string): Promise<{ code: number | null; stderr: string }> {
    const run = spawn('strace', ['-f', '-qq', '-o', '/dev/null', '-e', `trace=${syscall}`, '-e', `inject=${syscall}:delay_exit=1000000`,
      BINARY, '--root', s.cli.root, 'run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    const mountedThere = `${b.rootfs}${dest} `;
    const isOn = (): boolean => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').some((l) => l.includes(mountedThere) && (fstype === undefined || l.includes(` - ${fstype} `)));
      } catch {
        return false;
      }
    });
    try {
      await waitFor(isOn, `the mount on ${dest}`, 30_000);
      const [top, ...rest] = path.relative('/data', dest).split('/');
      fs.renameSync(path.join(volume, top!), path.join(volume, `${top}2`));
      fs.mkdirSync(path.join(volume, top!, ...rest.slice(0, -1)), { recursive: true });
      fs.symlinkSync('/config', path.join(volume, top!, ...rest));
      return { code: await ended, stderr };
    } finally {
      if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
      await ended;
    }
  }

  (FLAVOR === 'runc' ? test.skip : test)('a tmpfs destination swapped for a symlink while it is mounted (by another container sharing the volume): the copy-up and chmod leave the directory the symlink names alone', async () => {
    // The volume holds a/cache (0777, with a setuid file for tmpcopyup to copy); a host
    // directory is bound at /config.
    const volume = fs.mkdtempSync(path.join(s.env.tmp, 'volume-'));
    const config = fs.mkdtempSync(path.join(s.env.tmp, 'config-'));
    fs.chmodSync(config, 0o755);
    const cache = path.join(volume, 'a', 'cache');
    fs.mkdirSync(cache, { recursive: true });
    fs.chmodSync(cache, 0o777);
    fs.writeFileSync(path.join(cache, 'evil'), '');
    fs.chmodSync(path.join(cache, 'evil'), 0o4755);
    const b = volumeBundle(config, volume, { destination: '/data/a/cache', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const r = await swappedWhileMounted(b, volume, 'mount', '/data/a/cache', 'tmpfs');
    expect(r).toEqual({ code: 1, stderr: expect.stringContaining('mount tmpfs on /data/a/cache: the destination moved while it was mounted (from \\"/data/a/cache\\" to \\"/config\\")') });
    expect((fs.statSync(config).mode & 0o7777).toString(8)).toBe('755');
    expect(fs.readdirSync(config)).toEqual([]);
  }, 60_000);

  (FLAVOR === 'runc' ? test.skip : test)('a bind destination swapped for a symlink while it is mounted: its recursive read-only option (rro) is not set on the directory the symlink names', async () => {
    const volume = fs.mkdtempSync(path.join(s.env.tmp, 'volume-'));
    const config = fs.mkdtempSync(path.join(s.env.tmp, 'config-'));
    const secret = fs.mkdtempSync(path.join(s.env.tmp, 'secret-'));
    fs.mkdirSync(path.join(volume, 'b', 'ro'), { recursive: true });
    const b = volumeBundle(config, volume, { destination: '/data/b/ro', type: 'bind', source: secret, options: ['rbind', 'rro'] });
    const r = await swappedWhileMounted(b, volume, 'move_mount', '/data/b/ro');
    expect(r).toEqual({ code: 1, stderr: expect.stringContaining('recursive mount options on /data/b/ro: the destination moved while it was mounted (from \\"/data/b/ro\\" to \\"/config\\")') });
  }, 60_000);

  test('without a procfs at /proc, links the image plants at proc/self/fd/<n> cannot turn the read-only remount of the root onto another mount', () => {
    const b = bundle('touch /rootfile', (c) => {
      c.root.readonly = true;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
    });
    const fds = path.join(b.rootfs, 'proc', 'self', 'fd');
    fs.mkdirSync(fds, { recursive: true });
    for (let n = 3; n < 64; n++) fs.symlinkSync('/tmp', path.join(fds, String(n)));
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).not.toBe(0);
    // The root stayed read-only: nothing made /tmp read-only in its place.
    expect(fs.existsSync(path.join(b.rootfs, 'rootfile'))).toBe(false);
    if (FLAVOR === 'tsrun') expect(r.stderr).toContain('/proc/self/fd of the container is not procfs\'s');
  });

  (FLAVOR === 'runc' ? test.skip : test)('oom_score_adj is written through the host\'s procfs, before the container\'s mounts: an image\'s fake /proc never gets it', () => {
    // An image whose /proc is a symlink to a plain directory a config bind-mounts (a
    // bind onto /proc itself is refused when planning): a runtime that wrote the score
    // through the container's /proc would write it into this host file. (The init's
    // write checks that its file is on procfs too.)
    const fake = fs.mkdtempSync(path.join(s.env.tmp, 'fakeproc-'));
    fs.mkdirSync(path.join(fake, 'self'));
    fs.writeFileSync(path.join(fake, 'self', 'oom_score_adj'), 'untouched');
    const b = bundle('true', (c) => {
      c.root.readonly = false;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.process.oomScoreAdj = 500;
      c.mounts = c.mounts.map((m: { destination: string }) =>
        m.destination === '/proc' ? { destination: '/fakeproc', type: 'bind', source: fake, options: ['rbind'] } : m);
    });
    fs.rmSync(path.join(b.rootfs, 'proc'), { recursive: true, force: true });
    fs.symlinkSync('fakeproc', path.join(b.rootfs, 'proc'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(fs.readFileSync(path.join(fake, 'self', 'oom_score_adj'), 'utf8')).toBe('untouched');
  });

  describe('no container process can write the runtime binaries through /proc/<pid>/exe', () => {
    // Everything that runs as part of tsrun: Node (the CLI) and the init program.
    const hostBinaries = () => [process.execPath, path.join(repoRoot(), 'build', 'Release', 'tsrun-init')].filter((f) => fs.existsSync(f));
    const hashes = () => hostBinaries().map((f) => `${f} ${crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')}`);
    // Root in the container with every capability that could help (ptrace to reach a
    // non-dumpable process's exe, dac_override to ignore modes), no no_new_privs.
    const ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
      'CAP_SETPCAP', 'CAP_SYS_PTRACE', 'CAP_SYS_ADMIN', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_NET_BIND_SERVICE'];
    // One pass: try to open every visible /proc/<pid>/exe (and the self aliases) for
    // writing; print what was tried, and WROTE for any open that succeeded.
    const ATTACK = [
      'for f in /proc/[0-9]*/exe /proc/self/exe /proc/thread-self/exe /proc/[0-9]*/task/[0-9]*/exe; do',
      '  [ -e "$f" ] || [ -L "$f" ] || continue;',
      '  if (echo x >> "$f") 2>/dev/null; then echo "WROTE $f -> $(readlink $f)"; fi;',
      '  echo "tried $f";',
      'done',
    ].join(' ');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const privileged = (userns: boolean) => (c: any) => {
      c.root.readonly = false;
      c.process.noNewPrivileges = false;
      c.process.capabilities = { bounding: ALL_CAPS, effective: ALL_CAPS, permitted: ALL_CAPS, inheritable: [], ambient: [] };
      if (userns) {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      }
    };
    const tried = (out: string) => out.split('\n').filter((l) => l.startsWith('tried ')).map((l) => l.slice(6));
    const wrote = (out: string) => out.split('\n').filter((l) => l.startsWith('WROTE'));

    test.each([['no user namespace', false], ['user namespace mapping host root', true]])(
      'while the init is parked (created), %s', (_name, userns) => {
        const before = hashes();
        const b = bundle('true', privileged(userns as boolean));
        expect(s.cli.create(b.id, b.dir).code).toBe(0);
        // pid 1 of the container is the parked init: tsrun-init, not yet the user's program.
        const r = s.cli.run(['exec', b.id, 'sh', '-c', ATTACK]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        expect(tried(r.stdout)).toContain('/proc/1/exe');
        expect(wrote(r.stdout)).toEqual([]);
        expect(hashes()).toEqual(before);
      });

    test.each([['no user namespace', false], ['user namespace mapping host root', true]])(
      'while tsrun exec joins a running container, %s', async (_name, userns) => {
        const before = hashes();
        // The container's init attacks in a loop while execs join, each one an init
        // that passes through the container's namespaces before it execs.
        const b = bundle(`while [ ! -e /tmp/stop ]; do ${ATTACK}; done; echo done`, privileged(userns as boolean));
        const out = path.join(s.env.tmp, `${b.id}.out`);
        expect(s.cli.create(b.id, b.dir, [], { stdoutFile: out }).code).toBe(0);
        expect(s.cli.start(b.id).code).toBe(0);
        const execs = Array.from({ length: 6 }, () => s.cli.spawn(['exec', b.id, 'sh', '-c', ATTACK]).done);
        const results = await Promise.all(execs);
        for (const r of results) {
          expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
          expect(wrote(r.stdout)).toEqual([]);
          expect(tried(r.stdout).length).toBeGreaterThan(0);
        }
        // The file ends the init's loop; when pid 1 exits before `touch` itself does,
        // the kernel kills the rest of the pid namespace: 137 is a success here too.
        expect([0, 137]).toContain(s.cli.run(['exec', b.id, 'touch', '/tmp/stop']).code);
        expect(fs.existsSync(path.join(b.rootfs, 'tmp', 'stop'))).toBe(true);
        await waitFor(() => fs.readFileSync(out, 'utf8').includes('done\n'), 'the attacking init to finish');
        const text = fs.readFileSync(out, 'utf8');
        expect(tried(text)).toContain('/proc/self/exe');
        expect(wrote(text)).toEqual([]);
        expect(hashes()).toEqual(before);
      });

    (FLAVOR === 'tsrun' ? test : test.skip)('the init runs from a detached read-only overlay: not even host root can open its exe for writing, and it is no memfd copy', () => {
      const b = bundle('true');
      expect(s.cli.create(b.id, b.dir).code).toBe(0);
      const exe = `/proc/${s.cli.state(b.id).pid}/exe`;
      // The overlay's root holds the init's directory: the file is at its top, and its
      // mount is in no namespace (a path on the host would show here, a memfd copy
      // would show as /memfd:tsrun-init).
      expect(fs.readlinkSync(exe)).toBe('/tsrun-init');
      // Plain root, CAP_DAC_OVERRIDE and all: the overlay has no upper layer, so its
      // superblock is read-only (the host file itself would give ETXTBSY instead).
      expect(() => fs.openSync(exe, 'r+')).toThrow(expect.objectContaining({ code: 'EROFS' }));
      expect(() => fs.openSync(exe, 'a')).toThrow(expect.objectContaining({ code: 'EROFS' }));
      // It is the build's file, byte for byte.
      const built = path.join(repoRoot(), 'build', 'Release', 'tsrun-init');
      expect(crypto.createHash('sha256').update(fs.readFileSync(exe)).digest('hex'))
        .toBe(crypto.createHash('sha256').update(fs.readFileSync(built)).digest('hex'));
    });

    // overlayfs splits its lowerdir at ':' and unescapes '\\': with the build at such a
    // path, the overlay would be made of other directories, and an init planted in one
    // of them would run (addon/native/spawn.cpp refuses such a path and copies).
    (FLAVOR === 'tsrun' ? test : test.skip)('installed at a path with a colon or a backslash, the init runs from a sealed memfd copy of the build\'s, never from an overlay of that path', () => {
      const built = crypto.createHash('sha256').update(fs.readFileSync(path.join(repoRoot(), 'build', 'Release', 'tsrun-init'))).digest('hex');
      // Where "at\\slash" would lead overlayfs ("atslash"): a decoy init and floor.
      const decoy = path.join(s.env.tmp, 'atslash', 'build');
      fs.mkdirSync(path.join(decoy, 'Release'), { recursive: true });
      fs.mkdirSync(path.join(decoy, 'tsrun-init-floor'));
      fs.copyFileSync(path.join(repoRoot(), 'build', 'Release', 'tsrun-demo'), path.join(decoy, 'Release', 'tsrun-init'));
      for (const [name, dir] of [['colon', 'at:colon'], ['backslash', 'at\\slash']] as const) {
        const cli = s.addCli(installCopy(path.join(s.env.tmp, dir), true), name);
        const b = bundle('true');
        expectOk(cli.create(b.id, b.dir));
        const exe = `/proc/${cli.state(b.id).pid}/exe`;
        expect({ name, exe: fs.readlinkSync(exe) }).toEqual({ name, exe: '/memfd:tsrun-init (deleted)' });
        expect({ name, sha256: crypto.createHash('sha256').update(fs.readFileSync(exe)).digest('hex') }).toEqual({ name, sha256: built });
        expectOk(cli.start(b.id));
        expectOk(cli.delete(b.id, true));
      }
    });

    // vm.memfd_noexec 2 (a pid namespace's own setting) refuses an executable memfd:
    // with no overlay either (here: the colon path), the create fails saying why.
    (FLAVOR === 'tsrun' && fs.existsSync('/proc/sys/vm/memfd_noexec') ? test : test.skip)('with neither the overlay nor an executable memfd (vm.memfd_noexec 2), create fails naming the setting and leaves nothing', () => {
      const binary = installCopy(path.join(s.env.tmp, 'noexec:memfd'), true);
      const b = bundle('true');
      const root = path.join(s.env.tmp, 'state-memfd-noexec');
      const r = spawnSync('unshare', ['-p', '-f', '--mount-proc', 'sh', '-c', 'echo 2 > /proc/sys/vm/memfd_noexec && exec "$@"', 'sh', binary, '--root', root, 'create', '--bundle', b.dir, b.id],
        { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/memfd_create tsrun-init \(vm\.memfd_noexec forbids an executable memfd, and the init's read-only overlay could not be made.*\): EACCES/);
      expect(fs.existsSync(path.join(root, b.id))).toBe(false);
      // The setting was the pid namespace's own.
      expect(fs.readFileSync('/proc/sys/vm/memfd_noexec', 'utf8').trim()).not.toBe('2');
    });

    test.each([['no user namespace', false], ['user namespace mapping host root', true]])(
      'an exe held open while the parked init execs cannot be written afterwards (CVE-2019-5736), %s', async (_name, userns) => {
        const before = hashes();
        const b = bundle('sleep 1000', privileged(userns as boolean));
        expect(s.cli.create(b.id, b.dir).code).toBe(0);
        // Hold the parked init's exe open (ptrace access: CAP_SYS_PTRACE), let the init
        // exec the user's program, then reopen the held file for writing.
        const attacker = s.cli.spawn(['exec', b.id, 'sh', '-c', [
          // a failed `exec 3<` would end the shell: probe in a subshell first
          'if (exec 3</proc/1/exe) 2>/dev/null; then exec 3</proc/1/exe; readlink /proc/self/fd/3; else echo cannot-open; fi; touch /tmp/holding;',
          'while [ ! -e /tmp/go ]; do sleep 0.05; done;',
          '(echo x >> /proc/self/fd/3) 2>/dev/null && echo WROTE-held; (echo x > /proc/self/fd/3) 2>/dev/null && echo WROTE-held-trunc; echo end',
        ].join(' ')]).done;
        const holding = path.join(b.rootfs, 'tmp', 'holding');
        await waitFor(() => fs.existsSync(holding), 'the attacker to hold /proc/1/exe');
        expect(s.cli.start(b.id).code).toBe(0);
        await s.cli.waitStatus(b.id, 'running');
        await waitFor(() => (fs.readFileSync(`/proc/${s.cli.state(b.id).pid}/cmdline`, 'utf8').startsWith('sleep')), 'the init to exec sleep');
        fs.writeFileSync(path.join(b.rootfs, 'tmp', 'go'), '');
        const r = await attacker;
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        // Without a user namespace CAP_SYS_PTRACE reaches the non-dumpable init and the
        // attacker really holds its exe (the init on a detached read-only overlay, whose
        // root it is in: never the host file); in a user namespace the init's memory
        // belongs to the host's namespace: no access.
        expect(r.stdout.split('\n')[0]).toBe(userns ? 'cannot-open' : '/tsrun-init');
        expect(r.stdout).not.toMatch(/WROTE/);
        expect(r.stdout).toMatch(/end\n$/);
        expect(hashes()).toEqual(before);
      });
  });
});
