// Seccomp, end to end: real containers whose filters are built from linux.seccomp
// (libseccomp in the addon, loaded by the init). Each action is proven by what the
// container observes: an errno, a signal, a trap handler, a notify listener's answer.

import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync, ChildProcessWithoutNullStreams } from 'child_process';
import { dockerDefaultProfile } from '../helpers/docker-seccomp';
import { errorMessage, repoRoot, runtimeUnderTest, flavorOf, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { isEmpty } from '../helpers/cleanup';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);
const AGENT = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-seccomp-agent');
const SYSCALL = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-syscall');
/** x86_64 syscall numbers the tests call directly. */
const NR = { getpid: 39, sync: 162, faccessat2: 439, futexWaitv: 449 };
/** i386's sync. */
const I386_SYNC = 36;
const describeX64 = process.arch === 'x64' ? describe : describe.skip;

/** The entries of a seccomp cache dir made from a profile whose JSON holds `text` (an entry's material holds the profile as written). */
function cacheEntriesNaming(cache: string, text: string): string[] {
  const names = fs.existsSync(cache) ? fs.readdirSync(cache) : [];
  return names.filter((n) => JSON.parse(fs.readFileSync(path.join(cache, n), 'utf8')).material.includes(text));
}

/** The message of a runtime error line, whatever the log format. */
function errorText(stderr: string): string {
  return stderr.replace(/\\"/g, '"');
}

describeIf(containerSkipReason())(`seccomp (${BINARY})`, () => {
  const s = useSuite('seccomp', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const run = (script: string, seccomp: any, configure?: (c: any) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        c.root.readonly = false;
        c.linux.seccomp = seccomp;
        configure?.(c);
      },
    });
    for (const applet of ['linux32', 'linux64']) {
      const link = path.join(b.rootfs, 'bin', applet);
      if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
    }
    return s.cli.runContainer(b.id, b.dir);
  };

  const allowBut = (syscalls: unknown[]) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });

  /**
   * A bundle whose process is tsrun-test-syscall making `calls` (or what configure
   * sets); a string "#<digits>" anywhere in the config is written as that bare
   * number literal, which JSON.stringify cannot write for values past 2^53.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const syscallBundle = (calls: string[], seccomp: unknown, configure?: (c: any) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['/bin/syscall', ...calls];
        c.linux.seccomp = seccomp;
        configure?.(c);
      },
    });
    fs.copyFileSync(SYSCALL, path.join(b.rootfs, 'bin', 'syscall'));
    fs.chmodSync(path.join(b.rootfs, 'bin', 'syscall'), 0o755);
    fs.writeFileSync(b.configPath, fs.readFileSync(b.configPath, 'utf8').replace(/"#(\d+)"/g, '$1'));
    return b;
  };

  describe('actions', () => {
    test('SCMP_ACT_ERRNO returns errnoRet, and EPERM without one', () => {
      const r = run('mkdir /tmp/a; rmdir /tmp 2>&1; echo done', allowBut([
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 },
        { names: ['rmdir'], action: 'SCMP_ACT_ERRNO' },
      ]));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 0,
        stdout: "rmdir: '/tmp': Operation not permitted\ndone\n",
        stderr: "mkdir: can't create directory '/tmp/a': Invalid cross-device link\n",
      });
    });

    test('a second container with the same profile is filtered as the first, by the program kept under --root (tsrun) the first time', () => {
      // A profile of this test's own: its entry is the only one that names it.
      const profile = allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 71 }]);
      const cache = path.join(s.cli.root, '~seccomp-cache');
      const entries = () => cacheEntriesNaming(cache, '"errnoRet":71}');
      // Three: the first create of a suite may find no --root yet to keep anything in.
      // The entry the second kept is the one the third takes: a miss would have
      // written it anew (another inode).
      const inodes: number[] = [];
      const outputs = [1, 2, 3].map(() => {
        const r = run('mkdir /tmp/a 2>&1; echo rc=$?', profile);
        const [entry] = entries();
        if (entry) inodes.push(fs.statSync(path.join(cache, entry)).ino);
        return { code: r.code, stdout: r.stdout, stderr: r.stderr };
      });
      for (const o of outputs) expect(o).toEqual({ code: 0, stdout: "mkdir: can't create directory '/tmp/a': Protocol error\nrc=1\n", stderr: '' });
      if (s.cli.flavor === 'tsrun') {
        expect(entries()).toHaveLength(1);
        expect(inodes.length).toBeGreaterThanOrEqual(2);
        expect(inodes[inodes.length - 1]).toBe(inodes[inodes.length - 2]);
      }
    });

    (FLAVOR === 'runc' ? test.skip : test)('a profile taken from the cache warns as it did when it was compiled', () => {
      // Nothing named above read (0): no ENOSYS stub, with a warning. Nothing else is
      // allowed either, so the container's exec fails; the profile compiled all the same.
      const profile = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 72, architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
      const cache = path.join(s.cli.root, '~seccomp-cache');
      const entries = () => cacheEntriesNaming(cache, '"defaultErrnoRet":72');
      // Three: the first create of a suite may find no --root yet to keep anything in.
      // The third takes the entry the second kept (the same inode: a miss writes anew).
      const inodes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = run('true', profile);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain('seccomp: the profile names no syscall numbered above 0 on SCMP_ARCH_X86_64: no ENOSYS stub for it');
        if (i > 0) {
          expect(entries()).toHaveLength(1);
          inodes.push(fs.statSync(path.join(cache, entries()[0] as string)).ino);
        }
      }
      expect(inodes[1]).toBe(inodes[0]);
    });

    test('defaultAction ERRNO with defaultErrnoRet applies to every syscall not listed', () => {
      const profile = dockerDefaultProfile();
      profile.defaultErrnoRet = 95; // EOPNOTSUPP
      const r = run('mount -t tmpfs none /mnt 2>&1; echo rc=$?', profile);
      expect(r.stdout).toMatch(/Operation not supported\nrc=255\n$|not supported.*\nrc=/);
      expect(r.code).toBe(0);
    });

    test.each(['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD'])('%s kills the process with SIGSYS (exit 159)', (action) => {
      const r = run('echo before; exec mkdir /tmp/k', allowBut([{ names: ['mkdir', 'mkdirat'], action }]));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 159, stdout: 'before\n' });
    });

    test('SCMP_ACT_TRAP raises SIGSYS, which the process can catch', () => {
      // umask is a builtin: the syscall is made by the shell, whose trap handler runs.
      const r = run('trap "echo trapped" SYS; umask 077; echo after', allowBut([{ names: ['umask'], action: 'SCMP_ACT_TRAP' }]));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'trapped\nafter\n' });
      // Uncaught, the same trap kills with SIGSYS.
      const r2 = run('umask 077; echo after', allowBut([{ names: ['umask'], action: 'SCMP_ACT_TRAP' }]));
      expect({ code: r2.code, stdout: r2.stdout }).toEqual({ code: 159, stdout: '' });
    });

    test('SCMP_ACT_TRACE without a tracer fails the syscall with ENOSYS', () => {
      const r = run('mkdir /tmp/t', allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_TRACE' }]));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: "mkdir: can't create directory '/tmp/t': Function not implemented\n" });
    });

    test('SCMP_ACT_LOG lets the syscall through', () => {
      const r = run('mkdir /tmp/l && ls -d /tmp/l', allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }]));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '/tmp/l\n', stderr: '' });
    });

    test('a rule with the default action changes nothing (libseccomp would refuse it)', () => {
      const r = run('mkdir /tmp/d && echo ok', allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }]));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'ok\n' });
    });
  });

  describe('exec', () => {
    test.each([true, false])('an exec\'d process is filtered like the init (noNewPrivileges %s)', (nnp) => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sleep', '30'];
          c.process.noNewPrivileges = nnp;
          c.root.readonly = false;
          c.linux.seccomp = allowBut([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]);
        },
      });
      expect(s.cli.create(b.id, b.dir).code).toBe(0);
      expect(s.cli.start(b.id).code).toBe(0);
      const r = s.cli.run(['exec', b.id, 'sh', '-c', 'mkdir /tmp/e 2>&1; grep Seccomp: /proc/self/status']);
      expect(r.stdout).toBe("mkdir: can't create directory '/tmp/e': Invalid cross-device link\nSeccomp:\t2\n");
      s.cli.delete(b.id, true);
    });
  });

  // A profile recorded from a workload lists what the workload calls, not what a
  // runtime's init calls between the filter's load and the execve: tsrun's init then
  // makes no call runc's does not (write and read on its socket, no send, recv or
  // close_range; faccessat2 refused with EPERM leaves the check to the execve).
  describe("the init's own calls after the load", () => {
    test.each([
      ['sendto', 'SCMP_ACT_KILL_PROCESS'],
      ['recvfrom', 'SCMP_ACT_KILL_PROCESS'],
      ['close_range', 'SCMP_ACT_KILL_PROCESS'],
      ['sendto', 'SCMP_ACT_ERRNO'],
      ['recvfrom', 'SCMP_ACT_ERRNO'],
      ['faccessat2', 'SCMP_ACT_ERRNO'],
    ].flatMap(([name, action]) => [true, false].map((nnp) => [name, action, nnp] as const)))(
      'a profile refusing %s (%s) runs, starts and execs (noNewPrivileges %s), as with runc',
      async (name, action, nnp) => {
        const b = s.bundle({
          configure: (c) => {
            c.process.args = ['sh', '-c', 'echo ran; sleep 30'];
            c.process.noNewPrivileges = nnp;
            c.linux.seccomp = allowBut([{ names: [name], action }]);
            // Run by the init under the filter, as runc's are.
            c.hooks = { startContainer: [{ path: '/bin/true' }] };
          },
        });
        const out = path.join(b.dir, 'out.txt');
        const created = s.cli.create(b.id, b.dir, [], { stdoutFile: out });
        expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
        const started = s.cli.start(b.id);
        expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
        const e = s.cli.run(['exec', b.id, 'echo', 'exec ran']);
        expect({ code: e.code, stdout: e.stdout, stderr: e.stderr }).toEqual({ code: 0, stdout: 'exec ran\n', stderr: '' });
        // start returns once the process is let go, not once it has written.
        await waitFor(() => fs.readFileSync(out, 'utf8') !== '', 'the container\'s output');
        expect(fs.readFileSync(out, 'utf8')).toBe('ran\n');
        s.cli.delete(b.id, true);
        const r = run('echo ran', allowBut([{ names: [name], action }]), (c) => (c.process.noNewPrivileges = nnp));
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'ran\n', stderr: '' });
      },
    );
  });

  test('the user is switched with setgid and setuid, as runc switches it: a profile loaded before (noNewPrivileges false) refusing setres*id lets it through, one refusing setuid stops it', () => {
    const asUser = (c: { process: { user: { uid: number; gid: number }; noNewPrivileges: boolean } }) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.noNewPrivileges = false;
    };
    const through = run('id -u; id -g', allowBut([{ names: ['setresuid', 'setresgid'], action: 'SCMP_ACT_ERRNO' }]), asUser);
    expect({ code: through.code, stdout: through.stdout }).toEqual({ code: 0, stdout: '1000\n1000\n' });
    const stopped = run('id -u', allowBut([{ names: ['setuid'], action: 'SCMP_ACT_ERRNO' }]), asUser);
    expect({ code: stopped.code, stdout: stopped.stdout }).toEqual({ code: 1, stdout: '' });
    if (FLAVOR === 'tsrun') expect(stopped.stderr).toMatch(/credentials 1000:1000: setuid: EPERM/);
  });

  test('faccessat2 refused (EPERM): the PATH lookup still skips a program that is not executable, as Go\'s LookPath does for runc', () => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['hello'];
        c.process.env = ['PATH=/x:/y:/bin'];
        c.process.noNewPrivileges = false;
        c.linux.seccomp = allowBut([{ names: ['faccessat2'], action: 'SCMP_ACT_ERRNO' }]);
      },
    });
    for (const [dir, mode] of [['x', 0o644], ['y', 0o755]] as const) {
      fs.mkdirSync(path.join(b.rootfs, dir));
      fs.writeFileSync(path.join(b.rootfs, dir, 'hello'), `#!/bin/sh\necho from ${dir}\n`, { mode });
    }
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'from y\n', stderr: '' });
  });

  test('a profile loaded before the credentials, on a kernel without CLOSE_RANGE_CLOEXEC (before 5.11): create and start still work', async () => {
    const wrapper = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-without-close-range');
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['echo', 'ran'];
        c.process.noNewPrivileges = false;
        c.linux.seccomp = allowBut([{ names: ['mknodat'], action: 'SCMP_ACT_ERRNO' }]);
        c.hooks = { startContainer: [{ path: '/bin/true' }] };
      },
    });
    // Files, not pipes: the created init keeps them until its process ends.
    const out = path.join(b.dir, 'out.txt');
    const err = path.join(b.dir, 'err.txt');
    const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    try {
      const created = spawnSync(wrapper, [BINARY, '--root', s.cli.root, 'create', '--bundle', b.dir, b.id], { stdio: ['ignore', fds[0], fds[1]], timeout: 30_000 });
      expect({ code: created.status, stderr: fs.readFileSync(err, 'utf8') }).toEqual({ code: 0, stderr: '' });
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    const started = spawnSync(wrapper, [BINARY, '--root', s.cli.root, 'start', b.id], { encoding: 'utf8', timeout: 30_000 });
    expect({ code: started.status, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
    // start returns once the process is let go, as runc's does: not once it has written.
    await s.cli.waitStatus(b.id, 'stopped');
    expect(fs.readFileSync(out, 'utf8')).toBe('ran\n');
  });

  describe('argument comparisons', () => {
    test('a condition selects calls by argument value', () => {
      const r = run('linux64 true && echo linux64-ok; linux32 true 2>/dev/null || echo linux32-denied', allowBut([
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ]));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'linux64-ok\nlinux32-denied\n' });
    });

    test('several conditions on one argument match when any does (runc)', () => {
      const r = run('linux64 true 2>/dev/null || echo linux64-denied; linux32 true 2>/dev/null || echo linux32-denied', allowBut([
        {
          names: ['personality'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
          ],
        },
      ]));
      expect(r.stdout).toBe('linux64-denied\nlinux32-denied\n');
    });

    test('conditions on different arguments must all match', () => {
      // kill(1, SIGUSR1) is denied; SIGUSR2 to pid 1, or SIGUSR1 to another pid, are not.
      // (The shell is pid 1 of the container's pid namespace.)
      const script = [
        'trap "echo got-usr2" USR2',
        'kill -USR1 $$ 2>/dev/null || echo denied',
        'kill -USR2 $$',
        'sleep 100 & kill -USR1 $!; wait $!; echo sleep-status=$?',
      ].join('; ');
      const r = run(script, allowBut([
        {
          names: ['kill'],
          action: 'SCMP_ACT_ERRNO',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 10, op: 'SCMP_CMP_EQ' },
          ],
        },
      ]));
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'denied\ngot-usr2\nsleep-status=138\n' });
    });

    test.each([
      ['SCMP_CMP_NE', 0, 'ok', 'denied'],
      ['SCMP_CMP_LT', 8, 'denied', 'ok'],
      ['SCMP_CMP_LE', 0, 'denied', 'ok'],
      ['SCMP_CMP_GT', 0, 'ok', 'denied'],
      ['SCMP_CMP_GE', 8, 'ok', 'denied'],
    ])('%s %d', (op, value, for0, for8) => {
      const r = run('linux64 true 2>/dev/null && echo ok || echo denied; linux32 true 2>/dev/null && echo ok || echo denied', allowBut([
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value, op }] },
      ]));
      // personality(0) for linux64, personality(8) for linux32; busybox also calls
      // personality(0xffffffff) to read the current one only in setarch, not here.
      expect(r.stdout).toBe(`${for0}\n${for8}\n`);
    });

    test('SCMP_CMP_MASKED_EQ compares the masked argument with valueTwo', () => {
      const r = run('linux64 true 2>/dev/null && echo ok || echo denied; linux32 true 2>/dev/null && echo ok || echo denied', allowBut([
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xff, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
      ]));
      expect(r.stdout).toBe('ok\ndenied\n');
    });
  });

  describeX64('64-bit argument values (exact past 2^53, as runc parses them)', () => {
    // getpid ignores its arguments, but the filter sees the full registers.
    const profile = allowBut([
      { names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 18, args: [{ index: 0, value: '#9223372036854775809', op: 'SCMP_CMP_EQ' }] },
      {
        names: ['getpid'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 22,
        args: [{ index: 0, value: '#18446744073709551615', valueTwo: '#18446744073709551615', op: 'SCMP_CMP_MASKED_EQ' }],
      },
    ]);
    const calls = ['0x8000000000000001', '0x8000000000000000', '0xffffffffffffffff', '0xfffffffffffffffe'].map((a) => `${NR.getpid},${a}`);
    // JSON.parse alone would make the first value 2^63 (denying ...0000 instead of
    // ...0001) and refuse 2^64-1 as out of range.
    const expected = `${calls[0]} EXDEV\n${calls[1]} ok\n${calls[2]} EINVAL\n${calls[3]} ok\n`;

    test('the filter compares the exact values of the config text', () => {
      const b = syscallBundle(calls, profile);
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: expected, stderr: '' });
    });

    test('an exec\'d process gets the same exact filter (kept in the container state)', () => {
      const b = syscallBundle([], profile, (c) => (c.process.args = ['sleep', '30']));
      expect(s.cli.create(b.id, b.dir).code).toBe(0);
      expect(s.cli.start(b.id).code).toBe(0);
      const r = s.cli.run(['exec', b.id, '/bin/syscall', ...calls]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: expected, stderr: '' });
      s.cli.delete(b.id, true);
    });
  });

  describeX64('ENOSYS for syscalls newer than the profile (runc 1.1\'s stub)', () => {
    // What tsrun-test-syscall needs under both runtimes once the filter is loaded
    // (their inits' last steps, execve, static glibc's start), and nothing numbered
    // above faccessat2 (439), the highest: 440 and up are "newer than the profile".
    const ALLOWED = [
      'read', 'write', 'readv', 'writev', 'close', 'fstat', 'newfstatat', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk',
      'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sigaltstack', 'ioctl', 'access', 'execve', 'exit', 'exit_group',
      'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'getrlimit', 'setrlimit', 'getrandom', 'uname',
      'futex', 'getpid', 'getppid', 'gettid', 'tgkill', 'kill', 'getuid', 'geteuid', 'getgid', 'getegid', 'setuid', 'setgid',
      'setresuid', 'setresgid', 'setgroups', 'capget', 'capset', 'prctl', 'open', 'openat', 'getcwd', 'chdir', 'fcntl',
      'dup2', 'dup3', 'pipe', 'pipe2', 'readlink', 'readlinkat', 'stat', 'lstat', 'statx', 'statfs', 'fstatfs', 'getdents64',
      'poll', 'ppoll', 'select', 'pselect6', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'nanosleep',
      'clock_gettime', 'sched_yield', 'sched_getaffinity', 'madvise', 'wait4', 'clone', 'fork', 'vfork', 'socket', 'connect',
      'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'close_range', 'pidfd_open', 'faccessat2',
    ];
    const allowlist = (over: Record<string, unknown> = {}) => ({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ALLOWED, action: 'SCMP_ACT_ALLOW' }],
      ...over,
    });
    const calls = (list: (string | number)[], seccomp: unknown) => {
      const b = syscallBundle(list.map(String), seccomp);
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      return Object.fromEntries(r.stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
    };
    // int $0x80 from a 64-bit process needs the kernel's IA32 emulation.
    const i386 = spawnSync(SYSCALL, ['i386:20'], { encoding: 'utf8' }).stdout === 'i386:20 ok\n';

    test('a default-ERRNO allowlist: above its highest syscall ENOSYS, below it the default EPERM (holes too)', () => {
      // 400 is a hole in x86_64's table below faccessat2; sync is simply not allowed.
      const native = calls([NR.futexWaitv, 440, 1000, 0x3fffffff, NR.sync, 400], allowlist());
      expect(native).toEqual({ 449: 'ENOSYS', 440: 'ENOSYS', 1000: 'ENOSYS', 1073741823: 'ENOSYS', 162: 'EPERM', 400: 'EPERM' });
    });

    test('x32 and i386 calls are bounded by their own tables', () => {
      // x32 calls reach seccomp (as AUDIT_ARCH_X86_64 with bit 30) even where the kernel
      // lacks the ABI. x32 has calls of its own from 512 on; set_robust_list, the
      // highest of ALLOWED there, is 530: 449 is below x32's bound, 531 above.
      expect(calls([`x32:${NR.futexWaitv}`, 'x32:531', 'x32:1000', `x32:${NR.sync}`], allowlist())).toEqual({
        'x32:449': 'EPERM',
        'x32:531': 'ENOSYS',
        'x32:1000': 'ENOSYS',
        'x32:162': 'EPERM',
      });
      if (i386) expect(calls(['i386:1000', `i386:${I386_SYNC}`], allowlist())).toEqual({ 'i386:1000': 'ENOSYS', 'i386:36': 'EPERM' });
    });

    // runc 1.1.15 and 1.2 always bound the native architecture, which every filter has;
    // runc 1.1.5 (the reference here) only the listed ones.
    const nativeBounded = FLAVOR === 'tsrun';

    test('the listed architectures are bounded, and the native one, listed or not: x32 alone', () => {
      expect(calls([1000, 'x32:1000', `x32:${NR.sync}`], allowlist({ architectures: ['SCMP_ARCH_X32'] }))).toEqual({ 1000: nativeBounded ? 'ENOSYS' : 'EPERM', 'x32:1000': 'ENOSYS', 'x32:162': 'EPERM' });
    });

    test('every rule counts for the bound, also one whose action is the default', () => {
      const profile = allowlist();
      profile.syscalls.push({ names: ['futex_waitv'], action: 'SCMP_ACT_ERRNO' });
      expect(calls([NR.futexWaitv, 450, 1000], profile)).toEqual({ 449: 'EPERM', 450: 'ENOSYS', 1000: 'ENOSYS' });
    });

    test('a KILL_PROCESS default: a newer call gets ENOSYS, the process lives', () => {
      expect(calls([1000, NR.futexWaitv], allowlist({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }))).toEqual({ 1000: 'ENOSYS', 449: 'ENOSYS' });
      const b = syscallBundle([String(NR.sync)], allowlist({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }));
      expect(s.cli.runContainer(b.id, b.dir).code).toBe(159);
    });

    test('without architectures, the native one is bounded (runc 1.1.15; 1.1.5 gave every call the default)', () => {
      const newer = nativeBounded ? 'ENOSYS' : 'EPERM';
      expect(calls([1000, NR.futexWaitv, NR.sync], allowlist({ architectures: [] }))).toEqual({ 1000: newer, 449: newer, 162: 'EPERM' });
      expect(calls([1000, NR.sync], allowlist({ architectures: undefined }))).toEqual({ 1000: newer, 162: 'EPERM' });
    });
  });

  // The filter's flags show nowhere in /proc (and SPEC_ALLOW acts only where the host
  // forces the mitigation on seccomp): strace shows the init's seccomp(2) call.
  (FLAVOR === 'tsrun' ? test : test.skip)('a profile without flags is loaded with SPEC_ALLOW, as runc 1.2 loads it; "flags": [] with none', () => {
    const loadedWith = (flags: string[] | undefined): string[] => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['true'];
          c.linux.seccomp = { ...allowBut([{ names: ['sync'], action: 'SCMP_ACT_ERRNO' }]), ...(flags ? { flags } : {}) };
        },
      });
      const trace = path.join(s.env.tmp, `${b.id}.strace`);
      const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=seccomp', '-e', 'signal=none', '-o', trace, BINARY, ...s.cli.fullArgs(['run', '--bundle', b.dir, b.id])], { encoding: 'utf8', timeout: 30_000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      // The filter loads (a BPF program, not the NULL of a probe): its flags.
      return fs.readFileSync(trace, 'utf8').split('\n').flatMap((l) => {
        const m = /seccomp\(SECCOMP_SET_MODE_FILTER, ([^,]+), \{len=\d+/.exec(l);
        return m ? [m[1] as string] : [];
      });
    };
    expect(loadedWith(undefined)).toEqual(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
    expect(loadedWith([])).toEqual(['0']);
    expect(loadedWith(['SECCOMP_FILTER_FLAG_LOG'])).toEqual(['SECCOMP_FILTER_FLAG_LOG']);
  });

  describe("Docker's default profile", () => {
    const SCRIPT = [
      'echo hello | grep -c hello',
      'mkdir -p /tmp/d/e && touch /tmp/d/e/f && ls /tmp/d/e && rm -r /tmp/d && echo removed',
      'id -u',
      'uname -s',
      'linux32 uname -m',
      'ps -o pid,comm | grep -c "^ *1 sh"',
      'sleep 0 && echo slept',
      'cat /proc/self/status | grep -E "^Seccomp:"',
      'mount -t tmpfs none /mnt 2>/dev/null || echo mount-denied',
    ].join('; ');

    test.each([true, false])('loads and leaves a busybox shell usable (noNewPrivileges %s)', (nnp) => {
      const profile = dockerDefaultProfile();
      // A name from a future kernel (or a typo): skipped, not fatal, as in runc.
      profile.syscalls[0].names.push('not_a_syscall');
      const r = run(SCRIPT, profile, (c) => (c.process.noNewPrivileges = nnp));
      expect({ code: r.code, stdout: r.stdout }).toEqual({
        code: 0,
        stdout: `1\nf\nremoved\n0\nLinux\ni686\n1\nslept\nSeccomp:\t2\nmount-denied\n`,
      });
      // Names this libseccomp does not know are skipped, and said so only at debug
      // level, as runc does: a warning would land in every foreground run's stderr.
      expect(r.stderr).not.toMatch(/not_a_syscall/);
    });

    test('names an unknown syscall it skips at debug level', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['true'];
          c.linux.seccomp = allowBut([{ names: ['not_a_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }]);
        },
      });
      const r = s.cli.run(['--debug', 'run', '--bundle', b.dir, b.id]);
      expect(r.code).toBe(0);
      // runc: `unknown seccomp syscall "x" ignored`; tsrun also names libseccomp's version.
      expect(r.stderr).toMatch(/level=debug.*(unknown.*not_a_syscall.*ignored|not_a_syscall.*unknown.*ignored)/);
    });
  });

  describe('SCMP_ACT_NOTIFY', () => {
    let agents: ChildProcessWithoutNullStreams[] = [];
    let agentCount = 0;
    afterEach(() => {
      for (const agent of agents) if (agent.exitCode === null) agent.kill('SIGKILL');
      agents = [];
    });

    /** A listener on `socketPath` (default: a fresh one); it takes one connection. */
    const startAgent = async (dir: string, errno: number, socketPath?: string) => {
      agentCount++;
      const socket = socketPath ?? path.join(dir, `agent${agentCount}.sock`);
      const log = path.join(dir, `agent${agentCount}.log`);
      const child = spawn(AGENT, [socket, log, String(errno)]);
      agents.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`agent exited ${code}: ${child.stderr.read()}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { socket, log, exited };
    };

    test('NOTIFY rules on sendto, recvfrom, sendmsg and recvmsg are taken (the init only writes its listener fd\'s number), as with runc', async () => {
      const { socket, exited } = await startAgent(s.env.tmp, 121); // EREMOTEIO
      const r = run('mkdir /tmp/n; echo rc=$?', {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: socket,
        syscalls: [{ names: ['sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'rc=1\n', stderr: "mkdir: can't create directory '/tmp/n': Remote I/O error\n" });
      expect(await exited).toBe(0);
    });

    test('a listenerPath "@name" is a socket in the abstract namespace, as Go\'s dialer in runc reads it', async () => {
      const { socket, exited } = await startAgent(s.env.tmp, 121, `@tsrun-test-agent-${process.pid}-${Date.now()}`);
      const r = run('mkdir /tmp/n; echo rc=$?', {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: socket,
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'rc=1\n', stderr: "mkdir: can't create directory '/tmp/n': Remote I/O error\n" });
      expect(await exited).toBe(0);
    });

    test.each([true, false])('the listener gets the fd and the state, and answers the syscall (noNewPrivileges %s)', async (nnp) => {
      const { socket, log, exited } = await startAgent(s.env.tmp, 121); // EREMOTEIO
      const r = run('mkdir /tmp/n; echo rc=$?', {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: socket,
        listenerMetadata: 'meta-data',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      }, (c) => (c.process.noNewPrivileges = nnp));
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 0,
        stdout: 'rc=1\n',
        stderr: "mkdir: can't create directory '/tmp/n': Remote I/O error\n",
      });
      expect(await exited).toBe(0);
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      fs.rmSync(log);
      expect(lines[0]).toBe('fds 1');
      const state = JSON.parse(lines[1]!.replace(/^state /, ''));
      expect(state).toMatchObject({ fds: ['seccompFd'], metadata: 'meta-data', state: { status: 'creating' } });
      expect(state.pid).toBeGreaterThan(0);
      expect(state.state.pid).toBe(state.pid);
      expect(lines).toContain('syscall 83'); // x86_64 mkdir
    });

    test.each([true, false])("exec: the listener gets the exec'd process's own fd and the state (running, the container's pid), and answers it (noNewPrivileges %s)", async (nnp) => {
      const socket = path.join(s.env.tmp, `exec-listener-${nnp}.sock`);
      const first = await startAgent(s.env.tmp, 121, socket);
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sleep', '1000'];
          c.process.noNewPrivileges = nnp;
          c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
        },
      });
      expect(s.cli.runContainer(b.id, b.dir, ['-d']).code).toBe(0);
      const initPid = s.cli.state(b.id).pid as number;
      // The container's own fd went to the first listener, which takes one connection: the
      // exec's goes to a second one at the same path.
      await waitFor(() => fs.existsSync(first.log) && fs.readFileSync(first.log, 'utf8').includes('state '), 'the first listener to get its fd');
      agents[0]!.kill('SIGKILL');
      fs.rmSync(socket);
      const { log, exited } = await startAgent(s.env.tmp, 121, socket);
      const r = s.cli.run(['exec', b.id, 'sh', '-c', 'echo pid=$$; mkdir /tmp/n; echo rc=$?']);
      expect({ code: r.code, stdout: r.stdout.replace(/^pid=\d+\n/, ''), stderr: r.stderr }).toEqual({
        code: 0,
        stdout: 'rc=1\n',
        stderr: "mkdir: can't create directory '/tmp/n': Remote I/O error\n",
      });
      // Its filter ends with the exec'd process.
      expect(await exited).toBe(0);
      const lines = fs.readFileSync(log, 'utf8').split('\n');
      expect(lines[0]).toBe('fds 1');
      const state = JSON.parse(lines[1]!.replace(/^state /, ''));
      expect(state).toMatchObject({ fds: ['seccompFd'], state: { id: b.id, status: 'running', pid: initPid } });
      expect(state.pid).not.toBe(initPid);
      expect(state.pid).toBeGreaterThan(0);
      expect(lines).toContain('syscall 83'); // x86_64 mkdir
      expect(s.cli.delete(b.id, true).code).toBe(0);
    });

    // runc 1.1.5 waits for good (its caller's SIGTERM ends it; tsrun's sync send would
    // not let Node act on one).
    (FLAVOR === 'runc' ? test.skip : test)('a listener that accepts and takes nothing fails create after 10 s and leaves nothing behind', async () => {
      const socket = path.join(s.env.tmp, 'mute.sock');
      const server = net.createServer({ pauseOnConnect: true }, () => undefined);
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      try {
        const b = s.bundle({
          configure: (c) => {
            c.process.args = ['true'];
            // Larger than the socket's buffer: the send must wait for the agent.
            c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, listenerMetadata: 'm'.repeat(4 << 20), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
          },
        });
        // The connection waits in the backlog: nobody ever accepts or reads it.
        const r = s.cli.runContainer(b.id, b.dir);
        expect(r.code).toBe(1);
        expect(errorText(r.stderr)).toMatch(/seccomp listener .*mute\.sock: the agent did not take the container's state within 10 s/);
        expect(isEmpty(s.forceClean())).toBe(true);
      } finally {
        server.close();
      }
    }, 40_000);

    test('an unreachable listener fails create and leaves nothing behind', () => {
      const r = run('true', {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: path.join(s.env.tmp, 'nobody-listens.sock'),
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      });
      expect(r.code).toBe(1);
      // runc's words, which its own tests and callers look for.
      expect(errorText(r.stderr)).toMatch(/failed to connect with seccomp agent.*nobody-listens\.sock.*(ENOENT|no such file)/i);
      expect(isEmpty(s.forceClean())).toBe(true);
    });
  });

  describe('bad input: exit 1 naming the field, nothing left behind', () => {
    test.each([
      // runc 1.1.5 does not name the field: "string X is not a valid action for seccomp".
      ['an unknown action', allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }]), /linux\.seccomp.*action|RUNC: not a valid action/],
      ['an unknown default action', { defaultAction: 'SCMP_ACT_MAYBE' }, /linux\.seccomp.*defaultAction|RUNC: not a valid action/],
      ['an unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /linux\.seccomp.*architectures|RUNC: not a valid arch/],
      ['an unknown operator', allowBut([{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }]), /linux\.seccomp.*op|RUNC: not a valid operator/],
      ['an unknown flag', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, /linux\.seccomp.*flags|RUNC: seccomp flags are not yet supported/],
      ['NOTIFY as the default action', { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }, /SCMP_ACT_NOTIFY cannot be used as default action/],
      ['NOTIFY without a listener', allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), /listenerPath/],
      ['NOTIFY on write', { ...allowBut([{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }]), listenerPath: '/x' }, /SCMP_ACT_NOTIFY cannot be used for the write syscall/],
    ])('%s', (_what, seccomp, phrase) => {
      const r = run('true', seccomp);
      expect(r.code).toBe(1);
      // The alternative after "RUNC: " is runc's own phrase, accepted only from runc.
      const [ours, runcs] = phrase.source.split('|RUNC: ');
      expect(errorText(r.stderr)).toMatch(new RegExp(FLAVOR === 'runc' && runcs ? runcs : ours!));
      expect(isEmpty(s.forceClean())).toBe(true);
    });
  });

  describe('after the filter, the init makes no syscall but the execve and its handshake writes (as runc, a profile need not allow its signal or fd set-up)', () => {
    // tsrun-test-syscall makes none of these itself (static, no signal handlers). Without
    // no_new_privs runc 1.1.5's own Go init needs them after its filter and dies.
    test.each(FLAVOR === 'runc' ? [true] : [true, false])('rt_sigaction, rt_sigprocmask and fcntl killed: the process runs (noNewPrivileges %s)', (nnp) => {
      const b = syscallBundle([String(NR.getpid)], allowBut([{ names: ['rt_sigaction', 'rt_sigprocmask', 'fcntl'], action: 'SCMP_ACT_KILL_PROCESS' }]), (c) => (c.process.noNewPrivileges = nnp));
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${NR.getpid} ok\n`, stderr: '' });
    });

    // create + start: the parked init's handlers (parkedSignals) are set before a filter
    // that loads ahead of the credentials (no no_new_privs).
    (FLAVOR === 'runc' ? test.skip : test)('rt_sigaction, rt_sigprocmask and fcntl killed: create and start work (noNewPrivileges false)', () => {
      const b = syscallBundle([String(NR.getpid)], allowBut([{ names: ['rt_sigaction', 'rt_sigprocmask', 'fcntl'], action: 'SCMP_ACT_KILL_PROCESS' }]), (c) => (c.process.noNewPrivileges = false));
      try {
        expectOk(s.cli.create(b.id, b.dir));
        expectOk(s.cli.start(b.id));
      } finally {
        s.cli.delete(b.id, true);
      }
    });

    // A failed execve reports its error without a further rt_sigaction (the filter would kill the init and lose the message).
    test('rt_sigaction killed and the execve fails: the error is runc\'s message, not a dead init', () => {
      const b = s.bundle({ configure: (c) => { c.process.args = ['/bad.sh']; c.process.noNewPrivileges = true; c.linux.seccomp = allowBut([{ names: ['rt_sigaction'], action: 'SCMP_ACT_KILL_PROCESS' }]); } });
      fs.writeFileSync(path.join(b.rootfs, 'bad.sh'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, error: errorMessage(r) }).toEqual({ code: 1, error: 'exec /bad.sh: no such file or directory' });
    });

    test('rt_sigaction refused: the process still starts with no signal ignored (the init\'s SIGPIPE does not leak)', () => {
      const r = run('exec cat /proc/self/status', allowBut([{ names: ['rt_sigaction'], action: 'SCMP_ACT_ERRNO' }]));
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^SigIgn:\s+0000000000000000$/m);
      expect(r.stdout).toMatch(/^SigBlk:\s+0000000000000000$/m);
    });
  });

  describe('flags', () => {
    // runc 1.1.5 refuses every flag ("seccomp flags are not yet supported by runc").
    (FLAVOR === 'runc' ? test.skip : test)('SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW load', () => {
      const r = run('mkdir /tmp/f 2>&1; grep -E "^Seccomp:" /proc/self/status', {
        ...allowBut([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]),
        flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      });
      expect({ code: r.code, stdout: r.stdout }).toEqual({
        code: 0,
        stdout: "mkdir: can't create directory '/tmp/f': Invalid cross-device link\nSeccomp:\t2\n",
      });
    });
  });
});

describeIf(containerSkipReason())('seccomp: libseccomp loaded at run time', () => {
  test('the program kept under --root is the one libseccomp builds: Docker\'s default profile, compiled without a cache, then built into one and taken from it', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { containerSeccomp } = require(path.join(repoRoot(), 'dist', 'src', 'lifecycle', 'seccomp.js'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-root-'));
    try {
      const fresh = containerSeccomp(dockerDefaultProfile(), false);
      const built = containerSeccomp(dockerDefaultProfile(), false, root);
      const cache = path.join(root, '~seccomp-cache');
      expect(fs.readdirSync(cache)).toHaveLength(1);
      const entry = path.join(cache, fs.readdirSync(cache)[0] as string);
      const inode = fs.statSync(entry).ino;
      // Made by this build of tsrun, and taken only by it.
      const buildId = fs.readFileSync(path.join(repoRoot(), 'dist', 'build-id'), 'utf8').trim();
      expect(JSON.parse(fs.readFileSync(entry, 'utf8')).material).toContain(buildId);
      const taken = containerSeccomp(dockerDefaultProfile(), false, root);
      expect(fs.statSync(entry).ino).toBe(inode);
      for (const got of [built, taken]) expect({ same: got.program.program.equals(fresh.program.program), flags: got.program.flags, listener: got.listener }).toEqual({ same: true, flags: fresh.program.flags, listener: fresh.listener });
      expect(fresh.program.program.length).toBeGreaterThan(800);
      // Planned for another caller (an unprivileged tsrun hands a notify fd over by sendmsg): another entry.
      const unprivileged = containerSeccomp(dockerDefaultProfile(), true, root);
      expect(unprivileged.program.listenerHandover).toBe('sendmsg');
      expect(fs.readdirSync(path.join(root, '~seccomp-cache'))).toHaveLength(2);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a profile\'s own error comes first, from the cache\'s path too, and nothing is kept for it', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { containerSeccomp } = require(path.join(repoRoot(), 'dist', 'src', 'lifecycle', 'seccomp.js'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-root-'));
    try {
      const bad = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 3 }] };
      for (const soname of [undefined, 'libseccomp-absent.so.9']) {
        expect(() => containerSeccomp(bad, false, root, soname)).toThrow(/only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno/);
      }
      expect(fs.existsSync(path.join(root, '~seccomp-cache'))).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a missing library is a clear error, not a crash', () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { containerSeccomp } = require(path.join(repoRoot(), 'dist', 'src', 'lifecycle', 'seccomp.js'));
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-root-'));
    try {
      for (const cacheRoot of [undefined, root]) {
        expect(() => containerSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, false, cacheRoot, 'libseccomp-absent.so.9')).toThrow(
          /^seccomp requested but libseccomp-absent\.so\.9 could not be loaded: libseccomp-absent\.so\.9: cannot open shared object file/,
        );
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
