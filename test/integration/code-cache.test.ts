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
import { containerSkipReason, describeIf, useSuite } from '../helpers/suite';

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
    expect(JSON.parse(fs.readFileSync(path.join(distDir, 'cache-warm-up.json'), 'utf8'))).toEqual({ containerRun: true });
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

  test('a container start loads no Node module beyond what the launcher loads (tty alone, with net and streams, cost run 2 ms)', () => {
    // As bin/tsrun does (its SIGUSR1 listener, then fs, path and vm), in a fresh
    // node; what the modules list gained after that is printed once main() has answered.
    const probe = path.join(s.env.tmp, 'modules-probe.js');
    fs.writeFileSync(probe, `
      process.on('SIGUSR1', () => undefined);
      const vm = require('vm'), fs = require('fs'), path = require('path');
      const before = new Set(process.moduleLoadList);
      const file = ${JSON.stringify(path.join(distDir, 'tsrun.js'))};
      const script = new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData: fs.readFileSync(file + '.cache') });
      const mod = { exports: {} };
      script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, path.dirname(file));
      mod.exports.main(process.argv.slice(2)).then((code) => {
        // Read before process.stdout exists (making it loads streams).
        const report = JSON.stringify({ code, loaded: process.moduleLoadList.filter((m) => !before.has(m)) });
        process.stdout.write(report);
        process.exit(0);
      });
    `);
    const b = s.bundle();
    // A session of its own: a signal from this terminal (a resize, ^Z) would be
    // forwarded to the container, and forwarding loads the os module on purpose.
    const r = spawnSync('setsid', ['-w', process.execPath, probe, '--root', s.cli.root, 'run', '--bundle', b.dir, b.id], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ code: 0, loaded: [] });
    expect(isEmpty(s.leftovers())).toBe(true);
  });
});
