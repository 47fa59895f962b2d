// The bundled CLI as bin/tsrun runs it (scripts/bundle.js): which commands read which
// parts, and that every code cache the build wrote is one V8 accepts. Both only cost
// time when wrong, so nothing else would notice.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { distDir as dist, loadBundle, sameNodeAsLauncher } from '../helpers/bundled-cli';
import { killChild } from '../helpers/children';

describe('the bundled CLI', () => {
  let root = '';
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bundle-test-'));
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    process.exitCode = 0;
  });

  test('is pure ASCII, bundle and parts alike', () => {
    for (const file of fs.readdirSync(dist).filter((f) => /^tsrun\..*js$/.test(f))) {
      expect({ file, nonAscii: /[^\x00-\x7f]/.test(fs.readFileSync(path.join(dist, file), 'latin1')) }).toEqual({ file, nonAscii: false });
    }
  });

  test('state, list, start and kill read no part; create, delete and validation read theirs, each with an accepted cache', async () => {
    const { cli, script } = loadBundle();
    const checkCaches = sameNodeAsLauncher();
    if (checkCaches) expect(script.cachedDataRejected).toBe(false);
    const output = cli.__bundleLoad('src/output.js') as { divertOutput(to: ((fd: number, text: string) => void) | undefined): void };
    // A recorded container whose "init" is a child that only waits (no cgroup: a
    // signal reaches nothing else), for state and kill of a live container.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
    const { StateStore } = cli.__bundleLoad('src/state/store.js') as unknown as typeof import('../../src/state/store');
    const { processStartTime } = cli.__bundleLoad('src/state/status.js') as unknown as typeof import('../../src/state/status');
    const store = new StateStore(root);
    const unlock = store.reserveLocked('live');
    store.write('live', {
      ociVersion: '1.2.0', id: 'live', pid: child.pid ?? 0, startTime: processStartTime(child.pid ?? 0) ?? '', bundle: root, rootfs: root,
      created: new Date().toISOString(), owner: '', annotations: {}, cgroupPaths: {}, config: {},
    });
    unlock();
    const said: string[] = [];
    output.divertOutput((_fd, text) => said.push(text));
    try {
      for (const args of [['state', 'x'], ['list'], ['start', 'x'], ['kill', 'x', 'KILL'], ['state', 'live'], ['kill', 'live', 'CONT']]) {
        await cli.main(['--root', root, ...args]);
      }
    } finally {
      output.divertOutput(undefined);
      await killChild(child);
    }
    expect(said.join('')).toContain('container does not exist');
    expect(said.join('')).toContain('"id": "live"');
    expect(Object.keys(cli.__bundleParts)).toEqual([]);

    cli.__bundleLoad('src/lifecycle/delete.js');
    cli.__bundleLoad('src/cgroups/index.js');
    cli.__bundleLoad('src/lifecycle/create.js');
    cli.__bundleLoad('config-validator.js');
    expect(Object.keys(cli.__bundleParts).sort()).toEqual(['tsrun.cgroups.js', 'tsrun.config-validator.js', 'tsrun.create.js']);
    if (checkCaches) {
      for (const [file, part] of Object.entries(cli.__bundleParts)) expect({ file, rejected: part.cachedDataRejected }).toEqual({ file, rejected: false });
    }
  });
});
