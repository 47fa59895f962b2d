// The cache of compiled seccomp profiles (src/lifecycle/seccomp-cache.ts): taken
// again only for exactly the same input and library, rebuilt for anything else or
// anything unreadable, bounded, and never the reason a compile fails.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cachedCompiledProfile, SECCOMP_CACHE_DIR, type CompiledProfile } from '../../src/lifecycle/seccomp-cache';

describe('seccomp cache', () => {
  let root: string;
  // What native seccompLibrary tells of the file it loaded: all of it is in the key.
  const library = { version: '2.5.4', path: '/lib/libseccomp.so.2', dev: 2049, ino: 1234, size: 129312, mtimeNs: '1716662212.0' };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-seccomp-cache-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const output = (n: number): CompiledProfile => ({
    program: Buffer.alloc(8 * n, n),
    flags: n,
    listenerHandover: 'pidfd',
    listenerMetadata: `metadata ${n}`,
    unknownSyscalls: [`unknown${n}`],
    version: '2.5.4',
    warnings: [`warning ${n}`],
  });
  /** A build that counts its calls. */
  const counting = (n: number) => {
    const calls = { n: 0 };
    return { calls, build: () => (calls.n++, output(n)) };
  };
  const entries = () => fs.readdirSync(path.join(root, SECCOMP_CACHE_DIR));

  test('the same input and library: built once, then taken from the cache whole', () => {
    const b = counting(3);
    const first = cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    const second = cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    expect(b.calls.n).toBe(1);
    expect(second).toEqual(first);
    expect(second.program.equals(output(3).program)).toBe(true);
    expect(entries()).toHaveLength(1);
    expect((fs.statSync(path.join(root, SECCOMP_CACHE_DIR)).mode & 0o777).toString(8)).toBe('700');
  });

  test('another input, another library version or another library file: built again', () => {
    const b = counting(1);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    cachedCompiledProfile(root, { filter: 'b' }, library, b.build);
    cachedCompiledProfile(root, { filter: 'a' }, { ...library, version: '2.5.5' }, b.build);
    // The same path and version, but another file (a distribution's fix).
    cachedCompiledProfile(root, { filter: 'a' }, { ...library, ino: 4321 }, b.build);
    cachedCompiledProfile(root, { filter: 'a' }, { ...library, mtimeNs: '1716662999.0' }, b.build);
    expect(b.calls.n).toBe(5);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    expect(b.calls.n).toBe(5);
  });

  test('every field comes back as written, a listener path too (and none where there was none)', () => {
    const withListener: CompiledProfile = { ...output(5), listenerHandover: 'sendmsg', listenerPath: '/run/agent.sock' };
    cachedCompiledProfile(root, { filter: 'l' }, library, () => withListener);
    expect(cachedCompiledProfile(root, { filter: 'l' }, library, () => output(0))).toEqual(withListener);
    cachedCompiledProfile(root, { filter: 'n' }, library, () => output(5));
    expect(cachedCompiledProfile(root, { filter: 'n' }, library, () => output(0))).toStrictEqual(output(5));
  });

  test('a BigInt in the input is a key of its own: not the number, not the string of its digits', () => {
    const b = counting(1);
    const big = 2n ** 64n - 1n;
    cachedCompiledProfile(root, { value: big }, library, b.build);
    cachedCompiledProfile(root, { value: big }, library, b.build);
    expect(b.calls.n).toBe(1);
    cachedCompiledProfile(root, { value: big.toString() }, library, b.build);
    cachedCompiledProfile(root, { value: Number(big) }, library, b.build);
    cachedCompiledProfile(root, { value: big - 1n }, library, b.build);
    expect(b.calls.n).toBe(4);
  });

  test('an entry made from other input under the same file name (a hash collision) is not taken, and is replaced', () => {
    const b = counting(2);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    const [name] = entries();
    const file = path.join(root, SECCOMP_CACHE_DIR, name as string);
    const entry = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...entry, material: entry.material.replace('"a"', '"z"'), bpf: Buffer.alloc(8, 9).toString('base64') }));
    expect(cachedCompiledProfile(root, { filter: 'a' }, library, b.build).program.equals(output(2).program)).toBe(true);
    expect(b.calls.n).toBe(2);
    expect(cachedCompiledProfile(root, { filter: 'a' }, library, b.build).program.equals(output(2).program)).toBe(true);
    expect(b.calls.n).toBe(2);
  });

  test.each([
    ['truncated', (text: string) => text.slice(0, text.length / 2)],
    ['a program that is not whole instructions', (text: string) => JSON.stringify({ ...JSON.parse(text), bpf: Buffer.alloc(5).toString('base64') })],
    ['a program longer than the kernel loads (4,097 instructions)', (text: string) => JSON.stringify({ ...JSON.parse(text), bpf: Buffer.alloc(8 * 4097).toString('base64') })],
    ['another format', (text: string) => JSON.stringify({ ...JSON.parse(text), format: 99 })],
    ['a wrong type', (text: string) => JSON.stringify({ ...JSON.parse(text), warnings: [1] })],
    ['an unknown handover', (text: string) => JSON.stringify({ ...JSON.parse(text), listenerHandover: 'telepathy' })],
    ['flags that are no number', (text: string) => JSON.stringify({ ...JSON.parse(text), flags: '4' })],
    ['a listener path that is no string', (text: string) => JSON.stringify({ ...JSON.parse(text), listenerPath: 7 })],
    ['flags beyond 32 bits', (text: string) => JSON.stringify({ ...JSON.parse(text), flags: 2 ** 32 })],
    ['null', () => 'null'],
    ['a list', () => '[]'],
  ])('an entry that is %s is rebuilt', (_what, spoil) => {
    const b = counting(4);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    const file = path.join(root, SECCOMP_CACHE_DIR, entries()[0] as string);
    fs.writeFileSync(file, spoil(fs.readFileSync(file, 'utf8')));
    expect(cachedCompiledProfile(root, { filter: 'a' }, library, b.build)).toEqual(output(4));
    expect(b.calls.n).toBe(2);
  });

  test('at most 64 entries: those used least recently go; a name the cache does not write is left alone', () => {
    for (let i = 0; i < 70; i++) {
      const before = new Set(fs.existsSync(path.join(root, SECCOMP_CACHE_DIR)) ? entries() : []);
      cachedCompiledProfile(root, { filter: i }, library, () => output(1));
      // Each entry a second older than the next, so that the order does not hang on the clock's grain.
      const added = entries().find((n) => !before.has(n)) as string;
      const when = new Date(Date.now() - (100 - i) * 1000);
      fs.utimesSync(path.join(root, SECCOMP_CACHE_DIR, added), when, when);
    }
    expect(entries()).toHaveLength(64);
    const b = counting(1);
    cachedCompiledProfile(root, { filter: 69 }, library, b.build);
    cachedCompiledProfile(root, { filter: 6 }, library, b.build);
    expect(b.calls.n).toBe(0); // the newest 64 (6 to 69) were kept
    cachedCompiledProfile(root, { filter: 5 }, library, b.build);
    expect(b.calls.n).toBe(1); // 0 to 5 had gone
    // 6 was used just before 5 was written: 7, used least recently, went instead of 6.
    fs.writeFileSync(path.join(root, SECCOMP_CACHE_DIR, 'notes.txt'), 'not the cache\'s');
    cachedCompiledProfile(root, { filter: 100 }, library, () => output(1));
    cachedCompiledProfile(root, { filter: 6 }, library, b.build);
    expect(b.calls.n).toBe(1);
    cachedCompiledProfile(root, { filter: 7 }, library, b.build);
    expect(b.calls.n).toBe(2);
    expect(fs.existsSync(path.join(root, SECCOMP_CACHE_DIR, 'notes.txt'))).toBe(true);
  });

  test.each([
    ['a --root others may write to', () => fs.chmodSync(root, 0o777)],
    ['a cache directory others may write to', () => {
      fs.mkdirSync(path.join(root, SECCOMP_CACHE_DIR));
      fs.chmodSync(path.join(root, SECCOMP_CACHE_DIR), 0o777);
    }],
    ['a cache directory that is a symlink', () => {
      fs.mkdirSync(path.join(root, 'elsewhere'), { mode: 0o700 });
      fs.symlinkSync('elsewhere', path.join(root, SECCOMP_CACHE_DIR));
    }],
  ])('%s: nothing read or written there, built every time', (_what, arrange) => {
    arrange();
    const b = counting(1);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    expect(b.calls.n).toBe(2);
    for (const dir of [path.join(root, SECCOMP_CACHE_DIR), path.join(root, 'elsewhere')]) {
      if (fs.existsSync(dir)) expect(fs.readdirSync(dir)).toEqual([]);
    }
  });

  test('an entry that is a symlink is not followed: rebuilt, and replaced by an entry of its own', () => {
    const b = counting(1);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    const name = entries()[0] as string;
    const file = path.join(root, SECCOMP_CACHE_DIR, name);
    fs.renameSync(file, path.join(root, 'planted.json'));
    fs.symlinkSync(path.join(root, 'planted.json'), file);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    expect(b.calls.n).toBe(2);
    expect(fs.lstatSync(file).isFile()).toBe(true);
  });

  test('a write that fails leaves no partial file', () => {
    const b = counting(1);
    cachedCompiledProfile(root, { filter: 'a' }, library, b.build);
    // The entry's name taken by a directory that is not empty: the rename fails.
    const file = path.join(root, SECCOMP_CACHE_DIR, entries()[0] as string);
    fs.rmSync(file);
    fs.mkdirSync(path.join(file, 'x'), { recursive: true });
    expect(cachedCompiledProfile(root, { filter: 'a' }, library, b.build)).toEqual(output(1));
    expect(entries().filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  test('no --root yet, or no library file to name: built, nothing kept, no directory made', () => {
    const b = counting(1);
    const missing = path.join(root, 'not-yet');
    expect(cachedCompiledProfile(missing, { filter: 'a' }, library, b.build)).toEqual(output(1));
    expect(fs.existsSync(missing)).toBe(false);
    expect(cachedCompiledProfile(root, { filter: 'a' }, { version: '2.5.4', path: '' }, b.build)).toEqual(output(1));
    expect(fs.existsSync(path.join(root, SECCOMP_CACHE_DIR))).toBe(false);
    expect(b.calls.n).toBe(2);
  });

  test('a build that fails is not kept: its error reaches the caller', () => {
    expect(() => cachedCompiledProfile(root, { filter: 'a' }, library, () => { throw new Error('EARCH'); })).toThrow('EARCH');
    expect(fs.existsSync(path.join(root, SECCOMP_CACHE_DIR))).toBe(false);
  });
});
