// The code caches the build writes (scripts/bundle.js) hold what a container start
// compiles, because the build runs one container itself
// (scripts/lib/container-warm-up.js) and records that it did
// (dist/cache-warm-up.json). V8 adds to a cache only what was compiled since it was
// read: a `run` through the bundle, loaded with those caches, must leave them
// nearly as they were. Without that warm-up they grew by 10-80% (113 -> 126 KB,
// 93 -> 117 KB, 27 -> 49 KB). Nothing else would notice: a missing function is
// only compiled again, at every start.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { distDir, installCopy, runBundleFresh, sameNodeAsLauncher } from '../helpers/bundled-cli';
import { isEmpty } from '../helpers/cleanup';
import { TSRUN_BINARY } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

const skip = containerSkipReason() ?? (sameNodeAsLauncher() ? undefined : 'jest runs another node than the one bin/tsrun names: its caches do not apply here');

describeIf(skip)('the code caches of the build', () => {
  const s = useSuite('code-cache', TSRUN_BINARY);
  // A test that fails halfway leaves its containers: not a reason for the next to fail.
  afterEach(() => {
    s.forceClean();
  });

  test('hold what `run` compiles: running a container adds under 3% to any of them', () => {
    // On this host (root, cgroups: the suite runs) the build can run its container too.
    expect(JSON.parse(fs.readFileSync(path.join(distDir, 'cache-warm-up.json'), 'utf8'))).toEqual({ containerRun: true });
    const b = s.bundle();
    const r = runBundleFresh(['--root', s.cli.root, 'run', '--bundle', b.dir, b.id], undefined, s.env.tmp);
    expect(r.code).toBe(0);
    // run reads the create part, the config validator and (to delete) the cgroup drivers.
    expect(Object.keys(r.cacheSizes).sort()).toEqual(['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js', 'tsrun.js']);
    for (const [file, after] of Object.entries(r.cacheSizes)) {
      const before = fs.statSync(path.join(distDir, `${file}.cache`)).size;
      expect({ file, rejected: r.rejected[file], grewUnder3Percent: after < before * 1.03, before, after }).toEqual({
        file, rejected: false, grewUnder3Percent: true, before, after,
      });
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  // V8 reads a cache whole: state, run, create, exec, start, kill, delete and the cgroup
  // commands read a cache of the bundle made by a process that ran only them (state
  // 0.95, run 0.985, start 0.97, kill 0.96, delete 0.97 against the shared one; exec
  // 0.953, create 0.98, ps 0.953, events 0.958, update 0.97 with their parts' caches
  // made alike).
  test('bin/tsrun reads the bundle cache made for its command, and each holds what its command compiles', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    const bundleCachesRead = (args: string[]): string[] => {
      const r = probe(args);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      return r.cachesRead.filter((name) => name.startsWith('tsrun.js.'));
    };
    expect(bundleCachesRead(['state', b.id])).toEqual(['tsrun.js.state.cache']);
    expect(bundleCachesRead(['exec', b.id, 'true'])).toEqual(['tsrun.js.exec.cache']);
    expect(bundleCachesRead(['--log-format', 'json', 'state', b.id])).toEqual(['tsrun.js.state.cache']);
    expect(bundleCachesRead(['list'])).toEqual(['tsrun.js.cache']);
    // A global option's value named like a command is not the command.
    expect(bundleCachesRead(['--log-format', 'text', 'list'])).toEqual(['tsrun.js.cache']);

    const grew = (flavor: string, args: string[]): { flavor: string; rejected: boolean; grewUnder3Percent: boolean } => {
      const r = runBundleFresh(['--root', s.cli.root, ...args], flavor, s.env.tmp);
      expect({ args, code: r.code }).toEqual({ args, code: 0 });
      const before = fs.statSync(path.join(distDir, `tsrun.js.${flavor}.cache`)).size;
      return { flavor, rejected: r.rejected['tsrun.js'] as boolean, grewUnder3Percent: (r.cacheSizes['tsrun.js'] as number) < before * 1.03 };
    };
    expect(grew('state', ['state', b.id])).toEqual({ flavor: 'state', rejected: false, grewUnder3Percent: true });
    expect(grew('exec', ['exec', b.id, 'true'])).toEqual({ flavor: 'exec', rejected: false, grewUnder3Percent: true });
    expect(grew('start', ['start', b.id])).toEqual({ flavor: 'start', rejected: false, grewUnder3Percent: true });
    expect(grew('kill', ['kill', b.id, 'KILL'])).toEqual({ flavor: 'kill', rejected: false, grewUnder3Percent: true });
    await s.cli.waitStatus(b.id, 'stopped');
    expect(grew('delete', ['delete', b.id])).toEqual({ flavor: 'delete', rejected: false, grewUnder3Percent: true });
    const r = s.bundle();
    expect(grew('run', ['run', '--bundle', r.dir, r.id])).toEqual({ flavor: 'run', rejected: false, grewUnder3Percent: true });
    const c = s.bundle({ configure: (config) => (config.process.args = ['sleep', '1000']) });
    expect(grew('create', ['create', '--bundle', c.dir, c.id])).toEqual({ flavor: 'create', rejected: false, grewUnder3Percent: true });
    expectOk(s.cli.delete(c.id, true));
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  /**
   * Runs one command through bin/tsrun (or `launcher`, a copy of it) in a session of
   * its own, and reports what the command added to Node's modules once the launcher
   * had loaded its own, which bundle parts it compiled, the caches it read and how
   * large each part's cache would be now. A session of its own: a signal from this
   * terminal (a resize, ^Z) would be forwarded to a container, and forwarding loads
   * the os module on purpose.
   */
  function probe(args: string[], launcher = TSRUN_BINARY): { code: number; loaded: string[]; parts: string[]; cachesRead: string[]; cacheSizes: Record<string, number>; stdout: string } {
    const recorder = path.join(s.env.tmp, 'modules-probe.js');
    const report = path.join(s.env.tmp, 'modules-probe.json');
    fs.rmSync(report, { force: true });
    fs.writeFileSync(recorder, `
      const fs = require('fs'), path = require('path'), vm = require('vm');
      const scripts = {};
      let before;
      const Script = vm.Script;
      // The launcher compiles the bundle, the bundle its parts, each with vm.Script.
      vm.Script = class extends Script {
        constructor(source, options) {
          const name = path.basename(options.filename);
          if (name === 'tsrun.js') before = new Set(process.moduleLoadList);
          super(source, options);
          scripts[name] = this;
        }
      };
      const cachesRead = [];
      const recordRead = (read) => (name, ...rest) => {
        const data = read(name, ...rest);
        if (typeof name === 'string' && name.endsWith('.cache')) cachesRead.push(path.basename(name));
        return data;
      };
      fs.readFileSync = recordRead(fs.readFileSync);
      // With the addon, the launcher and the bundle read the caches through it.
      const dlopen = process.dlopen;
      process.dlopen = (module, ...rest) => {
        dlopen.call(process, module, ...rest);
        const named = module.exports.functionNamed;
        if (typeof named === 'function') module.exports.functionNamed = (name) => (name === 'readBytes' ? recordRead(named(name)) : named(name));
      };
      // Under a node option (-r) tsrun ends with process.exit (src/native.ts).
      process.on('exit', (code) => {
        const parts = Object.keys(scripts).filter((name) => name !== 'tsrun.js').sort();
        const cacheSizes = Object.fromEntries(parts.map((name) => [name, scripts[name].createCachedData().length]));
        fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({
          code, loaded: process.moduleLoadList.filter((m) => before && !before.has(m)), parts, cachesRead, cacheSizes,
        }));
      });`);
    // Output into files: a created container's init keeps the command's stdio open.
    const out = { stdout: path.join(s.env.tmp, 'modules-probe.out'), stderr: path.join(s.env.tmp, 'modules-probe.err') };
    const outFd = fs.openSync(out.stdout, 'w');
    const errFd = fs.openSync(out.stderr, 'w');
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync('setsid', ['-w', process.execPath, '-r', recorder, launcher, '--root', s.cli.root, ...args], { stdio: ['ignore', outFd, errFd], timeout: 30_000 });
    } finally {
      fs.closeSync(outFd);
      fs.closeSync(errFd);
    }
    expect({ args, status: r.status, stderr: fs.readFileSync(out.stderr, 'utf8') }).toEqual({ args, status: 0, stderr: '' });
    return { ...JSON.parse(fs.readFileSync(report, 'utf8')), stdout: fs.readFileSync(out.stdout, 'utf8') };
  }

  test('a container start loads no Node module beyond what the launcher loads (tty alone, with net and streams, cost run 2 ms)', () => {
    const b = s.bundle();
    expect(probe(['run', '--bundle', b.dir, b.id])).toMatchObject({
      code: 0, loaded: [], parts: ['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js'],
      cachesRead: ['tsrun.js.run.cache', 'tsrun.create.js.run.cache', 'tsrun.cgroups.js.run.cache', 'tsrun.config-validator.js.run.cache'],
    });
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('each command of a containerd start and stop, and those acting on cgroups, reads only its bundle parts (an exec once read the cgroup drivers: 3 ms)', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const none = { code: 0, loaded: [], parts: [] };
    const created = probe(['create', '--bundle', b.dir, b.id]);
    expect(created).toMatchObject({
      ...none, parts: ['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js'],
      cachesRead: ['tsrun.js.create.cache', 'tsrun.create.js.create.cache', 'tsrun.cgroups.js.create.cache', 'tsrun.config-validator.js.create.cache'],
    });
    expect(probe(['state', b.id])).toMatchObject(none);
    expect(probe(['start', b.id])).toMatchObject({ ...none, cachesRead: ['tsrun.js.start.cache'] });
    const exec = probe(['exec', b.id, 'true']);
    expect(exec).toMatchObject({ ...none, parts: ['tsrun.create.js'], cachesRead: ['tsrun.js.exec.cache', 'tsrun.create.js.exec.cache'] });
    // The commands that act on the container's cgroups read delete's part, never the
    // create part (pause, ps and events read it until the build probed them: 1-3 ms).
    // Each reads caches of the bundle and of that part made by a build process that
    // ran only it, and compiles (nearly) nothing more into the part's.
    const resources = path.join(s.env.tmp, 'resources.json');
    fs.writeFileSync(resources, JSON.stringify({ pids: { limit: 100 } }));
    for (const args of [['pause', b.id], ['resume', b.id], ['ps', b.id], ['events', '--stats', b.id], ['update', '--resources', resources, b.id]]) {
      const { code, parts, cachesRead, cacheSizes } = probe(args);
      const before = fs.statSync(path.join(distDir, `tsrun.cgroups.js.${args[0]}.cache`)).size;
      const after = cacheSizes['tsrun.cgroups.js'] as number;
      expect({ args, code, parts, cachesRead, grewUnder3Percent: after < before * 1.03 }).toEqual({
        args, code: 0, parts: ['tsrun.cgroups.js'], cachesRead: [`tsrun.js.${args[0]}.cache`, `tsrun.cgroups.js.${args[0]}.cache`], grewUnder3Percent: true,
      });
    }
    // Signal names are the os module's.
    expect(probe(['kill', b.id, 'KILL'])).toMatchObject({ ...none, loaded: ['Internal Binding os', 'NativeModule os'], cachesRead: ['tsrun.js.kill.cache'] });
    const deleted = probe(['delete', '--force', b.id]);
    expect(deleted).toMatchObject({ ...none, parts: ['tsrun.cgroups.js'], cachesRead: ['tsrun.js.delete.cache', 'tsrun.cgroups.js.delete.cache'] });
    // create, exec and delete read the caches of their parts the build made with them,
    // and compiled (nearly) nothing more.
    const partCaches = [
      ...['tsrun.create.js', 'tsrun.cgroups.js', 'tsrun.config-validator.js'].map((part) => [`${part}.create.cache`, created] as const),
      ['tsrun.create.js.exec.cache', exec], ['tsrun.cgroups.js.delete.cache', deleted],
    ] as const;
    for (const [part, r] of partCaches) {
      const before = fs.statSync(path.join(distDir, part)).size;
      const after = r.cacheSizes[part.replace(/\.\w+\.cache$/, '')] as number;
      expect({ part, grewUnder3Percent: after < before * 1.03, before, after }).toEqual({ part, grewUnder3Percent: true, before, after });
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('a cache the build could not make, or a stale one, costs only time: bin/tsrun reads the shared cache, or compiles', () => {
    const launcher = installCopy(path.join(s.env.tmp, 'without-flavors'), true);
    const dist = path.join(s.env.tmp, 'without-flavors', 'dist');
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    const stateOf = (r: { stdout: string }): unknown => (JSON.parse(r.stdout) as { status: string }).status;
    try {
      fs.rmSync(path.join(dist, 'tsrun.js.state.cache'));
      const shared = probe(['state', b.id], launcher);
      expect({ code: shared.code, status: stateOf(shared), cachesRead: shared.cachesRead }).toEqual({ code: 0, status: 'created', cachesRead: ['tsrun.js.cache'] });
      for (const file of ['tsrun.js.exec.cache', 'tsrun.create.js.exec.cache']) fs.rmSync(path.join(dist, file));
      const exec = probe(['exec', b.id, 'true'], launcher);
      expect({ code: exec.code, cachesRead: exec.cachesRead }).toEqual({ code: 0, cachesRead: ['tsrun.js.cache', 'tsrun.create.js.cache'] });

      // From another build (or node): V8 rejects it and compiles the source.
      fs.copyFileSync(path.join(dist, 'tsrun.create.js.cache'), path.join(dist, 'tsrun.js.cache'));
      const stale = probe(['state', b.id], launcher);
      expect({ code: stale.code, status: stateOf(stale) }).toEqual({ code: 0, status: 'created' });
      for (const file of fs.readdirSync(dist)) if (file.endsWith('.cache')) fs.rmSync(path.join(dist, file));
      const none = probe(['delete', '--force', b.id], launcher);
      expect({ code: none.code, cachesRead: none.cachesRead }).toEqual({ code: 0, cachesRead: [] });
    } finally {
      s.cli.delete(b.id, true);
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('without a built addon bin/tsrun reads its files itself: state and list answer, a container start names the missing file', () => {
    const launcher = installCopy(path.join(s.env.tmp, 'without-addon'), false);
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    try {
      const state = probe(['state', b.id], launcher);
      expect({ code: state.code, status: (JSON.parse(state.stdout) as { status: string }).status }).toEqual({ code: 0, status: 'created' });
      const list = probe(['list', '-q'], launcher);
      expect({ code: list.code, listed: list.stdout.split('\n').includes(b.id) }).toEqual({ code: 0, listed: true });
      const other = s.bundle();
      const r = spawnSync(launcher, ['--root', s.cli.root, 'run', '--bundle', other.dir, other.id], { encoding: 'utf8', timeout: 30_000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: expect.stringContaining(path.join(path.dirname(path.dirname(launcher)), 'build', 'Release', 'tsrun_native.node')) });
    } finally {
      expectOk(s.cli.delete(b.id, true));
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });
});
