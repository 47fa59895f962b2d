// --pidfd-socket (runc 1.2's flag, after its pidfd-socket.bats): create, run and exec
// send a pidfd of the container's process (or of the exec'd one) to the caller's
// socket. Received by build/Release/tsrun-test-pidfd-receiver (Node cannot receive
// SCM_RIGHTS), which reports the pid the kernel says the pidfd names and signals
// through it on request.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { flavorOf, pidAlive, runtimeUnderTest, waitFor, waitPidGone } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { startReceiver } from '../helpers/fd-receivers';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

/** runc before 1.2 has no such flag: nothing to compare with then (tsrun must have it). */
function skipReason(): string | undefined {
  const reason = containerSkipReason();
  if (reason !== undefined || flavorOf(BINARY) === 'tsrun') return reason;
  const help = spawnSync(BINARY, ['create', '--help'], { encoding: 'utf8' });
  return `${help.stdout}${help.stderr}`.includes('pidfd-socket') ? undefined : `${BINARY} has no --pidfd-socket`;
}

interface Receiver {
  sock: string;
  /** The message and the pid of the pidfd received. */
  received: Promise<{ message: string; pid: number }>;
  /** Sends `signal` through the pidfd; resolves with the receiver's answer line. */
  signal(signal: number): Promise<string>;
  stop(): void;
}

async function receiver(dir: string): Promise<Receiver> {
  const sock = path.join(dir, 'pidfd.sock');
  const rx = await startReceiver('tsrun-test-pidfd-receiver', sock);
  const lines = (): string[] => rx.out().split('\n').filter((l) => l !== '');
  const received = (async () => {
    await waitFor(() => lines().length > 0 || rx.child.exitCode !== null, 'a pidfd to arrive', 20_000);
    const m = /^pidfd (\S+) (-?\d+)$/.exec(lines()[0] ?? '');
    if (!m) throw new Error(`pidfd receiver: ${rx.out()}${rx.err()}`);
    return { message: m[1] as string, pid: Number(m[2]) };
  })();
  return {
    sock,
    received,
    signal: async (signal) => {
      const before = lines().length;
      rx.child.stdin.write(`${signal}\n`);
      await waitFor(() => lines().length > before, 'the receiver to signal');
      return lines()[before] as string;
    },
    stop: rx.kill,
  };
}

describeIf(skipReason())(`--pidfd-socket (${BINARY})`, () => {
  const s = useSuite('pidfd', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  test.each([
    // The parked init is pid 1 of its namespace, with a handler of its own for SIGTERM.
    ['create: the parked init\'s pidfd reaches the socket, and SIGTERM through it ends the created container', ['create'], 15],
    ['run -d: the container process\'s pidfd; SIGKILL through it stops the container', ['run', '-d'], 9],
  ] as const)('%s', async (_what, command, signal) => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const rx = await receiver(b.dir);
    try {
      expectOk(s.cli.run([...command, '--bundle', b.dir, '--pidfd-socket', rx.sock, b.id]));
      const got = await rx.received;
      expect(got).toEqual({ message: 'standard', pid: s.cli.state(b.id).pid });
      // Running, it is the container's program (created, still the parked init).
      if (command[0] === 'run') expect(fs.readFileSync(`/proc/${got.pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
      expect(await rx.signal(signal)).toBe(`sent ${signal}`);
      await s.cli.waitStatus(b.id, 'stopped');
    } finally {
      rx.stop();
    }
    expectOk(s.cli.delete(b.id));
  });

  test('run in the foreground: the pidfd names the container process, and its exit status is the signal\'s', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const rx = await receiver(b.dir);
    try {
      const run = s.cli.spawn(['run', '--bundle', b.dir, '--pidfd-socket', rx.sock, b.id]);
      const got = await rx.received;
      expect(got.message).toBe('standard');
      // The pidfd is sent before the execve, and a foreground run has nothing to
      // return first: the process becomes the container's program a moment later.
      const cmdline = (): string => fs.readFileSync(`/proc/${got.pid}/cmdline`, 'utf8');
      await waitFor(() => cmdline() === 'sleep\u00001000\u0000', `pid ${got.pid} to exec sleep`);
      expect(await rx.signal(9)).toBe('sent 9');
      const r = await run.done;
      expect(r.code).toBe(137);
    } finally {
      rx.stop();
    }
  });

  test('exec -d: the exec\'d process\'s pidfd ("setns"), the pid of --pid-file; a SIGKILL through it leaves the container running', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const rx = await receiver(b.dir);
    const pidFile = path.join(b.dir, 'exec.pid');
    try {
      expectOk(s.cli.run(['exec', '-d', '--pid-file', pidFile, '--pidfd-socket', rx.sock, b.id, 'sleep', '999']));
      const got = await rx.received;
      const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(got).toEqual({ message: 'setns', pid: execPid });
      expect(fs.readFileSync(`/proc/${execPid}/cmdline`, 'utf8')).toBe('sleep\u0000999\u0000');
      expect(await rx.signal(9)).toBe('sent 9');
      expect(await waitPidGone(execPid)).toBe(true);
      expect(s.cli.state(b.id).status).toBe('running');
      expect(pidAlive(s.cli.state(b.id).pid)).toBe(true);
    } finally {
      rx.stop();
    }
    expectOk(s.cli.kill(b.id, 'KILL'));
    await s.cli.waitStatus(b.id, 'stopped');
    expectOk(s.cli.delete(b.id));
  });

  // Each extra fd the init gets has its place after the preserved ones: the pidfd
  // socket must not take the console's or a preserved fd's, nor they its.
  test('with a terminal and --preserve-fds too: the pidfd, the pty and the preserved fd each reach their place (create and exec)', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    // The bundle helper forces terminal off: turned on in config.json itself.
    const config = JSON.parse(fs.readFileSync(b.configPath, 'utf8'));
    config.process.terminal = true;
    fs.writeFileSync(b.configPath, JSON.stringify(config));
    const kept = path.join(b.dir, 'kept-file');
    fs.writeFileSync(kept, 'x');
    const started: { kill(): void }[] = [];
    const ttySocket = async (name: string): Promise<string> => {
      const sock = path.join(b.dir, name);
      started.push(await startReceiver('tsrun-test-recvtty', sock));
      return sock;
    };
    // The runtime with fd 3 open on `kept` (--preserve-fds 1).
    const withKeptFd = (args: string[]): void => {
      const fd = fs.openSync(kept, 'r');
      try {
        const r = spawnSync(BINARY, s.cli.fullArgs(args), { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', timeout: 30_000 });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      } finally {
        fs.closeSync(fd);
      }
    };
    const placed = (pid: number): string[] => [0, 3].map((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    try {
      const rxCreate = await receiver(b.dir);
      started.push({ kill: rxCreate.stop });
      withKeptFd(['create', '--bundle', b.dir, '--console-socket', await ttySocket('c1.sock'), '--pidfd-socket', rxCreate.sock, '--preserve-fds', '1', b.id]);
      const created = await rxCreate.received;
      expect(created).toEqual({ message: 'standard', pid: s.cli.state(b.id).pid });
      expect(placed(created.pid)).toEqual([expect.stringMatching(/^\/dev\/pts\/\d+$/), kept]);
      expectOk(s.cli.start(b.id));
      fs.rmSync(rxCreate.sock);
      const rxExec = await receiver(b.dir);
      started.push({ kill: rxExec.stop });
      const pidFile = path.join(b.dir, 'exec.pid');
      withKeptFd(['exec', '-d', '-t', '--console-socket', await ttySocket('c2.sock'), '--pidfd-socket', rxExec.sock, '--preserve-fds', '1', '--pid-file', pidFile, b.id, 'sleep', '999']);
      const execed = await rxExec.received;
      expect(execed).toEqual({ message: 'setns', pid: Number(fs.readFileSync(pidFile, 'utf8')) });
      expect(placed(execed.pid)).toEqual([expect.stringMatching(/^\/dev\/pts\/\d+$/), kept]);
    } finally {
      for (const p of started) p.kill();
    }
    expectOk(s.cli.delete(b.id, true));
  });

  test('a socket nobody listens on fails create with the flag and the path named, and leaves nothing', () => {
    const b = s.bundle();
    const sock = path.join(b.dir, 'nobody.sock');
    const r = s.cli.create(b.id, b.dir, ['--pidfd-socket', sock]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`--pidfd-socket ${sock}: connect`);
    expect(s.leftovers()).toEqual({ mounts: [], cgroups: [], state: [], processes: [] });
  });
});
