// --preserve-fds N and socket activation (LISTEN_FDS), as runc 1.1 passes them: the
// caller's fds 3.. reach the container at the same numbers; for create and run (not
// exec) LISTEN_FDS fds come first when LISTEN_PID names the runtime itself, and the
// container's environment gets LISTEN_FDS=<n> and LISTEN_PID=1.
// The extra fds are opened by a bash wrapper that then execs the runtime, so they
// are really inherited (not made by the runtime).

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { flavorOf, runtimeUnderTest, waitFor } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

describeIf(containerSkipReason())(`preserve-fds and LISTEN_FDS (${BINARY})`, () => {
  const s = useSuite('preserve-fds', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  const files = () => {
    const a = path.join(s.env.tmp, `a-${Math.random().toString(16).slice(2)}`);
    const b = path.join(s.env.tmp, `b-${Math.random().toString(16).slice(2)}`);
    fs.writeFileSync(a, 'first\n');
    fs.writeFileSync(b, 'second\n');
    return { a, b };
  };

  /** Runs the runtime through bash, which opens fd 3 and 4 on files and then execs it. */
  const wrapped = (opens: string, runtimeArgs: string[], env: string) => {
    const quoted = [BINARY, '--root', s.cli.root, ...runtimeArgs].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('bash', ['-c', `${opens}; ${env} exec ${quoted}`], { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  // What the container sees: its environment's LISTEN_* and the contents of fds 3 and 4.
  const probe = ['sh', '-c', 'echo "env:${LISTEN_FDS-unset}:${LISTEN_PID-unset}"; cat <&3 || echo no3; cat <&4 || echo no4'];

  test('run --preserve-fds 1 passes fd 3 only', () => {
    const { a, b } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = probe) });
    const r = wrapped(`exec 3<${a} 4<${b}`, ['run', '--preserve-fds', '1', '-b', bundle.dir, bundle.id], '');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['env:unset:unset', 'first', 'no4']);
  });

  test('LISTEN_FDS with LISTEN_PID of the runtime: passed first, then --preserve-fds; env LISTEN_FDS/LISTEN_PID=1', () => {
    const { a, b } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = probe) });
    const r = wrapped(`exec 3<${a} 4<${b}`, ['run', '--preserve-fds', '1', '-b', bundle.dir, bundle.id], 'LISTEN_PID=$$ LISTEN_FDS=1');
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: 'env:1:1\nfirst\nsecond\n' });
  });

  test('LISTEN_FDS for another pid is ignored (sd_listen_fds rules)', () => {
    const { a, b } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = probe) });
    const r = wrapped(`exec 3<${a} 4<${b}`, ['run', '-b', bundle.dir, bundle.id], 'LISTEN_PID=1 LISTEN_FDS=2');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('env:unset:unset');
    expect(r.stdout).not.toContain('first');
  });

  test('create --preserve-fds 2: the fds stay with the init until start', () => {
    const { a, b } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = probe) });
    const out = path.join(s.env.tmp, `${bundle.id}.out`);
    const r = wrapped(`exec 3<${a} 4<${b} >${out} 2>${out}.err`, ['create', '--preserve-fds', '2', '-b', bundle.dir, bundle.id], '');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expectOk(s.cli.start(bundle.id));
    return s.cli.waitStatus(bundle.id, 'stopped').then(() => {
      expect(fs.readFileSync(out, 'utf8')).toBe('env:unset:unset\nfirst\nsecond\n');
      expectOk(s.cli.delete(bundle.id));
    });
  });

  // runc 1.1 hands over whatever it has open at those numbers (its epoll fd, an O_PATH
  // fd of the host's /sys/fs/cgroup); tsrun refuses its own event-loop fds.
  if (flavorOf(BINARY) === 'tsrun') {
    const own = /preserved fd 4 is anon_inode:\[eventpoll\], as tsrun's own event loop's fds are: the caller passed fewer fds than --preserve-fds/;

    test('run --preserve-fds beyond the fds passed is refused: tsrun\'s own fds never reach the container', () => {
      const { a } = files();
      const bundle = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', 'ls -l /proc/self/fd/']) });
      const r = wrapped(`exec 3<${a}`, ['run', '--preserve-fds', '3', '-b', bundle.dir, bundle.id], '');
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(own);
      expect(s.cli.list().stdout).not.toContain(bundle.id);
    });

    test('exec --preserve-fds beyond the fds passed is refused; the container runs on', () => {
      const { a } = files();
      const bundle = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
      expectOk(s.cli.runContainer(bundle.id, bundle.dir, ['-d']));
      const r = wrapped(`exec 3<${a}`, ['exec', '--preserve-fds', '2', bundle.id, 'ls', '-l', '/proc/self/fd/'], '');
      // 255: runc's status for an exec that failed to start.
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 255, stdout: '' });
      expect(r.stderr).toMatch(own);
      expect(s.cli.state(bundle.id).status).toBe('running');
      expectOk(s.cli.delete(bundle.id, true));
    });
  }

  test('a socket-activated container\'s LISTEN_FDS and LISTEN_PID are its first process\'s: an exec\'d one gets neither (as runc)', async () => {
    const { a } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', 'echo "env:${LISTEN_FDS-unset}:${LISTEN_PID-unset}"; exec sleep 1000']) });
    const out = path.join(s.env.tmp, `${bundle.id}.out`);
    const r = wrapped(`exec 3<${a} >${out} 2>${out}.err`, ['run', '-d', '-b', bundle.dir, bundle.id], 'LISTEN_PID=$$ LISTEN_FDS=1');
    expect(r.code).toBe(0);
    await waitFor(() => fs.readFileSync(out, 'utf8').includes('\n'), 'the container\'s first line');
    expect(fs.readFileSync(out, 'utf8')).toBe('env:1:1\n');
    const e = s.cli.run(['exec', bundle.id, 'sh', '-c', 'echo "env:${LISTEN_FDS-unset}:${LISTEN_PID-unset}"']);
    expect({ code: e.code, stdout: e.stdout }).toEqual({ code: 0, stdout: 'env:unset:unset\n' });
    expectOk(s.cli.delete(bundle.id, true));
  });

  test('exec --preserve-fds 1 passes fd 3; LISTEN_FDS is not used by exec (as runc)', () => {
    const { a, b } = files();
    const bundle = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.runContainer(bundle.id, bundle.dir, ['-d']));
    const r = wrapped(`exec 3<${a} 4<${b}`, ['exec', '--preserve-fds', '1', bundle.id, ...probe], 'LISTEN_PID=$$ LISTEN_FDS=1');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['env:unset:unset', 'first', 'no4']);
    expectOk(s.cli.delete(bundle.id, true));
  });
});
