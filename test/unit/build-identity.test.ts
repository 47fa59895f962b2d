// The identity of tsrun's build (src/lifecycle/build-identity.ts): what the seccomp
// cache keys its entries with, so that an upgrade never takes an entry the old code made.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildIdentity } from '../../src/lifecycle/build-identity';

describe('build identity', () => {
  let dir: string;
  let idFile: string;
  let addon: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-build-id-'));
    idFile = path.join(dir, 'build-id');
    addon = path.join(dir, 'tsrun_native.node');
    fs.writeFileSync(idFile, `${'a'.repeat(64)}\n`);
    fs.writeFileSync(addon, 'addon');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('names the bundle\'s hash and the addon\'s file; another of either is another identity', () => {
    const first = buildIdentity(idFile, addon);
    expect(first).toMatch(new RegExp(`^${'a'.repeat(64)} addon `));
    expect(buildIdentity(idFile, addon)).toBe(first);
    fs.writeFileSync(idFile, `${'b'.repeat(64)}\n`);
    const rebuilt = buildIdentity(idFile, addon);
    expect(rebuilt).not.toBe(first);
    // A new addon file (the linker writes a new inode), its content the same size.
    fs.rmSync(addon);
    fs.writeFileSync(path.join(dir, 'other'), 'x');
    fs.writeFileSync(addon, 'addon');
    expect(buildIdentity(idFile, addon)).not.toBe(rebuilt);
  });

  test('nothing to tell without a build id, with one that is no hash, or without the addon', () => {
    fs.writeFileSync(idFile, 'not a hash\n');
    expect(buildIdentity(idFile, addon)).toBeUndefined();
    fs.rmSync(idFile);
    expect(buildIdentity(idFile, addon)).toBeUndefined();
    fs.writeFileSync(idFile, 'c'.repeat(64));
    expect(buildIdentity(idFile, addon)).toMatch(new RegExp(`^${'c'.repeat(64)} addon `));
    fs.rmSync(addon);
    expect(buildIdentity(idFile, addon)).toBeUndefined();
  });

  test('the build wrote one for the code that runs (scripts/bundle.js)', () => {
    expect(buildIdentity()).toMatch(/^[0-9a-f]{64} addon \d+:\d+:\d+:[\d.]+$/);
  });
});
