// StateStore.reserveLocked: the container dir appears already locked (renamed into
// place with RENAME_NOREPLACE), so no other command ever sees it unlocked; and what
// state and list make of a container whose create holds that lock. tsrun only.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ContainerExistsError } from '../../src/errors';
import { native } from '../../src/native';
import { StateStore } from '../../src/state/store';
import { spawnSync } from 'child_process';
import { flavorOf, runtimeUnderTest } from '../helpers/runtime';

const BINARY = runtimeUnderTest();

describe('StateStore.reserveLocked', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-reserve-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('the new dir is locked from the moment it exists, and only one reservation wins', () => {
    const store = new StateStore(root);
    const release = store.reserveLocked('c1');
    const fd = fs.openSync(path.join(store.dir('c1'), 'lock'), 'r+');
    try {
      expect(native().flock(fd, true, true)).toBe(false); // held by the reservation
      expect(() => store.reserveLocked('c1')).toThrow(ContainerExistsError);
      release();
      expect(native().flock(fd, true, true)).toBe(true);
    } finally {
      fs.closeSync(fd);
    }
    // No temporary dir is left behind, and list() sees just the container.
    expect(fs.readdirSync(root)).toEqual(['c1']);
    expect(store.list()).toEqual(['c1']);
  });

  test('an existing empty dir of the same name is never replaced', () => {
    const store = new StateStore(root);
    fs.mkdirSync(path.join(root, 'c2'));
    expect(() => store.reserveLocked('c2')).toThrow(ContainerExistsError);
    expect(fs.readdirSync(root)).toEqual(['c2']);
  });

  test('list() removes the private dir of a create or delete that was killed midway', () => {
    const store = new StateStore(root);
    // pid 2^22+1 is above pid_max's ceiling: no such process can exist.
    const dead = path.join(root, '~reserve-4194305-abc');
    fs.mkdirSync(dead);
    fs.writeFileSync(path.join(dead, 'lock'), '');
    const live = path.join(root, `~removed-${process.pid}-1-x`);
    fs.mkdirSync(live);
    expect(store.list()).toEqual([]);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });
});

(flavorOf(BINARY) === 'tsrun' ? describe : describe.skip)('state and list of a container whose create is under way', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-creating-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  // The record as create leaves it between two writes: the first process it spawned
  // (which exits once the init has forked) still named, status "creating".
  const creating = (store: StateStore, id: string): void => {
    store.write(id, {
      ociVersion: '1.3.0', id, pid: 4194305, startTime: '1', bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z',
      owner: '', annotations: {}, cgroupPaths: {}, config: {}, status: 'creating',
    });
  };
  const statusOf = (id: string): { state: string; list: string[] } => {
    const state = spawnSync(BINARY, ['--root', root, 'state', id], { encoding: 'utf8' });
    const list = spawnSync(BINARY, ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8' });
    return { state: JSON.parse(state.stdout).status, list: JSON.parse(list.stdout).map((c: { status: string }) => c.status) };
  };

  test('while its create holds the lock it is "creating", never "stopped" (the pid it names has gone); once the lock is free (a crashed create) it is stopped', () => {
    const store = new StateStore(root);
    const unlock = store.reserveLocked('c3');
    try {
      creating(store, 'c3');
      expect(statusOf('c3')).toEqual({ state: 'creating', list: ['creating'] });
    } finally {
      unlock();
    }
    expect(statusOf('c3')).toEqual({ state: 'stopped', list: ['stopped'] });
  });
});
