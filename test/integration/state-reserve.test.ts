// StateStore.reserveLocked: the container dir appears already locked (renamed into
// place with RENAME_NOREPLACE), so no other command ever sees it unlocked.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ContainerExistsError } from '../../src/errors';
import { native } from '../../src/native';
import { StateStore } from '../../src/state/store';

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
