// Root filesystem set-up through the CLI: an overlay mount made of layers (how image
// layers become a filesystem), --no-pivot, bind mounts with their flags, and a
// shared rootfs propagation — each checked from inside the container and on the host.

import * as fs from 'fs';
import * as path from 'path';
import { runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

describeIf(containerSkipReason())(`root filesystem (${BINARY})`, () => {
  const s = useSuite('rootfs', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  test('overlay: lower layers read, writes land in the upper dir, the lower layer is untouched', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'cat /merged/base /merged/top; echo new > /merged/added; rm /merged/base; ls /merged']) });
    const layers = path.join(b.dir, 'layers');
    for (const d of ['lower1', 'lower2', 'upper', 'work']) fs.mkdirSync(path.join(layers, d), { recursive: true });
    fs.writeFileSync(path.join(layers, 'lower1', 'base'), 'from lower1\n');
    fs.writeFileSync(path.join(layers, 'lower2', 'top'), 'from lower2\n');
    b.rewrite((c) => {
      c.mounts!.push({
        destination: '/merged',
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${layers}/lower2:${layers}/lower1`, `upperdir=${layers}/upper`, `workdir=${layers}/work`],
      });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'from lower1\nfrom lower2\nadded\ntop\n', stderr: '' });
    expect(fs.readFileSync(path.join(layers, 'upper', 'added'), 'utf8')).toBe('new\n');
    // The deletion is a whiteout in the upper layer; the lower layer keeps its file.
    expect(fs.readFileSync(path.join(layers, 'lower1', 'base'), 'utf8')).toBe('from lower1\n');
    expect(fs.statSync(path.join(layers, 'upper', 'base')).isCharacterDevice()).toBe(true);
  });

  test('--no-pivot: the container still sees only its root', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'ls /']) });
    fs.writeFileSync(path.join(b.rootfs, 'marker'), '');
    const r = s.cli.runContainer(b.id, b.dir, ['--no-pivot']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('marker');
    expect(r.stdout.split('\n')).not.toContain('work');
  });

  test('bind mounts keep their flags: ro refuses writes, nosuid/nodev/noexec reach the mount', () => {
    const shared = path.join(s.bundle().dir, 'shared');
    fs.mkdirSync(shared);
    fs.writeFileSync(path.join(shared, 'f'), 'host\n');
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', 'cat /data/f; echo x > /data/f 2>&1 || echo refused; grep " /data " /proc/self/mountinfo | cut -d" " -f6'];
        c.mounts!.push({ destination: '/data', type: 'bind', source: shared, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
      },
    });
    const r = s.cli.runContainer(b.id, b.dir);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('host');
    expect(lines).toContain('refused');
    expect(lines.at(-1)).toMatch(/^ro,nosuid,nodev,noexec/);
    expect(fs.readFileSync(path.join(shared, 'f'), 'utf8')).toBe('host\n');
  });

  test('a mount destination that is a symlink out of the rootfs stays inside it', () => {
    const outside = path.join(s.bundle().dir, 'outside');
    fs.mkdirSync(outside);
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', 'echo inside > /escape/file'];
        c.root!.readonly = false;
        c.mounts!.push({ destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      },
    });
    fs.symlinkSync(outside, path.join(b.rootfs, 'escape'));
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(0);
    // The tmpfs went on the symlink's target as resolved inside the rootfs, never on the host dir.
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
