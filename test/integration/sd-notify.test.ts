// NOTIFY_SOCKET (src/lifecycle/sd-notify.ts), as runc 1.1 relays systemd's readiness
// protocol: the container gets NOTIFY_SOCKET=/run/notify/notify.sock on a read-only
// bind, and the command that starts it (start, run, run -d) ends only once the
// container's process said READY=1 (or exited), having passed READY=1 and
// MAINPID=<the container's pid> on to the caller's socket. The caller's socket here
// is tsrun-test-notify-receiver, which prints each datagram it gets on a line.

import * as fs from 'fs';
import * as path from 'path';
import { flavorOf, runtimeUnderTest, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { SD_NOTIFY, startNotifyReceiver, type NotifyReceiver } from '../helpers/notify-receiver';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

describeIf(containerSkipReason())(`NOTIFY_SOCKET (${BINARY})`, () => {
  const s = useSuite('sd-notify', BINARY);
  let receiver: NotifyReceiver | undefined;
  afterEach(() => {
    receiver?.stop();
    receiver = undefined;
    s.forceClean();
  });

  /** The caller's notify socket: the runtime's environment for it, and what it got. */
  const listen = async () => {
    receiver = await startNotifyReceiver(s.env.tmp);
    return { env: { NOTIFY_SOCKET: receiver.socket }, received: receiver.received };
  };

  // The process writes /sent just before it says READY=1: a command that returns
  // before the READY=1 finds no /sent.
  const bundle = (script: string) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sh', '-c', script];
        c.root.readonly = false;
      },
    });
    fs.copyFileSync(SD_NOTIFY, path.join(b.rootfs, 'bin', 'sd-notify'));
    return b;
  };
  const SAYS_READY = 'sleep 1; touch /sent; sd-notify READY=1';
  const sent = (b: { rootfs: string }) => fs.existsSync(path.join(b.rootfs, 'sent'));

  test('create + start: NOTIFY_SOCKET on a read-only bind of the state dir; start ends after READY=1, relayed with MAINPID', async () => {
    const caller = await listen();
    const b = bundle(`echo "$NOTIFY_SOCKET"; grep " /run/notify " /proc/self/mountinfo; ${SAYS_READY}; exec sleep 1000`);
    const out = path.join(b.dir, 'out.txt');
    expectOk(s.cli.create(b.id, b.dir, [], { env: caller.env, stdoutFile: out }));
    expectOk(s.cli.start(b.id, { env: caller.env }));
    expect(sent(b)).toBe(true);
    const pid = s.cli.state(b.id).pid;
    await waitFor(() => caller.received().length >= 2, 'READY=1 and MAINPID');
    expect(caller.received()).toEqual(['READY=1\\n', `MAINPID=${pid}\\n`]);
    const [env, mount] = fs.readFileSync(out, 'utf8').split('\n');
    expect(env).toBe('/run/notify/notify.sock');
    expect(mount.split(' ')[5].split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    // The bundle's config is the container's own: exec does not get the variable.
    const exec = s.cli.run(['exec', b.id, 'sh', '-c', 'echo "${NOTIFY_SOCKET-unset}"']);
    expect({ code: exec.code, stdout: exec.stdout }).toEqual({ code: 0, stdout: 'unset\n' });
  });

  test('run -d ends after READY=1, and relays it', async () => {
    const caller = await listen();
    const b = bundle(`${SAYS_READY}; exec sleep 1000`);
    expectOk(s.cli.run(['run', '-d', '--bundle', b.dir, b.id], { env: caller.env }));
    expect(sent(b)).toBe(true);
    const pid = s.cli.state(b.id).pid;
    await waitFor(() => caller.received().length >= 2, 'READY=1 and MAINPID');
    expect(caller.received()).toEqual(['READY=1\\n', `MAINPID=${pid}\\n`]);
  });

  test('a foreground run relays READY=1 while its container runs (stdio files, no terminal), and ends with it', async () => {
    const caller = await listen();
    // The container goes on only once the caller has its READY=1.
    const b = bundle(`${SAYS_READY}; while [ ! -e /go ]; do sleep 0.05; done; exit 7`);
    const run = s.cli.spawn(['run', '--bundle', b.dir, b.id], { env: caller.env, timeoutMs: 30_000 });
    await waitFor(() => caller.received().length >= 2, 'READY=1 and MAINPID while the container runs', 15_000);
    fs.writeFileSync(path.join(b.rootfs, 'go'), '');
    const r = await run.done;
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 7, stderr: '' });
    expect(caller.received()).toEqual(['READY=1\\n', expect.stringMatching(/^MAINPID=\d+\\n$/)]);
  });

  test('start of a container that exits without READY=1 ends with it, and nothing is relayed', async () => {
    const caller = await listen();
    const b = bundle('sleep 1; touch /sent; exit 3');
    expectOk(s.cli.create(b.id, b.dir, [], { env: caller.env }));
    expectOk(s.cli.start(b.id, { env: caller.env }));
    expect(sent(b)).toBe(true);
    expect(s.cli.state(b.id).status).toBe('stopped');
    expect(caller.received()).toEqual([]);
  });

  // runc 1.1.5 differs in these three: its foreground run waits for READY=1 before it
  // forwards a signal or waits for the container (forever when none comes), its start
  // fails for a container created without NOTIFY_SOCKET, and it cannot bind a socket
  // whose path is longer than an AF_UNIX address.
  (FLAVOR === 'tsrun' ? describe : describe.skip)('where tsrun does better than runc 1.1.5', () => {
    test('a foreground run whose process never says READY=1 ends with its container', async () => {
      const caller = await listen();
      const b = bundle('exit 4');
      const r = s.cli.runContainer(b.id, b.dir, [], { env: caller.env, timeoutMs: 20_000 });
      expect({ code: r.code, timedOut: r.timedOut }).toEqual({ code: 4, timedOut: false });
      expect(caller.received()).toEqual([]);
    });

    test('NOTIFY_SOCKET at start only (the container was created without one): start as usual, nothing relayed', async () => {
      const caller = await listen();
      const b = bundle(`${SAYS_READY}; exec sleep 1000`);
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.start(b.id, { env: caller.env }));
      expect(s.cli.state(b.id).status).toBe('running');
      expect(caller.received()).toEqual([]);
    });

    test('a --root too long for a socket address', async () => {
      const caller = await listen();
      const root = path.join(s.env.tmp, 'r'.repeat(60), 'o'.repeat(60));
      const long = s.addCli(BINARY, 'long-root', root);
      const b = bundle(`${SAYS_READY}; exec sleep 1000`);
      expectOk(long.run(['run', '-d', '--bundle', b.dir, b.id], { env: caller.env }));
      expect(sent(b)).toBe(true);
      await waitFor(() => caller.received().length >= 2, 'READY=1 and MAINPID');
      expect(caller.received()[0]).toBe('READY=1\\n');
    });
  });
});
