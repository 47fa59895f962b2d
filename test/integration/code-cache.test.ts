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
import { distDir, loadBundle, sameNodeAsLauncher } from '../helpers/bundled-cli';
import { isEmpty } from '../helpers/cleanup';
import { reapAdoptedZombies } from '../helpers/reap';
import { TSRUN_BINARY } from '../helpers/runtime';
import { native } from '../../src/native';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

const skip = containerSkipReason() ?? (sameNodeAsLauncher() ? undefined : 'jest runs another node than the one bin/tsrun names: its caches do not apply here');

describeIf(skip)('the code caches of the build', () => {
  const s = useSuite('code-cache', TSRUN_BINARY);
  const exitCode = process.exitCode;
  afterAll(() => {
    // The `run` below made this process a subreaper, as bin/tsrun's run is one: in a
    // --runInBand jest it would adopt later suites' processes and never reap them.
    native().setChildSubreaper(false);
    reapAdoptedZombies();
    process.exitCode = exitCode;
  });

  test('hold what `run` compiles: running a container adds under 3% to any of them', async () => {
    // On this host (root, cgroups: the suite runs) the build can run its container too.
    expect(JSON.parse(fs.readFileSync(path.join(distDir, 'cache-warm-up.json'), 'utf8'))).toEqual({ containerRun: true, execRun: true });
    const { cli, script } = loadBundle();
    expect(script.cachedDataRejected).toBe(false);
    const b = s.bundle();
    const code = await cli.main(['--root', s.cli.root, 'run', '--bundle', b.dir, b.id]);
    expect(code).toBe(0);

    const scripts = { 'tsrun.js': script, ...cli.__bundleParts };
    // run reads the create part, the config validator and (to delete) the cgroup drivers.
    expect(Object.keys(scripts).sort()).toEqual(['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js', 'tsrun.js']);
    for (const [file, compiled] of Object.entries(scripts)) {
      const before = fs.statSync(path.join(distDir, `${file}.cache`)).size;
      const after = compiled.createCachedData().length;
      expect({ file, rejected: compiled.cachedDataRejected, grewUnder3Percent: after < before * 1.03, before, after }).toEqual({
        file, rejected: false, grewUnder3Percent: true, before, after,
      });
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  // V8 reads a cache whole: state, run and create read a cache of the bundle made by a
  // process that ran only them (state 0.95, run 0.985 against the shared one).
  test('bin/tsrun reads the bundle cache made for its command, and each holds what its command compiles', async () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    const recorder = path.join(s.env.tmp, 'caches-read.js');
    const record = path.join(s.env.tmp, 'caches-read.json');
    fs.writeFileSync(recorder, `
      const fs = require('fs'), path = require('path');
      const read = [];
      const readFileSync = fs.readFileSync;
      fs.readFileSync = (name, ...rest) => {
        if (typeof name === 'string' && name.endsWith('.cache')) read.push(path.basename(name));
        return readFileSync(name, ...rest);
      };
      process.on('exit', () => fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify(read)));`);
    const cachesRead = (args: string[]): string[] => {
      const r = spawnSync(process.execPath, ['-r', recorder, path.join(distDir, '..', 'bin', 'tsrun'), ...args], { stdio: 'ignore', timeout: 30_000 });
      expect({ args, status: r.status }).toEqual({ args, status: 0 });
      return JSON.parse(fs.readFileSync(record, 'utf8')).filter((name: string) => name.startsWith('tsrun.js.'));
    };
    expect(cachesRead(['--root', s.cli.root, 'state', b.id])).toEqual(['tsrun.js.state.cache']);
    expect(cachesRead(['--log-format', 'json', '--root', s.cli.root, 'state', b.id])).toEqual(['tsrun.js.state.cache']);
    expect(cachesRead(['--root=' + s.cli.root, 'list'])).toEqual(['tsrun.js.cache']);
    // A global option's value named like a command is not the command.
    expect(cachesRead(['--log-format', 'text', '--root', s.cli.root, 'list'])).toEqual(['tsrun.js.cache']);

    const grew = async (flavor: string, args: string[]): Promise<{ flavor: string; rejected: boolean; grewUnder3Percent: boolean }> => {
      const { cli, script } = loadBundle(flavor);
      expect(await cli.main(['--root', s.cli.root, ...args])).toBe(0);
      const before = fs.statSync(path.join(distDir, `tsrun.js.${flavor}.cache`)).size;
      return { flavor, rejected: script.cachedDataRejected === true, grewUnder3Percent: script.createCachedData().length < before * 1.03 };
    };
    const quiet = { out: process.stdout.write, err: process.stderr.write };
    try {
      process.stdout.write = process.stderr.write = () => true;
      expect(await grew('state', ['state', b.id])).toEqual({ flavor: 'state', rejected: false, grewUnder3Percent: true });
      expectOk(s.cli.delete(b.id, true));
      const r = s.bundle();
      expect(await grew('run', ['run', '--bundle', r.dir, r.id])).toEqual({ flavor: 'run', rejected: false, grewUnder3Percent: true });
    } finally {
      process.stdout.write = quiet.out;
      process.stderr.write = quiet.err;
    }
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  /**
   * Runs one command as bin/tsrun does (its SIGUSR1 listener, then fs, path and vm,
   * the bundle with its cache) in a fresh node, and reports what the command added
   * to Node's modules and which bundle parts it read. A session of its own: a signal
   * from this terminal (a resize, ^Z) would be forwarded to a container, and
   * forwarding loads the os module on purpose.
   */
  function probe(args: string[]): { code: number; loaded: string[]; parts: string[]; cachesRead: string[]; cacheSizes: Record<string, number> } {
    const script = path.join(s.env.tmp, 'modules-probe.js');
    const report = path.join(s.env.tmp, 'modules-probe.json');
    fs.writeFileSync(script, `
      process.on('SIGUSR1', () => undefined);
      const vm = require('vm'), fs = require('fs'), path = require('path');
      const before = new Set(process.moduleLoadList);
      const file = ${JSON.stringify(path.join(distDir, 'tsrun.js'))};
      const script = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData: fs.readFileSync(file + '.cache') });
      const mod = { exports: {} };
      script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
      const cachesRead = [];
      const readFileSync = fs.readFileSync;
      fs.readFileSync = (name, ...rest) => {
        if (typeof name === 'string' && name.endsWith('.cache')) cachesRead.push(path.basename(name));
        return readFileSync(name, ...rest);
      };
      mod.exports.main(process.argv.slice(2)).then((code) => {
        // Into a file with fs: process.stdout would load streams itself.
        const parts = mod.exports.__bundleParts;
        const cacheSizes = Object.fromEntries(Object.entries(parts).map(([name, part]) => [name, part.createCachedData().length]));
        fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({
          code, loaded: process.moduleLoadList.filter((m) => !before.has(m)), parts: Object.keys(parts).sort(), cachesRead, cacheSizes,
        }));
        process.exit(0);
      });
    `);
    // stderr into a file: a created container's init keeps the command's stdio open.
    const errors = path.join(s.env.tmp, 'modules-probe.err');
    const errFd = fs.openSync(errors, 'w');
    let r: ReturnType<typeof spawnSync>;
    try {
      r = spawnSync('setsid', ['-w', process.execPath, script, '--root', s.cli.root, ...args], { stdio: ['ignore', 'ignore', errFd], timeout: 30_000 });
    } finally {
      fs.closeSync(errFd);
    }
    expect({ args, status: r.status, stderr: fs.readFileSync(errors, 'utf8') }).toEqual({ args, status: 0, stderr: '' });
    return JSON.parse(fs.readFileSync(report, 'utf8'));
  }

  test('a container start loads no Node module beyond what the launcher loads (tty alone, with net and streams, cost run 2 ms)', () => {
    const b = s.bundle();
    expect(probe(['run', '--bundle', b.dir, b.id])).toMatchObject({
      code: 0, loaded: [], parts: ['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js'],
    });
    expect(isEmpty(s.leftovers())).toBe(true);
  });

  test('each command of a containerd start and stop, and those acting on cgroups, reads only its bundle parts (an exec once read the cgroup drivers: 3 ms)', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const none = { code: 0, loaded: [], parts: [] };
    expect(probe(['create', '--bundle', b.dir, b.id])).toMatchObject({
      ...none, parts: ['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js'],
      cachesRead: ['tsrun.create.js.cache', 'tsrun.cgroups.js.cache', 'tsrun.config-validator.js.cache'],
    });
    expect(probe(['state', b.id])).toMatchObject(none);
    expect(probe(['start', b.id])).toMatchObject(none);
    const exec = probe(['exec', b.id, 'true']);
    expect(exec).toMatchObject({ ...none, parts: ['tsrun.create.js'], cachesRead: ['tsrun.create.js.exec.cache'] });
    // The commands that act on the container's cgroups read delete's part, never the
    // create part (pause, ps and events read it until the build probed them: 1-3 ms).
    for (const args of [['pause', b.id], ['resume', b.id], ['ps', b.id], ['events', '--stats', b.id], ['update', '--pids-limit', '100', b.id]]) {
      const { code, parts } = probe(args);
      expect({ args, code, parts }).toEqual({ args, code: 0, parts: ['tsrun.cgroups.js'] });
    }
    // Signal names are the os module's.
    expect(probe(['kill', b.id, 'KILL'])).toMatchObject({ ...none, loaded: ['Internal Binding os', 'NativeModule os'] });
    expect(probe(['delete', '--force', b.id])).toMatchObject({ ...none, parts: ['tsrun.cgroups.js'] });
    // exec read the create part's cache the build warmed with an exec, and compiled
    // (nearly) nothing more.
    const before = fs.statSync(path.join(distDir, 'tsrun.create.js.exec.cache')).size;
    const after = exec.cacheSizes['tsrun.create.js'] as number;
    expect({ grewUnder3Percent: after < before * 1.03, before, after }).toEqual({ grewUnder3Percent: true, before, after });
    expect(isEmpty(s.leftovers())).toBe(true);
  });
});
