// writeFileAtomic (pid files of create, run and exec): the file appears whole, and a
// name planted in its directory (which may be writable by others: /tmp) is never
// written through. No root needed.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../../src/lifecycle/files';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-pid-file-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the pid file holds the content, and no temporary file is left beside it', () => {
  writeFileAtomic(path.join(tmp, 'pid'), '1234');
  expect(fs.readFileSync(path.join(tmp, 'pid'), 'utf8')).toBe('1234');
  expect(fs.readdirSync(tmp)).toEqual(['pid']);
  writeFileAtomic(path.join(tmp, 'pid'), '5678');
  expect(fs.readFileSync(path.join(tmp, 'pid'), 'utf8')).toBe('5678');
  expect(fs.readdirSync(tmp)).toEqual(['pid']);
});

test('a symlink planted at the temporary name is not followed: another name is taken', () => {
  const victim = path.join(tmp, 'victim');
  fs.writeFileSync(victim, 'precious');
  // The first name tsrun would pick, made known by a fixed random draw.
  const draws = [0.5, 0.25];
  jest.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.125);
  const first = `.pid.${process.pid}.${(0.5).toString(36).slice(2, 10)}.tmp`;
  // And the one name tsrun once always used.
  const predictable = `.pid.${process.pid}.tmp`;
  for (const name of [first, predictable]) fs.symlinkSync(victim, path.join(tmp, name));
  writeFileAtomic(path.join(tmp, 'pid'), '1234');
  expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  expect(fs.readFileSync(path.join(tmp, 'pid'), 'utf8')).toBe('1234');
  expect(fs.lstatSync(path.join(tmp, 'pid')).isFile()).toBe(true);
  // The planted name is someone else's: left as it is.
  expect(fs.readlinkSync(path.join(tmp, first))).toBe(victim);
  expect(fs.readdirSync(tmp).sort()).toEqual([first, predictable, 'pid', 'victim'].sort());
});
