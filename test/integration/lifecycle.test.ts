// Lifecycle of real containers through the CLI, runc-compatible behaviour.
//
// The binary under test is TSRUN_TEST_RUNTIME (default: this repo's bin/tsrun).
// The suite is validated by running it against runc itself:
//   TSRUN_TEST_RUNTIME=/usr/sbin/runc npx jest --runInBand --rootDir dist/test dist/test/integration/lifecycle.test.js
// Where runc 1.1.5 legitimately differs from what tsrun must do (tsrun's
// clearer error phrases, --version line count), the test says so.

import * as fs from 'fs';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { errorMessage, flavorOf, pidAlive, runtimeUnderTest, stderrLines, waitFor, waitPidGone, HOST_ENV_CANARIES } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { isEmpty } from '../helpers/cleanup';
import { native } from '../../src/native';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

describeIf(containerSkipReason())(`lifecycle (${BINARY})`, () => {
  const s = useSuite('life', BINARY);

  // A test that fails half-way must not leave containers that make the
  // following tests' leftover checks fail too.
  afterEach(() => {
    s.forceClean();
  });

  /** Bundle whose process runs `sh -c script`. */
  const shBundle = (script: string, configure?: (c: any) => void) =>
    s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        configure?.(c);
      },
    });

  const sleepBundle = () => s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });

  describe('run', () => {
    test('without a pid namespace, the orphans of the container are reaped while it runs (no zombies in its pids count), as with runc', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sh', '-c', 'for i in 1 2 3 4 5; do sh -c "sleep 0.1 & exit"; done; sleep 1; cat /sys/fs/cgroup/pids/pids.current'];
          c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
        },
      });
      const r = s.cli.runContainer(b.id, b.dir);
      // cat alone (sh execs it); before, each of the five sleeps stayed a zombie of the runtime.
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '1\n', stderr: '' });
    });

    // runc's exec is no subreaper: the orphans go to whatever reaps for the caller (here
    // nothing does, and they stay zombies in the container's pids count).
    (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('without a pid namespace, the orphans of an exec\'d process are reaped while it runs', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sleep', '1000'];
          c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
        },
      });
      expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
      const r = s.cli.run(['exec', b.id, 'sh', '-c', 'for i in 1 2 3 4 5; do sh -c "sleep 0.1 & exit"; done; sleep 1; cat /sys/fs/cgroup/pids/pids.current']);
      // The container's sleep, and cat.
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '2\n', stderr: '' });
      expectOk(s.cli.delete(b.id, true));
    });

    test('prints the container output and returns its exit code', () => {
      const b = shBundle('echo hello from inside; echo to-stderr >&2; exit 3');
      const r = s.cli.runContainer(b.id, b.dir);
      // One object so a failure shows the runtime's stderr next to the rest.
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 3,
        stdout: 'hello from inside\n',
        stderr: 'to-stderr\n',
      });
      // A foreground run removes the container when it exits.
      expect(s.cli.stateRaw(b.id).code).toBe(1);
    });

    test.each([
      ['true', 0],
      ['false', 1],
    ])('%s exits %d', (cmd, code) => {
      const b = s.bundle({ configure: (c) => (c.process.args = [cmd]) });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: '' });
    });

    test('a container killed by a signal gives 128+signal', async () => {
      // The process is pid 1 of its namespace: only SIGKILL (from outside)
      // reliably kills it, since pid 1 ignores signals it has no handler for.
      const b = sleepBundle();
      const fg = s.cli.spawn(['run', '--bundle', b.dir, b.id]);
      await s.cli.waitStatus(b.id, 'running');
      expectOk(s.cli.kill(b.id, 'KILL'));
      const r = await fg.done;
      expect(r.code).toBe(137);
    });

    test('SIGUSR1 to a foreground run reaches the container and never opens a debugger', async () => {
      const out = path.join(s.env.tmp, `run-usr1-${process.pid}.out`);
      const b = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done']) });
      const fg = s.cli.spawn(['run', '--bundle', b.dir, b.id], { stdoutFile: out });
      // Until its trap is set, the shell (pid 1 of its namespace) would ignore the signal.
      await waitFor(() => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').includes('ready'), 'the trap to be installed');
      process.kill(fg.pid, 'SIGUSR1');
      const r = await fg.done;
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 7, stdout: 'ready\ngot-usr1\n' });
      // Node's default SIGUSR1 handler would have started its inspector (a root debugger).
      expect(r.stderr).not.toMatch(/Debugger listening/);
    });

    test('SIGUSR1 to a command that forwards nothing (events) neither ends it nor opens a debugger', async () => {
      const b = sleepBundle();
      expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
      const out = path.join(s.env.tmp, `events-usr1-${process.pid}.out`);
      const events = s.cli.spawn(['events', '--interval', '100ms', b.id], { stdoutFile: out });
      const stats = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '').split('\n').filter((l) => l.includes('"stats"')).length;
      // A stats line: well past bin/tsrun's first lines, where SIGUSR1 is dealt with.
      await waitFor(() => stats() >= 1, 'a first stats line');
      process.kill(events.pid, 'SIGUSR1');
      const atSignal = stats();
      await waitFor(() => stats() >= atSignal + 3, 'stats lines after SIGUSR1');
      expectOk(s.cli.delete(b.id, true));
      const r = await events.done;
      // Node's own handler would have opened its inspector and said so on stderr
      // ("Debugger listening on ws://127.0.0.1:9229/..."); with none, SIGUSR1 ends a process.
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    });

    test('SIGPWR and a real-time signal (SIGRTMIN+3, 37) to a foreground run reach the container', async () => {
      const out = path.join(s.env.tmp, `run-signals-${process.pid}.out`);
      const b = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', 'trap "echo got-pwr" PWR; trap "echo got-37; exit 9" 37; echo ready; while :; do sleep 0.05; done']) });
      const fg = s.cli.spawn(['run', '--bundle', b.dir, b.id], { stdoutFile: out });
      const seen = (line: string) => fs.existsSync(out) && fs.readFileSync(out, 'utf8').split('\n').includes(line);
      await waitFor(() => seen('ready'), 'the traps to be installed');
      process.kill(fg.pid, 'SIGPWR');
      await waitFor(() => seen('got-pwr'), 'SIGPWR to reach the container');
      process.kill(fg.pid, 37);
      const r = await fg.done;
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 9, stdout: 'ready\ngot-pwr\ngot-37\n' });
    });

    test('a signal that comes while run is still making the container goes to it once it runs', async () => {
      const marker = path.join(s.env.tmp, `hook-${process.pid}-${Date.now()}`);
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sleep', '1000'];
          // Not a pid namespace's init, so SIGTERM's default action kills it (an init
          // would ignore it until its trap was set, and that would race the signal).
          c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
          // Slow enough to signal tsrun in: create waits for it.
          c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 1`] }] };
        },
      });
      const fg = s.cli.spawn(['run', '--bundle', b.dir, b.id]);
      await waitFor(() => fs.existsSync(marker), 'the createRuntime hook to start');
      process.kill(fg.pid, 'SIGTERM');
      const r = await fg.done;
      // tsrun itself lived on: it says how its container ended, and cleaned up.
      expect({ signal: r.signal, code: r.code, stderr: r.stderr }).toEqual({ signal: null, code: 143, stderr: '' });
      expect(s.cli.stateRaw(b.id).code).toBe(1);
    });

    test('run -d returns at once and leaves the container running', async () => {
      const b = sleepBundle();
      const r = s.cli.runContainer(b.id, b.dir, ['-d']);
      expectOk(r);
      const st = s.cli.state(b.id);
      expect(st.status).toBe('running');
      expect(pidAlive(st.pid)).toBe(true);
      expectOk(s.cli.kill(b.id, 'KILL'));
      await s.cli.waitStatus(b.id, 'stopped');
      expectOk(s.cli.delete(b.id));
    });
  });

  describe('create / start / kill / delete', () => {
    test('a start waiting on an init stopped by SIGSTOP keeps neither kill nor a second start waiting (runc); it goes on once the init does', async () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.kill(b.id, 'STOP'));
      const first = s.cli.spawn(['start', b.id]);
      // Waiting on the exec FIFO, which a stopped init never answers: tsrun holds it open
      // (polling it), runc's open of it waits for the writer.
      const inProc = (read: (dir: string) => boolean): boolean => {
        try {
          return read(`/proc/${first.pid}`);
        } catch {
          return false;
        }
      };
      const holdsFifo = (): boolean =>
        inProc((dir) => fs.readdirSync(`${dir}/fd`).some((fd) => inProc(() => fs.readlinkSync(`${dir}/fd/${fd}`).endsWith('exec.fifo'))));
      const opensFifo = (): boolean =>
        inProc((dir) => fs.readdirSync(`${dir}/task`).some((t) => inProc(() => fs.readFileSync(`${dir}/task/${t}/wchan`, 'utf8') === 'wait_for_partner')));
      await waitFor(() => holdsFifo() || opensFifo(), 'start to wait on the exec FIFO');
      if (s.cli.flavor === 'tsrun') {
        // runc's second start would wait as well; tsrun's says so at once.
        const second = s.cli.start(b.id, { timeoutMs: 10_000 });
        expect({ code: second.code, timedOut: second.timedOut }).toEqual({ code: 1, timedOut: false });
        expect(second.stderr).toMatch(/cannot start an already running container/);
      }
      // Before, kill waited for the container's lock, which the blocked start held.
      const cont = s.cli.run(['kill', b.id, 'CONT'], { timeoutMs: 10_000 });
      expect({ code: cont.code, timedOut: cont.timedOut }).toEqual({ code: 0, timedOut: false });
      expectOk(await first.done);
      expect(s.cli.state(b.id).status).toBe('running');
      expectOk(s.cli.delete(b.id, true));
    });

    test.each(['SIGKILL', 'KILL', '9'])('full lifecycle with kill %s', async (sig) => {
      const b = sleepBundle();
      const before = Date.now();
      const c = s.cli.create(b.id, b.dir);
      expectOk(c);
      expect(c.stdout).toBe('');

      const created = s.cli.state(b.id);
      expect(created.status).toBe('created');
      // RFC 3339 in UTC with up to nanoseconds (Go's RFC3339Nano, as runc), taken during the create.
      expect(created.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
      expect(Date.parse(created.created)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(Date.parse(created.created)).toBeLessThanOrEqual(Date.now());
      expect(created.id).toBe(b.id);
      expect(created.pid).toBeGreaterThan(0);
      expect(pidAlive(created.pid)).toBe(true);
      expect(created.bundle).toBe(b.dir);
      expect(typeof created.ociVersion).toBe('string');

      const st = s.cli.start(b.id);
      expectOk(st);
      expect(s.cli.state(b.id).status).toBe('running');
      expect(s.cli.state(b.id).pid).toBe(created.pid);

      expectOk(s.cli.kill(b.id, sig));
      await s.cli.waitStatus(b.id, 'stopped');
      expect(await waitPidGone(created.pid)).toBe(true);

      const d = s.cli.delete(b.id);
      expectOk(d);

      const gone = s.cli.stateRaw(b.id);
      expect(gone.code).toBe(1);
      expect(gone.stdout).toBe('');
      // runc's words exactly, which callers match.
      expect(gone.stderr).toMatch(/container does not exist/);
      expect(s.leftovers()).toEqual({ mounts: [], cgroups: [], state: [], processes: [] });
    });

    test('kill without a signal sends SIGTERM', async () => {
      // pid 1 ignores signals it has no handler for, so the container traps
      // TERM and says when the trap is in place; its stdout is create's stdout.
      const b = shBundle('trap "echo got-term; exit 42" TERM; echo ready; while true; do sleep 0.05; done');
      const out = path.join(b.dir, 'create.out');
      expectOk(s.cli.create(b.id, b.dir, [], { stdoutFile: out }));
      expectOk(s.cli.start(b.id));
      await waitFor(() => fs.readFileSync(out, 'utf8').includes('ready'), 'the trap to be installed');
      expectOk(s.cli.kill(b.id));
      await s.cli.waitStatus(b.id, 'stopped');
      expect(fs.readFileSync(out, 'utf8')).toBe('ready\ngot-term\n');
      expectOk(s.cli.delete(b.id));
    });

    test.each([
      // Its parked init is pid 1 of its namespace: it needs a handler of its own for SIGTERM.
      ['kill (SIGTERM) of a created container stops it', [], undefined],
      ['SIGKILL to a paused container stops it (it is thawed to die)', ['start', 'pause'], 'KILL'],
    ] as const)('%s', async (_what, before, signal) => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      for (const command of before) expectOk(s.cli.run([command, b.id]));
      expectOk(s.cli.kill(b.id, signal));
      await s.cli.waitStatus(b.id, 'stopped');
      expectOk(s.cli.delete(b.id));
    });

    test('signal 0 checks that the container is there; kill --all of a stopped one succeeds (containerd sends it)', async () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.start(b.id));
      expectOk(s.cli.kill(b.id, '0'));
      expectOk(s.cli.kill(b.id, '0', ['--all']));
      expect(s.cli.state(b.id).status).toBe('running');
      expectOk(s.cli.kill(b.id, 'KILL'));
      await s.cli.waitStatus(b.id, 'stopped');
      expectOk(s.cli.kill(b.id, 'KILL', ['--all']));
      expect(s.cli.kill(b.id, 'KILL').code).toBe(1);
      expectOk(s.cli.delete(b.id));
    });

    (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('without a pid namespace, SIGKILL without --all ends every process of the container, not the init alone (runc 1.2)', async () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sh', '-c', 'sleep 300 & exec sleep 301'];
          c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
        },
      });
      expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
      const procs = path.join('/sys/fs/cgroup/pids', b.cgroupsPath, 'cgroup.procs');
      const listed = (): number[] => fs.readFileSync(procs, 'utf8').split('\n').filter((l) => l !== '').map(Number);
      await waitFor(() => listed().length === 2, 'the background sleep');
      const pids = listed();
      expectOk(s.cli.kill(b.id, 'KILL'));
      for (const pid of pids) expect(await waitPidGone(pid)).toBe(true);
      await s.cli.waitStatus(b.id, 'stopped');
      // Stopped, it succeeds too, as runc's: nothing is left to signal.
      expectOk(s.cli.kill(b.id, 'KILL'));
      expectOk(s.cli.delete(b.id));
    });

    test('a reader of stdout that has gone ends state, list and --help without a word: status 141 (tsrun) or death by SIGPIPE (runc)', () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      for (const args of [['state', b.id], ['list'], ['--help'], ['list', '--help']]) {
        // A pipe whose read end is closed before the runtime starts: its first write fails.
        const [readEnd, writeEnd] = native().pipe();
        native().closeFd(readEnd);
        const env = { ...process.env };
        delete env.NODE_EXTRA_CA_CERTS;
        const r = spawnSync(BINARY, s.cli.fullArgs(args), { stdio: ['ignore', writeEnd, 'pipe'], encoding: 'utf8', env, timeout: 30_000 });
        native().closeFd(writeEnd);
        expect({ args, status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({
          args,
          ...(flavorOf(BINARY) === 'runc' ? { status: null, signal: 'SIGPIPE' } : { status: 141, signal: null }),
          stderr: '',
        });
      }
      expectOk(s.cli.delete(b.id, true));
    });

    test('state and hooks give the spec version of the runtime (its --version), not the config\'s, as runc does', () => {
      let out = '';
      const b = s.bundle({
        configure: (c) => {
          c.ociVersion = '1.1.0';
          c.process.args = ['sleep', '1000'];
          out = path.join(s.env.tmp, `${c.hostname ?? 'h'}-${Date.now()}.prestart`);
          c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}`] }] };
        },
      });
      const specLine = s.cli.run(['--version'], { noRoot: true }).stdout.split('\n').find((l) => l.startsWith('spec: '));
      const runtimeVersion = specLine?.slice('spec: '.length);
      expect(runtimeVersion).toMatch(/^1\.\d+\.\d+/);
      expectOk(s.cli.create(b.id, b.dir));
      expect(s.cli.state(b.id).ociVersion).toBe(runtimeVersion);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).ociVersion).toBe(runtimeVersion);
      expectOk(s.cli.delete(b.id, true));
    });

    test('a bundle given through a symlink is recorded by its own path, and so is its rootfs (runc)', () => {
      const b = sleepBundle();
      const link = `${b.dir}-link`;
      fs.symlinkSync(b.dir, link);
      try {
        expectOk(s.cli.create(b.id, link));
        const st = s.cli.state(b.id);
        expect({ bundle: st.bundle, rootfs: st.rootfs }).toEqual({ bundle: fs.realpathSync(b.dir), rootfs: path.join(fs.realpathSync(b.dir), 'rootfs') });
        expectOk(s.cli.delete(b.id, true));
      } finally {
        fs.unlinkSync(link);
      }
    });

    test('the dir of a create that died before its first state: delete removes it, and says the container does not exist unless --force (runc)', () => {
      for (const force of [false, true]) {
        const dir = path.join(s.cli.root, `half-${force}`);
        fs.mkdirSync(dir, { recursive: true });
        const r = s.cli.delete(`half-${force}`, force);
        expect({ force, code: r.code, gone: !fs.existsSync(dir) }).toEqual({ force, code: force ? 0 : 1, gone: true });
        if (!force) expect(errorMessage(r)).toMatch(/does not exist/);
      }
    });

    test('delete without --force of a created (never started) container removes it (runc)', async () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      const pid = s.cli.state(b.id).pid;
      const d = s.cli.delete(b.id);
      expectOk(d);
      expect(await waitPidGone(pid)).toBe(true);
      expect(s.cli.stateRaw(b.id).code).toBe(1);
    });

    test('a created container\'s waiting init is named after the runtime\'s init in ps and pgrep', () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      const comm = fs.readFileSync(`/proc/${s.cli.state(b.id).pid}/comm`, 'utf8').trim();
      // runc's is runc:[2:INIT]; tsrun's, executed from a memfd, would otherwise be its fd number.
      expect(comm).toBe(s.cli.flavor === 'tsrun' ? 'tsrun-init' : 'runc:[2:INIT]');
      expectOk(s.cli.delete(b.id, true));
    });

    test('create --pid-file writes the init pid', () => {
      const b = sleepBundle();
      const pidFile = path.join(b.dir, 'init.pid');
      expectOk(s.cli.create(b.id, b.dir, ['--pid-file', pidFile]));
      const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      expect(pid).toBe(s.cli.state(b.id).pid);
      expect(pidAlive(pid)).toBe(true);
      expectOk(s.cli.delete(b.id, true));
    });

    test('the container output goes to the stdio create was given', async () => {
      const b = shBundle('echo started-output');
      const out = path.join(b.dir, 'create.out');
      expectOk(s.cli.create(b.id, b.dir, [], { stdoutFile: out }));
      expect(fs.readFileSync(out, 'utf8')).toBe('');
      expectOk(s.cli.start(b.id));
      await s.cli.waitStatus(b.id, 'stopped');
      expect(fs.readFileSync(out, 'utf8')).toBe('started-output\n');
      expectOk(s.cli.delete(b.id));
    });

    test('delete --force removes a running container and its process', async () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.start(b.id));
      const pid = s.cli.state(b.id).pid;
      const d = s.cli.delete(b.id, true);
      expectOk(d);
      expect(await waitPidGone(pid)).toBe(true);
      expect(s.cli.stateRaw(b.id).code).toBe(1);
      expect(s.leftovers()).toEqual({ mounts: [], cgroups: [], state: [], processes: [] });
    });

    test('delete --force removes a created (never started) container', async () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      const pid = s.cli.state(b.id).pid;
      expectOk(s.cli.delete(b.id, true));
      expect(await waitPidGone(pid)).toBe(true);
      expect(isEmpty(s.leftovers())).toBe(true);
    });
  });

  describe("the container's view", () => {
    /** Run a container and return its stdout, asserting success. */
    const output = (args: string[], configure?: (c: any) => void) => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = args;
          configure?.(c);
        },
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expectOk(r);
      return r.stdout;
    };

    test('hostname comes from config', () => {
      expect(output(['hostname'], (c) => (c.hostname = 'tsrun-box'))).toBe('tsrun-box\n');
    });

    test('a network namespace made for the container has its loopback up (127.0.0.1 answers), as with runc', () => {
      // IFF_UP|IFF_LOOPBACK, then a TCP round trip over 127.0.0.1 inside the container.
      // The client tries until the listener is up (up to 5 s: a loaded host starts it late).
      const script = 'cat /sys/class/net/lo/flags; nc -l -p 8080 -e echo served & i=0; until nc 127.0.0.1 8080 2>/dev/null || [ $i -ge 100 ]; do sleep 0.05; i=$((i+1)); done';
      expect(output(['sh', '-c', script])).toBe('0x9\nserved\n');
    });

    test('a namespace whose path is empty is made new, as with runc: its own network namespace, loopback up', () => {
      const script = 'cat /sys/class/net/lo/flags; ls /sys/class/net';
      const netns = (c: any) => (c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: '' } : n)));
      expect(output(['sh', '-c', script], netns)).toBe('0x9\nlo\n');
    });

    test('a missing cwd is made, 0755 and owned by the container\'s root, for a process of another user (runc; images with a WORKDIR of no layer)', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sh', '-c', 'pwd; id -u'];
          c.process.cwd = '/made/for/it';
          c.process.user = { uid: 1000, gid: 1000 };
        },
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '/made/for/it\n1000\n', stderr: '' });
      for (const dir of ['made', 'made/for', 'made/for/it']) {
        const st = fs.statSync(path.join(b.rootfs, dir));
        expect({ dir, mode: (st.mode & 0o7777).toString(8), uid: st.uid }).toEqual({ dir, mode: '755', uid: 0 });
      }
    });

    test('the process is pid 1', () => {
      expect(output(['sh', '-c', 'echo $$'])).toBe('1\n');
    });

    test('the environment is exactly process.env (no host or NODE_* variables)', () => {
      const env = ['PATH=/bin', 'HOME=/root', 'FOO=bar baz', 'EMPTY='];
      const got = output(['env'], (c) => (c.process.env = env))
        .split('\n')
        .filter(Boolean);
      expect(got.sort()).toEqual([...env].sort());
      for (const k of Object.keys(HOST_ENV_CANARIES)) expect(got.join('\n')).not.toContain(k);
    });

    test('a name given twice in process.env reaches the process once, with its last value; the program is found on that PATH (runc)', () => {
      const env = ['PATH=/nonexistent', 'A=1', 'PATH=/bin', 'A=2', 'HOME='];
      const got = output(['env'], (c) => (c.process.env = env)).split('\n').filter(Boolean);
      // An empty HOME is filled in from /etc/passwd, as when there is none.
      expect(got.sort()).toEqual(['A=2', 'HOME=/root', 'PATH=/bin']);
    });

    test('HOME comes from the first /etc/passwd entry of the uid, empty when that entry has no home (runc); a line with no uid field is no entry', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sh', '-c', 'env | grep ^HOME= || echo no HOME'];
          c.process.env = ['PATH=/bin'];
          c.process.user = { uid: 1000, gid: 1000 };
        },
      });
      const passwd = path.join(b.rootfs, 'etc', 'passwd');
      const entries = (...lines: string[]): void => {
        fs.rmSync(passwd);
        fs.writeFileSync(passwd, lines.map((l) => `${l}\n`).join(''));
      };
      const home = (): string => {
        const r = s.cli.runContainer(b.id, b.dir);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
        return r.stdout;
      };
      entries('root:x:0:0:root:/root:/bin/sh', 'nohome:x:1000:1000:no home::/bin/sh', 'later:x:1000:1000::/home/later:/bin/sh');
      expect(home()).toBe('HOME=\n');
      entries('nohome:x:1000', 'later:x:1000:1000::/home/later:/bin/sh');
      expect(home()).toBe('HOME=\n');
      entries('a line of no fields', 'user:x:1000:1000::/home/user:/bin/sh');
      expect(home()).toBe('HOME=/home/user\n');
      entries('root:x:0:0:root:/root:/bin/sh');
      expect(home()).toBe('HOME=/\n');
    });

    (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('a /etc/passwd line with no uid field is not an entry of uid 0 (runc 1.1 reads it as one, with an empty home)', () => {
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['sh', '-c', 'env | grep ^HOME='];
          c.process.env = ['PATH=/bin'];
        },
      });
      const passwd = path.join(b.rootfs, 'etc', 'passwd');
      fs.rmSync(passwd);
      fs.writeFileSync(passwd, '# written by hand\nroot:x:0:0:root:/root:/bin/sh\n');
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'HOME=/root\n', stderr: '' });
    });

    test('cwd comes from config', () => {
      expect(output(['pwd'], (c) => (c.process.cwd = '/tmp'))).toBe('/tmp\n');
    });

    test('uid, gid and additional gids come from config', () => {
      const out = output(['id'], (c) => (c.process.user = { uid: 1000, gid: 1000, additionalGids: [100] }));
      expect(out.trim()).toBe('uid=1000(user) gid=1000(user) groups=100(users)');
    });

    test('a user with a uid alone gets gid 0, as runc reads it (the spec\'s schema does not require gid)', () => {
      expect(output(['id'], (c) => (c.process.user = { uid: 1000 })).trim()).toBe('uid=1000(user) gid=0(root)');
    });

    test('root user by default, with no supplementary groups', () => {
      // No additionalGids means setgroups([]): busybox id then prints no groups= part (runc).
      expect(output(['id']).trim()).toBe('uid=0(root) gid=0(root)');
    });

    test('standard mounts are present with the right types', () => {
      const mi = output(['cat', '/proc/self/mountinfo'])
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [pre, post] = l.split(' - ');
          const f = pre.split(' ');
          return { point: f[4], opts: f[5].split(','), fstype: post.split(' ')[0] };
        });
      const byPoint = new Map(mi.map((m) => [m.point, m]));
      const want: [string, string][] = [
        ['/proc', 'proc'],
        ['/dev', 'tmpfs'],
        ['/dev/pts', 'devpts'],
        ['/dev/shm', 'tmpfs'],
        ['/dev/mqueue', 'mqueue'],
        ['/sys', 'sysfs'],
      ];
      for (const [point, fstype] of want) {
        expect({ point, fstype: byPoint.get(point)?.fstype }).toEqual({ point, fstype });
      }
      // runc spec: root.readonly true, /sys ro
      expect(byPoint.get('/')?.opts).toContain('ro');
      expect(byPoint.get('/sys')?.opts).toContain('ro');
      // maskedPaths / readonlyPaths are applied
      expect(byPoint.get('/proc/sys')?.opts).toContain('ro');
      expect(byPoint.has('/proc/kcore') || byPoint.has('/proc/keys')).toBe(true);
    });
  });

  describe('list', () => {
    test('shows the container in the table and in JSON', () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      const pid = s.cli.state(b.id).pid;

      const t = s.cli.list();
      expectOk(t);
      const lines = t.stdout.split('\n').filter(Boolean);
      expect(lines[0].split(/\s+/)).toEqual(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']);
      const row = lines.find((l) => l.startsWith(b.id + ' '));
      expect(row).toBeDefined();
      const cols = row!.split(/\s+/);
      expect(cols.slice(0, 4)).toEqual([b.id, String(pid), 'created', b.dir]);
      expect(cols[5]).toBe('root');

      const q = s.cli.list(['-q']);
      expect(q.stdout.split('\n')).toContain(b.id);

      const j = s.cli.list(['--format', 'json']);
      expectOk(j);
      const arr = JSON.parse(j.stdout);
      expect(Array.isArray(arr)).toBe(true);
      const e = arr.find((x: any) => x.id === b.id);
      expect(e).toMatchObject({ id: b.id, pid, status: 'created', bundle: b.dir, owner: 'root' });
      expect(Object.keys(e).sort()).toEqual(
        ['bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status'].sort(),
      );
      expectOk(s.cli.delete(b.id, true));
    });

    test("OWNER is each container directory's owner, as with runc", () => {
      const cli = s.addCli(BINARY, 'owners');
      const [a, b] = [sleepBundle(), sleepBundle()];
      expectOk(cli.create(a.id, a.dir));
      expectOk(cli.create(b.id, b.dir));
      fs.chownSync(path.join(cli.root, b.id), 65534, 65534);
      const owners = Object.fromEntries((JSON.parse(cli.list(['--format', 'json']).stdout) as { id: string; owner: string }[]).map((e) => [e.id, e.owner]));
      const nobody = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === '65534')?.split(':')[0] ?? '#65534';
      expect(owners).toEqual({ [a.id]: 'root', [b.id]: nobody });
      const row = cli.list().stdout.split('\n').find((l) => l.startsWith(b.id + ' '));
      expect(row?.split(/\s+/)[5]).toBe(nobody);
      fs.chownSync(path.join(cli.root, b.id), 0, 0);
      expectOk(cli.delete(a.id, true));
      expectOk(cli.delete(b.id, true));
    });

    test('a container whose state cannot be loaded is named on stderr and the others are listed (runc)', () => {
      const cli = s.addCli(BINARY, 'unloadable');
      const b = sleepBundle();
      expectOk(cli.create(b.id, b.dir));
      // Truncated JSON, and a directory where state.json should be.
      fs.mkdirSync(path.join(cli.root, 'bad-json'));
      fs.writeFileSync(path.join(cli.root, 'bad-json', 'state.json'), '{"id":"bad-json",');
      fs.mkdirSync(path.join(cli.root, 'bad-dir', 'state.json'), { recursive: true });
      // A dir without state.json: tsrun's create in progress (or crashed before its
      // first write) is no broken container; runc 1.1.5 names it too.
      fs.mkdirSync(path.join(cli.root, 'no-state'));
      const named = ['bad-dir', 'bad-json', ...(cli.flavor === 'runc' ? ['no-state'] : [])];
      const unloadable = (stderr: string) => stderr.split('\n').filter(Boolean).map((l) => /^load container ([^:]+): \S/.exec(l)?.[1] ?? l);
      for (const flags of [[], ['-q'], ['--format', 'json']]) {
        const r = cli.list(flags);
        expect({ flags, code: r.code, unloadable: unloadable(r.stderr) }).toEqual({ flags, code: 0, unloadable: named });
        const ids = flags[0] === '--format' ? JSON.parse(r.stdout).map((x: { id: string }) => x.id) : r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
        expect({ flags, ids }).toEqual({ flags, ids: flags.length === 0 ? ['ID', b.id] : [b.id] });
      }
      if (cli.flavor === 'tsrun') {
        const r = cli.list(['-q']);
        expect(r.stderr).toContain(`load container bad-dir: read ${path.join(cli.root, 'bad-dir', 'state.json')}: EISDIR`);
        expect(r.stderr).toContain(`load container bad-json: state of container bad-json is corrupt: ${path.join(cli.root, 'bad-json', 'state.json')} is not valid JSON`);
      }
      expectOk(cli.delete(b.id, true));
      for (const dir of ['bad-json', 'bad-dir', 'no-state']) fs.rmSync(path.join(cli.root, dir), { recursive: true });
    });

    test('an empty root lists only the header, JSON is null (runc\'s Go nil slice)', () => {
      const cli = s.addCli(BINARY, 'empty');
      const t = cli.list();
      expectOk(t);
      expect(t.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      const j = cli.list(['--format', 'json']);
      expectOk(j);
      expect(j.stdout).toBe('null\n');
    });
  });

  describe('global flags', () => {
    test('--root is respected: state dir created there with mode 0700', () => {
      const root = path.join(s.env.tmp, 'custom', 'nested-root');
      const cli = s.addCli(BINARY, 'custom', root);
      const b = sleepBundle();
      const r = cli.run(['--root', root, 'create', '--bundle', b.dir, b.id], { noRoot: true });
      expectOk(r);
      try {
        expect(fs.statSync(root).mode & 0o777).toBe(0o700);
        expect(fs.existsSync(path.join(root, b.id))).toBe(true);
        // and the suite's own root does not have it
        expect(s.cli.stateRaw(b.id).code).toBe(1);
      } finally {
        expectOk(cli.run(['--root', root, 'delete', '--force', b.id], { noRoot: true }));
      }
    });

    test('Go flag spellings: --root=X, -root X, -root=X', () => {
      const b = sleepBundle();
      expectOk(s.cli.create(b.id, b.dir));
      for (const form of [[`--root=${s.cli.root}`], ['-root', s.cli.root], [`-root=${s.cli.root}`]]) {
        const r = s.cli.run([...form, 'state', b.id], { noRoot: true });
        expect({ form, code: r.code, stderr: r.stderr }).toEqual({ form, code: 0, stderr: '' });
        expect(JSON.parse(r.stdout).status).toBe('created');
      }
      expectOk(s.cli.delete(b.id, true));
    });

    test('an empty container id and a --root that is a file are refused in runc\'s words', () => {
      for (const args of [['state', ''], ['delete', ''], ['kill', ''], ['start', ''], ['exec', '', 'true'], ['ps', ''], ['events', '']]) {
        const r = s.cli.run(args);
        expect({ args, code: r.code, msg: errorMessage(r) }).toEqual({ args, code: args[0] === 'exec' ? 255 : 1, msg: expect.stringMatching(/container id cannot be empty$/) });
      }
      // A system call's failure that nothing explains reads as Go's: "<syscall> <path>: <what>".
      const file = path.join(s.env.tmp, 'root-file');
      fs.writeFileSync(file, '');
      const r = s.cli.run(['--root', file, 'list']);
      expect({ code: r.code, msg: errorMessage(r) }).toEqual({ code: 1, msg: expect.stringMatching(new RegExp(`^[a-z]+ ${file}: not a directory$`)) });
    });

    test('--log=FILE --log-format=json writes the error as a JSON line to the log', () => {
      const log = path.join(s.env.tmp, 'errors.log');
      const r = s.cli.run([`--log=${log}`, '--log-format=json', 'state', 'no-such-ctr']);
      expect(r.code).toBe(1);
      const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThanOrEqual(1);
      const last = JSON.parse(lines[lines.length - 1]);
      expect(last.level).toBe('error');
      expect(last.msg).toMatch(/does not exist/);
      // Go's time.RFC3339, as logrus writes it: whole seconds.
      expect(last.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    });

    test('an error without --log is a logrus line on stderr; with --log, the line goes to the file and stderr gets the message', () => {
      const logrusError = /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=error msg="container does not exist"\n$/;
      const bare = s.cli.run(['state', 'no-such-ctr']);
      expect({ code: bare.code, stderr: bare.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(logrusError) });
      const log = path.join(s.env.tmp, 'errors-text.log');
      const logged = s.cli.run([`--log=${log}`, 'state', 'no-such-ctr']);
      expect({ code: logged.code, stderr: logged.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^container does not exist\n$/) });
      expect(fs.readFileSync(log, 'utf8')).toMatch(logrusError);
    });

    test('with --log, a message holding a newline is one line on stderr and one JSON line in the log', () => {
      const log = path.join(s.env.tmp, 'newline.json');
      const r = s.cli.run([`--log=${log}`, '--log-format=json', 'run', '-b', path.join(s.env.tmp, 'no\nbundle'), 'nl']);
      expect(r.code).toBe(1);
      // runc 1.1 prints the bare message as it is, over two lines.
      if (s.cli.flavor === 'tsrun') expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      expect(JSON.parse(lines[lines.length - 1] as string).msg).toContain('no\nbundle');
    });

    test('global options and no command print the help with status 0, as runc\'s do', () => {
      for (const args of [[], ['--debug']]) {
        const r = s.cli.run(args);
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
        for (const command of ['create', 'delete', 'state']) expect(r.stdout).toContain(command);
      }
    });

    test('an unknown command is runc\'s "No help topic" with exit status 3', () => {
      const r = s.cli.run(['no-such-command', 'x'], { noRoot: true });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 3, stdout: '', stderr: expect.stringMatching(/^time="[^"]+" level=error msg="No help topic for 'no-such-command'(\\n)?"\n$/),
      });
    });

    // containerd's shim and podman call these for a checkpoint: a failure, never
    // "unknown command" (status 3), and runc's flags parse.
    test('checkpoint and restore take runc\'s flags and fail with status 1; tsrun says it has no CRIU; `h` is help', () => {
      const cases = [
        ['checkpoint', '--image-path', path.join(s.env.tmp, 'img'), '--leave-running', '--empty-ns', 'network', '--manage-cgroups-mode', 'soft', 'no-such-ctr'],
        ['restore', '-d', '--bundle', s.env.tmp, '--pid-file', path.join(s.env.tmp, 'pid'), '--image-path', path.join(s.env.tmp, 'img'), 'no-such-ctr'],
      ];
      for (const args of cases) {
        const r = s.cli.run(args);
        expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
        if (s.cli.flavor === 'tsrun') expect(errorMessage(r)).toBe('not supported yet: checkpoint and restore (tsrun has no CRIU support)');
        else expect(r.stderr).not.toContain('No help topic');
      }
      const usage = s.cli.run(['checkpoint']);
      expect({ code: usage.code, message: errorMessage(usage) }).toEqual({ code: 1, message: expect.stringContaining('"checkpoint" requires exactly 1 argument(s)') });
      const help = s.cli.run(['h', 'state'], { noRoot: true });
      expectOk(help);
      expect(help.stdout).toContain('output the state of a container');
    });

    // runc 1.1.5's start succeeds there and the process ends with status 1 (README).
    (flavorOf(BINARY) === 'tsrun' ? test : test.skip)('an execve the kernel refuses (a script without #!) fails run and start with its reason, said once', () => {
      const b = s.bundle({ configure: (c) => (c.process.args = ['/notascript']) });
      fs.writeFileSync(path.join(b.rootfs, 'notascript'), 'echo hi\n', { mode: 0o755 });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, lines: stderrLines(r).length, message: errorMessage(r) }).toEqual({ code: 1, lines: 1, message: 'exec /notascript: exec format error' });
      const err = path.join(s.env.tmp, `enoexec-${b.id}.err`);
      const created = s.cli.create(b.id, b.dir, [], { stderrFile: err });
      expectOk(created);
      const started = s.cli.start(b.id);
      expect({ code: started.code, message: errorMessage(started) }).toEqual({ code: 1, message: 'exec /notascript: exec format error' });
      // The container's own stderr (create's): nothing, start said it.
      expect(fs.readFileSync(err, 'utf8')).toBe('');
      expectOk(s.cli.delete(b.id, true));
    });

    test('--log-format json without --log: stderr is a JSON line', () => {
      const r = s.cli.run(['--log-format', 'json', 'state', 'no-such-ctr']);
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'error' });
    });

    test('features: seccomp archs include this host\'s own, with the libseccomp version; each listed arch can be put in a filter', () => {
      const r = s.cli.run(['features'], { noRoot: true });
      expectOk(r);
      const doc = JSON.parse(r.stdout) as { linux: { seccomp: { archs: string[] } }; annotations: Record<string, string> };
      const native = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' }[process.arch as string];
      if (native) expect(doc.linux.seccomp.archs).toContain(native);
      expect(doc.annotations['io.github.seccomp.libseccomp.version']).toMatch(/^\d+\.\d+\.\d+$/);
      if (s.cli.flavor !== 'tsrun') return; // runc 1.1 lists a fixed set, of both byte orders
      const b = s.bundle({
        configure: (c) => {
          c.process.args = ['true'];
          c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: doc.linux.seccomp.archs, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
        },
      });
      expectOk(s.cli.runContainer(b.id, b.dir));
    });

    // bin/tsrun's node does not resolve the launcher's real path itself (scripts/launcher.js).
    test('reached through a link to it or to its directory (npm\'s bin links), the runtime finds its build: run, state, --help', () => {
      const links = fs.mkdtempSync(path.join(s.env.tmp, 'links-'));
      fs.symlinkSync(BINARY, path.join(links, 'runtime'));
      fs.symlinkSync(path.dirname(BINARY), path.join(links, 'bin'));
      for (const linked of [path.join(links, 'runtime'), path.join(links, 'bin', path.basename(BINARY))]) {
        const b = sleepBundle();
        const through = (args: string[]) => spawnSync(linked, s.cli.fullArgs(args), { encoding: 'utf8', timeout: 30_000 });
        const run = through(['run', '--detach', '--bundle', b.dir, b.id]);
        expect({ linked, status: run.status, stderr: run.stderr }).toEqual({ linked, status: 0, stderr: '' });
        const state = through(['state', b.id]);
        expect({ linked, status: state.status, running: state.stdout.includes('"running"') }).toEqual({ linked, status: 0, running: true });
        // --help loads yargs, a package found from the real bin/.
        const help = through(['state', '--help']);
        expect({ linked, status: help.status, usage: help.stdout.includes('output the state of a container') }).toEqual({ linked, status: 0, usage: true });
        expectOk(s.cli.delete(b.id, true));
      }
    });

    test('--version prints name, commit and spec version', () => {
      const r = s.cli.run(['--version'], { noRoot: true });
      expectOk(r);
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines[0]).toMatch(/^\S+ version \S+/);
      expect(lines[1]).toMatch(/^commit: \S+/);
      expect(lines[2]).toMatch(/^spec: 1\.\d+\.\d+/);
      // runc 1.1 adds "go: ..." and "libseccomp: ..." lines; tsrun prints exactly three.
      if (s.cli.flavor === 'tsrun') expect(lines).toHaveLength(3);
    });

    test('help COMMAND prints that command\'s help; an unknown one is exit status 3', () => {
      const r = s.cli.run(['help', 'state'], { noRoot: true });
      expectOk(r);
      expect(r.stdout).toContain('output the state of a container');
      // The global help lists --version among the global options, as runc's does, and says nothing on stderr.
      const global = s.cli.run(['--help'], { noRoot: true });
      expectOk(global);
      expect(global.stdout).toMatch(/--version\b.*\n/);
      // A usage line, as runc's USAGE: (tools look for the word).
      expect(global.stdout).toMatch(/^usage:\s+(tsrun|runc) \[global options\]/im);
      const nosuch = s.cli.run(['help', 'nosuch'], { noRoot: true });
      expect({ code: nosuch.code, stdout: nosuch.stdout, stderr: nosuch.stderr }).toEqual({ code: 3, stdout: '', stderr: expect.stringContaining("No help topic for 'nosuch'") });
    });
  });
});
