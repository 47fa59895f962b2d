import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { waitFor } from '../helpers/runtime';
import { StateStore } from '../../src/state/store';
import type { ContainerState } from '../../src/state/types';
import { ContainerExistsError, ContainerNotFoundError, InvalidContainerIdError, TsrunError } from '../../src/errors';

let tmp: string;
let root: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-store-'));
  root = path.join(tmp, 'nested', 'root');
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function state(id: string, over: Partial<ContainerState> = {}): ContainerState {
  return {
    ociVersion: '1.0.2-dev', id, pid: 123, startTime: '456', bundle: '/b', rootfs: '/b/rootfs',
    created: '2026-01-01T00:00:00Z', owner: '', annotations: {}, cgroupPaths: { memory: '/sys/fs/cgroup/memory/x' },
    config: { ociVersion: '1.0.2-dev' }, ...over,
  };
}

const noFlock = (): boolean => true;

describe('StateStore paths and root', () => {
  test('reserve creates the root 0700 (mkdir -p) and the container dir 0711', () => {
    const store = new StateStore(root);
    const dir = store.reserve('c1');
    expect(dir).toBe(path.join(root, 'c1'));
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o711);
    expect(store.fifoPath('c1')).toBe(path.join(root, 'c1', 'exec.fifo'));
  });
  test('ids are validated before any path is built', () => {
    const store = new StateStore(root);
    expect(() => store.dir('../escape')).toThrow(InvalidContainerIdError);
    expect(() => store.reserve('..')).toThrow(InvalidContainerIdError);
    expect(() => store.remove('a/b')).toThrow(InvalidContainerIdError);
    expect(fs.existsSync(root)).toBe(false);
  });
  test('a symlink in place of the container dir is refused everywhere', () => {
    const store = new StateStore(root);
    store.ensureRoot();
    const victim = path.join(tmp, 'victim');
    fs.mkdirSync(victim);
    fs.writeFileSync(path.join(victim, 'precious'), 'x');
    fs.symlinkSync(victim, path.join(root, 'evil'));
    expect(() => store.dir('evil')).toThrow(/symlink/);
    expect(() => store.remove('evil')).toThrow(/symlink/);
    expect(() => store.write('evil', state('evil'))).toThrow(/symlink/);
    expect(() => store.reserve('evil')).toThrow(/symlink/);
    expect(fs.existsSync(path.join(victim, 'precious'))).toBe(true);
  });
});

describe('reserve', () => {
  test('second reserve of an id fails with ContainerExistsError', () => {
    const store = new StateStore(root);
    store.reserve('c1');
    expect(() => store.reserve('c1')).toThrow(ContainerExistsError);
    expect(() => store.reserve('c1')).toThrow('container with id c1 already exists');
  });

  test('exactly one of many concurrent processes wins', async () => {
    const storeModule = path.resolve(__dirname, '../../src/state/store.js');
    const go = path.join(tmp, 'go');
    // Each child waits for the go file, so the mkdir calls really race.
    const script = `
      const fs = require('fs');
      const { StateStore } = require(${JSON.stringify(storeModule)});
      const cell = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(${JSON.stringify(go)})) Atomics.wait(cell, 0, 0, 1);
      try { new StateStore(${JSON.stringify(root)}).reserve('race'); process.stdout.write('won'); }
      catch (e) { process.stdout.write(e.constructor.name); }
    `;
    const n = 12;
    const results = Array.from({ length: n }, () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      // 'close', not 'exit': under load 'exit' can come before the pipe's last data.
      child.on('close', () => resolve(out));
    }));
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(go, '');
    const outs = await Promise.all(results);
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outs.filter((o) => o === 'ContainerExistsError')).toHaveLength(n - 1);
  }, 20000);
});

describe('write / read', () => {
  test('round trip, overwrite, no temp file left', () => {
    const store = new StateStore(root);
    store.reserve('c1');
    store.write('c1', state('c1', { status: 'creating', pid: 0 }));
    expect(store.read('c1')).toEqual(state('c1', { status: 'creating', pid: 0 }));
    store.write('c1', state('c1', { pid: 999 }));
    expect(store.read('c1')).toEqual(state('c1', { pid: 999 }));
    expect(fs.readdirSync(path.join(root, 'c1'))).toEqual(['state.json']);
    expect(fs.statSync(path.join(root, 'c1', 'state.json')).mode & 0o777).toBe(0o600);
  });

  test('an existing state.json is swapped with the new one, whose old content is then unlinked', () => {
    const calls: Array<[string, string, string]> = [];
    const swap = (from: string, to: string): boolean => {
      calls.push([from, to, fs.readFileSync(from, 'utf8')]);
      if (!fs.existsSync(to)) return false; // as renameat2's ENOENT: the caller renames
      const held = fs.readFileSync(to);
      fs.copyFileSync(from, to);
      fs.writeFileSync(from, held);
      return true;
    };
    const store = new StateStore(root, { exchange: swap });
    store.reserve('c1');
    store.write('c1', state('c1', { pid: 1 }));
    store.write('c1', state('c1', { pid: 2 }));
    const file = path.join(root, 'c1', 'state.json');
    expect(calls.map(([from, to, text]) => [path.basename(from), to, JSON.parse(text).pid])).toEqual([
      [`state.json.tmp-${process.pid}`, file, 1],
      [`state.json.tmp-${process.pid}`, file, 2],
    ]);
    expect(store.read('c1').pid).toBe(2);
    // The swapped-out old state is gone, not left beside the new one.
    expect(fs.readdirSync(path.join(root, 'c1'))).toEqual(['state.json']);
  });

  test('the addon\'s exchangeFiles swaps two names, says false with nothing to swap with, and names the syscall otherwise (skipped when the addon is not built)', () => {
    let nat: { exchangeFiles(from: string, to: string): boolean } | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      nat = (require('../../src/native') as typeof import('../../src/native')).native();
    } catch {
      return;
    }
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.writeFileSync(a, 'new');
    fs.writeFileSync(b, 'old');
    const inodeA = fs.statSync(a).ino;
    expect(nat.exchangeFiles(a, b)).toBe(true);
    expect(fs.readFileSync(b, 'utf8')).toBe('new');
    expect(fs.readFileSync(a, 'utf8')).toBe('old');
    expect(fs.statSync(b).ino).toBe(inodeA);
    expect(nat.exchangeFiles(a, path.join(tmp, 'missing'))).toBe(false);
    expect(fs.readFileSync(a, 'utf8')).toBe('old');
    expect(() => nat?.exchangeFiles(a, path.join(b, 'below-a-file'))).toThrow(/renameat2.*ENOTDIR/);
  });

  test('a stale temp file from a crashed writer does not matter', () => {
    const store = new StateStore(root);
    store.reserve('c1');
    store.write('c1', state('c1'));
    fs.writeFileSync(path.join(root, 'c1', 'state.json.tmp-99999'), '{"torn":');
    expect(store.read('c1').pid).toBe(123);
    store.write('c1', state('c1', { pid: 5 }));
    expect(store.read('c1').pid).toBe(5);
  });

  test('readers in another process never see a torn file', async () => {
    const store = new StateStore(root);
    store.reserve('c1');
    const big = (pid: number): ContainerState => state('c1', { pid, annotations: { pad: 'x'.repeat(200000 + pid) } });
    store.write('c1', big(1));
    const file = path.join(root, 'c1', 'state.json');
    const stop = path.join(tmp, 'stop');
    const ready = path.join(tmp, 'ready');
    const script = `
      const fs = require('fs'); let bad = 0, reads = 0;
      while (!fs.existsSync(${JSON.stringify(stop)})) {
        try { JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8')); reads++; } catch (e) { bad++; }
        if (reads === 1) fs.writeFileSync(${JSON.stringify(ready)}, '');
      }
      process.stdout.write(JSON.stringify({ bad, reads }));
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const done = new Promise<void>((resolve) => child.on('close', () => resolve())); // after the pipe's last data
    // The writes begin once the reader reads (node's start may take longer than the writes).
    await waitFor(() => fs.existsSync(ready), 'the reader\'s first read', 15_000);
    for (let i = 2; i < 60; i++) store.write('c1', big(i));
    fs.writeFileSync(stop, '');
    await done;
    const { bad, reads } = JSON.parse(out) as { bad: number; reads: number };
    expect(reads).toBeGreaterThan(0);
    expect(bad).toBe(0);
  }, 20000);

  test('not found cases', () => {
    const store = new StateStore(root);
    expect(() => store.read('nope')).toThrow(ContainerNotFoundError);
    expect(() => store.read('nope')).toThrow('container does not exist');
    expect(() => store.readIfAny('nope')).toThrow(ContainerNotFoundError);
    expect(store.exists('nope')).toBe(false);
    expect(() => store.write('nope', state('nope'))).toThrow(ContainerNotFoundError);
  });

  test('a dir without state.json (crashed create) is discoverable for delete --force', () => {
    const store = new StateStore(root);
    store.reserve('half');
    expect(store.exists('half')).toBe(true);
    expect(store.readIfAny('half')).toBeNull();
    expect(() => store.read('half')).toThrow(ContainerNotFoundError);
    expect(store.list()).toEqual(['half']);
    store.remove('half');
    expect(store.exists('half')).toBe(false);
    store.remove('half'); // idempotent
  });

  test('corrupt state.json is reported, not crashed on', () => {
    const store = new StateStore(root);
    store.reserve('c1');
    fs.writeFileSync(path.join(root, 'c1', 'state.json'), '{"id": "c1", "pi');
    expect(() => store.read('c1')).toThrow(TsrunError);
    expect(() => store.read('c1')).toThrow(/state of container c1 is corrupt/);
    fs.writeFileSync(path.join(root, 'c1', 'state.json'), JSON.stringify(state('other')));
    expect(() => store.read('c1')).toThrow(/records id "other"/);
  });
});

describe('list', () => {
  test('empty or missing root', () => {
    expect(new StateStore(root).list()).toEqual([]);
  });
  test('skips files, symlinks and names that are not valid ids', () => {
    const store = new StateStore(root);
    store.reserve('b');
    store.reserve('a');
    store.reserve('c.d');
    fs.writeFileSync(path.join(root, 'file'), '');
    fs.mkdirSync(path.join(root, 'has space'));
    fs.mkdirSync(path.join(root, 'col:on'));
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'link'));
    fs.symlinkSync('/nonexistent', path.join(root, 'dangling'));
    expect(store.list()).toEqual(['a', 'b', 'c.d']);
  });
});

describe('lock', () => {
  test('locks <dir>/lock exclusively, blocking, and releases by closing', () => {
    const calls: Array<[number, boolean, boolean]> = [];
    const store = new StateStore(root, { flock: (fd, ex, nb) => (calls.push([fd, ex, nb]), true) });
    store.reserve('c1');
    const release = store.lock('c1');
    expect(calls).toHaveLength(1);
    const [fd, exclusive, nonBlocking] = calls[0];
    expect(exclusive).toBe(true);
    expect(nonBlocking).toBe(false);
    expect(fs.fstatSync(fd).ino).toBe(fs.statSync(path.join(root, 'c1', 'lock')).ino);
    release();
    expect(() => fs.fstatSync(fd)).toThrow(/EBADF/);
    release(); // twice is harmless
  });

  test('missing container: ContainerNotFoundError, nothing created', () => {
    const store = new StateStore(root, { flock: noFlock });
    store.ensureRoot();
    expect(() => store.lock('ghost')).toThrow(ContainerNotFoundError);
    expect(fs.existsSync(path.join(root, 'ghost'))).toBe(false);
  });

  test('container deleted while waiting: ContainerNotFoundError', () => {
    const store: StateStore = new StateStore(root, {
      flock: () => {
        store.remove('c1'); // another command held the lock and deleted the container
        return true;
      },
    });
    store.reserve('c1');
    expect(() => store.lock('c1')).toThrow(ContainerNotFoundError);
  });

  test('container deleted and re-created while waiting: the lock is taken on the new file', () => {
    let n = 0;
    const store: StateStore = new StateStore(root, {
      flock: () => {
        if (n++ === 0) {
          store.remove('c1');
          store.reserve('c1');
        }
        return true;
      },
    });
    store.reserve('c1');
    const release = store.lock('c1');
    expect(n).toBe(2);
    release();
  });

  test('with the real addon, a second holder blocks (skipped when the addon is not built)', () => {
    let nat: { flock(fd: number, ex: boolean, nb: boolean): boolean } | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      nat = (require('../../src/native') as typeof import('../../src/native')).native();
    } catch {
      return;
    }
    const store = new StateStore(root);
    store.reserve('c1');
    const release = store.lock('c1');
    const fd = fs.openSync(path.join(root, 'c1', 'lock'), 'r+');
    try {
      expect(nat.flock(fd, true, true)).toBe(false);
      release();
      expect(nat.flock(fd, true, true)).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
  });
});
