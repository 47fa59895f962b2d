// The file operations of src/host-files.ts, through the addon's syscalls
// (addon/native/file-ops.cpp) and through Node's fs (what it falls back to without a
// built addon): what callers rely on (texts, kinds, nulls for what is not there,
// errors with code and syscall naming the file). No root needed.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as hostFiles from '../../src/host-files';
import { native } from '../../src/native';
import { systemErrorMessage } from '../../src/cli/system-error';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-host-files-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** host-files loaded afresh with an addon that cannot be loaded: its Node fs side. */
function withoutAddon(): typeof hostFiles {
  let loaded: typeof hostFiles | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../src/native', () => ({
      native: () => {
        throw new Error('no addon in this test');
      },
    }));
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    loaded = require('../../src/host-files') as typeof hostFiles;
  });
  jest.dontMock('../../src/native');
  return loaded!;
}
const viaNode = withoutAddon();

test('the Node fs side really is without the addon', () => {
  expect(viaNode.writeTextIfNative(1, 'x')).toBe(false);
  expect(hostFiles.writeTextIfNative(1, '')).toBe(true);
});

describe.each([
  ['through the addon', hostFiles, true],
  ["through Node's fs", viaNode, false],
] as const)('%s', (_how, files, viaAddon) => {
  /** The error of a syscall; its message names the file (Node's does not for a read). */
  const errnoOf = (code: string, syscall: string, file: string, namesFile = true): unknown =>
    expect.objectContaining({ code, syscall, ...(namesFile ? { message: expect.stringContaining(file) } : {}) });

  test('errors as Node\'s fs makes them: what the CLI turns into runc\'s words', () => {
    const missing = path.join(tmp, 'missing');
    expect(() => files.readText(missing)).toThrow(expect.objectContaining({ message: `ENOENT: no such file or directory, open '${missing}'`, code: 'ENOENT', errno: -2, syscall: 'open', path: missing }) as Error);
    expect(() => files.renameFile(missing, path.join(tmp, 'to'))).toThrow(expect.objectContaining({ path: missing, dest: path.join(tmp, 'to'), syscall: 'rename' }) as Error);
    let caught: unknown;
    try {
      files.makeDir(path.join(missing, 'x'), 0o700);
    } catch (e) {
      caught = e;
    }
    expect(systemErrorMessage(caught as NodeJS.ErrnoException)).toBe(`mkdir ${path.join(missing, 'x')}: no such file or directory`);
  });

  test('readText: the whole text as UTF-8, /proc files (size 0) to their end; errors name the syscall and the file', () => {
    const text = path.join(tmp, 'text');
    fs.writeFileSync(text, 'héllo ✓\n');
    expect(files.readText(text)).toBe('héllo ✓\n');
    const big = path.join(tmp, 'big');
    fs.writeFileSync(big, 'x'.repeat(3 << 20) + 'end');
    expect(files.readText(big)).toBe('x'.repeat(3 << 20) + 'end');
    // Longer than the first read's guess for a size-0 file.
    expect(files.readText('/proc/self/mountinfo')).toBe(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(files.readText('/proc/self/stat')).toMatch(/^\d+ \(/);
    expect(() => files.readText(path.join(tmp, 'missing'))).toThrow(errnoOf('ENOENT', 'open', path.join(tmp, 'missing')) as Error);
    expect(() => files.readText(tmp)).toThrow(errnoOf('EISDIR', 'read', tmp, viaAddon) as Error);
  });

  test('readTextIfExists: null for a missing file only', () => {
    expect(files.readTextIfExists(path.join(tmp, 'missing'))).toBeNull();
    fs.writeFileSync(path.join(tmp, 'empty'), '');
    expect(files.readTextIfExists(path.join(tmp, 'empty'))).toBe('');
    expect(() => files.readTextIfExists(tmp)).toThrow(errnoOf('EISDIR', 'read', tmp, viaAddon) as Error);
  });

  test('fileKind and statPath: every kind, symlinks followed only when asked, null for nothing there', () => {
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, '');
    fs.symlinkSync(file, path.join(tmp, 'link'));
    fs.symlinkSync(path.join(tmp, 'nowhere'), path.join(tmp, 'dangling'));
    child(['mkfifo', path.join(tmp, 'fifo')]);
    expect(files.fileKind(file)).toBe('file');
    expect(files.fileKind(tmp)).toBe('dir');
    expect(files.fileKind(path.join(tmp, 'link'))).toBe('symlink');
    expect(files.fileKind(path.join(tmp, 'link'), true)).toBe('file');
    expect(files.fileKind(path.join(tmp, 'fifo'))).toBe('fifo');
    expect(files.fileKind('/dev/null')).toBe('char');
    expect(files.fileKind(path.join(tmp, 'missing'))).toBeNull();
    expect(files.fileKind(path.join(file, 'below-a-file'))).toBeNull();
    expect(files.fileKind(path.join(tmp, 'dangling'))).toBe('symlink');
    expect(files.fileKind(path.join(tmp, 'dangling'), true)).toBeNull();
    expect(files.exists(path.join(tmp, 'dangling'))).toBe(false);
    expect(files.exists(path.join(tmp, 'link'))).toBe(true);

    fs.linkSync(file, path.join(tmp, 'hard'));
    fs.writeFileSync(file, 'seven b');
    fs.chmodSync(file, 0o4751);
    const st = fs.statSync(file, { bigint: true });
    expect(files.statPath(path.join(tmp, 'hard'))).toEqual({
      kind: 'file', id: `${st.dev}:${st.ino}`, rdev: '0', uid: Number(st.uid), mode: 0o4751, size: 7, mtimeNs: String(st.mtimeNs),
    });
    expect(files.statPath(path.join(tmp, 'link'), true)?.id).toBe(`${st.dev}:${st.ino}`);
    expect(files.statPath('/dev/null')?.rdev).toBe(String(fs.statSync('/dev/null').rdev));
    expect(files.statPath(path.join(tmp, 'missing'))).toBeNull();
  });

  test('statFd: the open file, or null when the fd is not open', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(files.statFd(fd)).toEqual(files.statPath('/dev/null'));
      expect(files.statFd(fd)).toMatchObject({ kind: 'char', rdev: String(fs.statSync('/dev/null').rdev) });
    } finally {
      fs.closeSync(fd);
    }
    expect(files.statFd(fd)).toBeNull();
  });

  test('makeDir, removeDir, removeFile, renameFile, listDir', () => {
    const dir = path.join(tmp, 'd');
    expect(files.makeDir(dir, 0o711)).toBe(true);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o711 & ~process.umask());
    expect(files.makeDir(dir, 0o711)).toBe(false);
    expect(() => files.makeDir(path.join(tmp, 'no', 'parent'), 0o700)).toThrow(errnoOf('ENOENT', 'mkdir', path.join(tmp, 'no', 'parent')) as Error);
    fs.writeFileSync(path.join(dir, 'a'), '');
    fs.writeFileSync(path.join(dir, 'b'), '');
    expect(files.listDir(dir).sort()).toEqual(['a', 'b']);
    expect(() => files.listDir(path.join(tmp, 'missing'))).toThrow(errnoOf('ENOENT', 'scandir', path.join(tmp, 'missing')) as Error);
    expect(() => files.removeDir(dir)).toThrow(errnoOf('ENOTEMPTY', 'rmdir', dir) as Error);
    files.renameFile(path.join(dir, 'a'), path.join(dir, 'c'));
    expect(files.listDir(dir).sort()).toEqual(['b', 'c']);
    files.removeFile(path.join(dir, 'b'));
    files.removeFile(path.join(dir, 'c'));
    expect(() => files.removeFile(path.join(dir, 'c'))).toThrow(errnoOf('ENOENT', 'unlink', path.join(dir, 'c')) as Error);
    files.removeDir(dir);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('listSubdirectories: directories only, a symlink to one not among them', () => {
    for (const d of ['a', 'b.c', '~reserve-1-x']) fs.mkdirSync(path.join(tmp, d));
    fs.writeFileSync(path.join(tmp, 'file'), '');
    fs.symlinkSync(path.join(tmp, 'a'), path.join(tmp, 'link-to-dir'));
    expect(files.listSubdirectories(tmp).sort()).toEqual(['a', 'b.c', '~reserve-1-x']);
    expect(() => files.listSubdirectories(path.join(tmp, 'missing'))).toThrow(errnoOf('ENOENT', 'scandir', path.join(tmp, 'missing')) as Error);
    expect(() => files.listSubdirectories(path.join(tmp, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }) as Error);
  });

  test('openFile is close-on-exec; writeOnce writes once; writeFile takes the flags and mode it is given', () => {
    const file = path.join(tmp, 'w');
    const fd = files.openFile(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o640);
    try {
      const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0';
      expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000); // O_CLOEXEC
      expect(files.writeOnce(fd, 'één')).toBe(Buffer.byteLength('één'));
    } finally {
      files.closeFile(fd);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('één');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640 & ~process.umask());

    const state = path.join(tmp, 'state');
    files.writeFile(state, '{"a":1}', fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    expect(fs.readFileSync(state, 'utf8')).toBe('{"a":1}');
    expect(fs.statSync(state).mode & 0o777).toBe(0o600);
    expect(() => files.writeFile(state, 'x', fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)).toThrow(errnoOf('EEXIST', 'open', state) as Error);
    fs.symlinkSync(state, path.join(tmp, 'state-link'));
    expect(() => files.writeFile(path.join(tmp, 'state-link'), 'x', fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, 0o600)).toThrow(errnoOf('ELOOP', 'open', 'state-link') as Error);
  });

  test('readTextFd reads on from the fd\'s offset; touchFd sets the times to now', () => {
    const file = path.join(tmp, 'entry');
    fs.writeFileSync(file, 'héllo entry');
    fs.utimesSync(file, new Date(1_000_000_000_000), new Date(1_000_000_000_000));
    const fd = files.openFile(file, fs.constants.O_RDONLY, 0);
    try {
      expect(files.readTextFd(fd)).toBe('héllo entry');
      expect(files.readTextFd(fd)).toBe('');
      const before = Date.now();
      files.touchFd(fd);
      expect(fs.statSync(file).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
      expect(fs.statSync(file).atimeMs).toBeGreaterThanOrEqual(before - 1000);
    } finally {
      files.closeFile(fd);
    }
      expect(() => files.readTextFd(fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'read' }) as Error);
  });

  test('sameFile: the path is still the file the fd has open', () => {
    const lock = path.join(tmp, 'lock');
    fs.writeFileSync(lock, '');
    const fd = files.openFile(lock, fs.constants.O_RDONLY, 0);
    try {
      expect(files.sameFile(fd, lock)).toBe(true);
      fs.writeFileSync(path.join(tmp, 'other'), '');
      fs.renameSync(path.join(tmp, 'other'), lock);
      expect(files.sameFile(fd, lock)).toBe(false);
      fs.unlinkSync(lock);
      expect(files.sameFile(fd, lock)).toBe(false);
    } finally {
      files.closeFile(fd);
    }
  });

  test('readLink: a symlink\'s target, null when there is none, the error for what is no symlink', () => {
    fs.symlinkSync('pipe:[123]', path.join(tmp, 'l'));
    expect(files.readLink(path.join(tmp, 'l'))).toBe('pipe:[123]');
    const long = `/${'x'.repeat(1000)}`;
    fs.symlinkSync(long, path.join(tmp, 'long'));
    expect(files.readLink(path.join(tmp, 'long'))).toBe(long);
    expect(files.readLink(path.join(tmp, 'missing'))).toBeNull();
    expect(() => files.readLink(tmp)).toThrow(errnoOf('EINVAL', 'readlink', tmp) as Error);
  });
});

test('writeTextIfNative: all of the text through a non-blocking pipe that fills up, as its reader drains it', async () => {
  const nat = native();
  const [readEnd, writeEnd] = nat.pipe();
  const out = path.join(tmp, 'out');
  const outFd = fs.openSync(out, 'w');
  const reader = spawn('cat', [], { stdio: [readEnd, outFd, 'inherit'] });
  const done = new Promise<number | null>((resolve) => reader.on('exit', resolve));
  nat.closeFd(readEnd);
  fs.closeSync(outFd);
  nat.setNonBlocking(writeEnd);
  const flags = /flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${writeEnd}`, 'utf8'))?.[1] ?? '0';
  expect(parseInt(flags, 8) & 0o4000).toBe(0o4000); // O_NONBLOCK: a full pipe answers EAGAIN
  const text = 'ü'.repeat(1 << 19); // 1 MiB of UTF-8, 16 times what the pipe holds
  try {
    expect(hostFiles.writeTextIfNative(writeEnd, text)).toBe(true);
  } finally {
    nat.closeFd(writeEnd);
  }
  expect(await done).toBe(0);
  expect(fs.readFileSync(out, 'utf8')).toBe(text);
});

function child(argv: string[]): void {
  const r = require('child_process').spawnSync(argv[0], argv.slice(1)) as { status: number | null };
  expect(r.status).toBe(0);
}
