// bin/tsrun has the addon spawn tsrun-init for create, run and exec while their
// JavaScript loads (addon/native/init-spawned-ahead.cpp); spawnInit then hands it the
// fds of its layout over a socket instead of spawning one. These tests hold that the
// init spawned ahead is the one used, that its fds arrive where posix_spawn would
// have put them, that more fds than one message carries still work (an init spawned
// anew), and that a command which never spawns leaves no init behind for its caller
// to reap: tsrun reaps it itself. The same thread first reads the bundle parts the
// command loads: read there, once, and not again by the JavaScript thread.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { flavorOf, repoRoot, runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const AHEAD = /init \d+ was spawned ahead/;

describeIf(containerSkipReason() ?? (flavorOf(BINARY) === 'tsrun' ? undefined : 'tsrun only: how tsrun spawns its init'))(`init spawned ahead (${BINARY})`, () => {
  const s = useSuite('init-ahead', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  /** The runtime through bash, which first opens the fds `opens` names (then execs it). */
  const throughBash = (opens: string, runtimeArgs: string[], env: NodeJS.ProcessEnv = process.env) => {
    const quoted = [BINARY, '--root', s.cli.root, ...runtimeArgs].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = spawnSync('bash', ['-c', `${opens}; exec ${quoted}`], { encoding: 'utf8', timeout: 30_000, env });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  test('run, create and exec use the init spawned ahead; stdio, preserved and extra fds reach it at their numbers', () => {
    const file = path.join(s.env.tmp, 'preserved');
    fs.writeFileSync(file, 'kept\n');
    // ls lists its own fds: 0-3, and 4, the directory it reads.
    const probe = ['sh', '-c', 'cat <&3; echo out; echo err >&2; ls /proc/self/fd | sort -n | tr "\\n" " "'];
    const b = s.bundle({ configure: (c) => (c.process.args = probe) });
    const run = throughBash(`exec 3<${file}`, ['--debug', 'run', '--preserve-fds', '1', '-b', b.dir, b.id]);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: 'kept\nout\n0 1 2 3 4 ' });
    expect(run.stderr).toContain('err\n');
    expect(run.stderr).toMatch(AHEAD);

    // create: the exec FIFO is an extra fd; the container goes on only once started.
    const c = s.bundle({ configure: (cfg) => (cfg.process.args = ['sleep', '1000']) });
    const created = s.cli.run(['--debug', 'create', '--bundle', c.dir, c.id]);
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(AHEAD);
    expect(s.cli.state(c.id).status).toBe('created');
    expectOk(s.cli.start(c.id));
    expect(s.cli.state(c.id).status).toBe('running');
    const exec = throughBash(`exec 3<${file}`, ['--debug', 'exec', '--preserve-fds', '1', c.id, ...probe]);
    expect({ code: exec.code, stdout: exec.stdout }).toEqual({ code: 0, stdout: 'kept\nout\n0 1 2 3 4 ' });
    expect(exec.stderr).toMatch(AHEAD);
    expectOk(s.cli.delete(c.id, true));
  });

  test('the bundle parts a run loads, and their caches, are read once, by the thread that spawns the init', () => {
    const b = s.bundle();
    const trace = path.join(s.env.tmp, 'run.strace');
    const r = spawnSync('strace', ['-f', '-e', 'trace=openat', '-o', trace, BINARY, ...s.cli.fullArgs(['run', '--bundle', b.dir, b.id])], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const lines = fs.readFileSync(trace, 'utf8').split('\n');
    const mainPid = lines[0].split(' ')[0];
    const dist = path.join(repoRoot(), 'dist') + '/';
    // Thread id and file of each open in dist/ that did not fail (an open that strace
    // saw interrupted by the other thread's ends its line "<unfinished ...>").
    const opens = lines.flatMap((l) => {
      const m = /^(\d+) +openat\(AT_FDCWD, "([^"]+)"/.exec(l);
      return m && m[2].startsWith(dist) && !/ = -1 /.test(l) ? [{ tid: m[1], file: m[2].slice(dist.length) }] : [];
    });
    const byMain = opens.filter((o) => o.tid === mainPid).map((o) => o.file).sort();
    const ahead = opens.filter((o) => o.tid !== mainPid).map((o) => o.file).sort();
    expect(byMain).toEqual(['tsrun.js', 'tsrun.js.run.cache']);
    expect(ahead).toEqual([
      'tsrun.cgroups.js', 'tsrun.cgroups.js.run.cache', 'tsrun.config-validator.js', 'tsrun.config-validator.js.run.cache', 'tsrun.create.js', 'tsrun.create.js.run.cache',
    ]);
  });

  test('more fds than one message carries: the init is spawned anew, and gets them all', () => {
    // 250 preserved fds + plan + stdio: 254, one more than SCM_RIGHTS takes at once.
    const b = s.bundle({ configure: (c) => (c.process.args = ['sh', '-c', 'ls /proc/self/fd | wc -l; readlink /proc/self/fd/252']) });
    const r = throughBash('for n in $(seq 3 252); do eval "exec $n</dev/null"; done', ['--debug', 'run', '--preserve-fds', '250', '-b', b.dir, b.id]);
    // 0-2, 3-252, and the fd ls reads /proc/self/fd through.
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '254\n/dev/null\n' });
    expect(r.stderr).not.toMatch(AHEAD);
  });

  // Node's event-loop fds come first and socket-activation.ts refuses them, so no
  // command reaches this; the addon holds to it all the same, in a process of its own.
  test('spawnInit never passes on the socket of the init spawned ahead as a preserved fd, and reaps that init', () => {
    const script = `
      const fs = require('fs');
      const addon = { exports: {} };
      process.dlopen(addon, ${JSON.stringify(path.join(repoRoot(), 'build', 'Release', 'tsrun_native.node'))});
      const fn = (name) => addon.exports.functionNamed(name);
      // Each open fd with what it is (not the one readdir reads /proc/self/fd through).
      const fds = () => new Map(fs.readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          return [[Number(fd), fs.readlinkSync('/proc/self/fd/' + fd)]];
        } catch {
          return [];
        }
      }));
      const before = fds();
      fn('spawnInitAhead')([]);
      // The thread's two: the socket to the init, the init's binary on its overlay.
      let own = [];
      for (let i = 0; i < 1000 && own.length < 2; i++) {
        own = [...fds()].filter(([fd, what]) => before.get(fd) !== what && (what.startsWith('socket:') || what === '/tsrun-init')).map(([fd]) => fd);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      }
      const highest = Math.max(...own);
      // Every number below it open, as a caller's preserved fds would be.
      for (let fd = fs.openSync('/dev/null', 'r'); fd < highest; fd = fs.openSync('/dev/null', 'r'));
      let message = 'no error';
      try {
        fn('spawnInit')({ plan: Buffer.alloc(0), stdio: [0, 1, 2], preserveFds: highest - 2, extraFds: [] });
      } catch (e) {
        message = e.message;
      }
      const children = fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim();
      process.stdout.write(JSON.stringify({ own: own.length, message, children }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.own).toBe(2);
    expect(out.message).toMatch(/^preserved fd \d+ is tsrun's own \(its init's socket\): the caller passed fewer fds than --preserve-fds/);
    expect(out.children).toBe('');
  });

  test('an init spawned ahead that died before its fds came is replaced: the spawn goes the ordinary way', () => {
    const script = `
      const fs = require('fs');
      const { encodePlan, op } = require(${JSON.stringify(path.join(repoRoot(), 'dist', 'src', 'linux', 'plan-encoding.js'))});
      const addon = { exports: {} };
      process.dlopen(addon, ${JSON.stringify(path.join(repoRoot(), 'build', 'Release', 'tsrun_native.node'))});
      const fn = (name) => addon.exports.functionNamed(name);
      const children = () => fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim().split(' ').filter(Boolean).map(Number);
      fn('spawnInitAhead')([]);
      for (let i = 0; i < 1000 && children().length === 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      const [ahead] = children();
      process.kill(ahead, 'SIGKILL');
      // Gone once a zombie: its end of the socket is closed by then.
      const state = () => {
        const stat = fs.readFileSync('/proc/' + ahead + '/stat', 'utf8');
        return stat[stat.lastIndexOf(')') + 2];
      };
      for (let i = 0; i < 1000 && state() !== 'Z'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      const spawned = fn('spawnInit')({ plan: encodePlan([op('fds', 0, 0), op('exit', 7)]), stdio: [0, 1, 2], preserveFds: 0, extraFds: [] });
      const waited = fn('waitPid')(spawned.pid);
      process.stdout.write(JSON.stringify({ ahead, pid: spawned.pid, spawnedAhead: spawned.spawnedAhead ?? false, exitCode: waited.exitCode, left: children() }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.pid).not.toBe(out.ahead);
    expect({ spawnedAhead: out.spawnedAhead, exitCode: out.exitCode, left: out.left }).toEqual({ spawnedAhead: false, exitCode: 7, left: [] });
  });

  test('a command that fails before its spawn leaves its caller no orphan: tsrun reaps the init it spawned ahead', () => {
    const reaper = path.join(repoRoot(), 'build', 'Release', 'tsrun-test-reaping-parent');
    // Without the exit helper, the only orphan such a command could leave is that init.
    const env: NodeJS.ProcessEnv = { ...process.env, TSRUN_NO_EXIT_HELPER: '1' };
    delete env.NODE_OPTIONS;
    delete env.NODE_V8_COVERAGE;
    const orphansOf = (args: string[]): string[] => {
      const r = spawnSync(reaper, ['--report-orphans', BINARY, ...s.cli.fullArgs(args)], { encoding: 'utf8', env, timeout: 30_000 });
      expect(r.status).not.toBe(0);
      return r.stderr.split('\n').filter((l) => l.startsWith('orphan '));
    };
    const bad = s.bundle({ configure: (c) => ((c.process as unknown as Record<string, unknown>).args = 'not a list') });
    expect(orphansOf(['create', '--bundle', bad.dir, bad.id])).toEqual([]);
    expect(orphansOf(['exec', 'no-such-container', 'true'])).toEqual([]);
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    // The id is taken: run fails after loading and checking everything.
    expect(orphansOf(['run', '--bundle', b.dir, b.id])).toEqual([]);
    expectOk(s.cli.delete(b.id, true));
  });
});
