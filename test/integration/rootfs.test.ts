// Root filesystem set-up through the CLI: an overlay mount made of layers (how image
// layers become a filesystem), --no-pivot, bind mounts with their flags, and a
// shared rootfs propagation — each checked from inside the container and on the host.

import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { flavorOf, runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();
const FLAVOR = flavorOf(BINARY);

describeIf(containerSkipReason())(`root filesystem (${BINARY})`, () => {
  const s = useSuite('rootfs', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  test('without a /dev tmpfs, an image\'s own /dev/ptmx gives way to the link to the container\'s devpts (runc\'s setupPtmx); its other /dev links are kept', () => {
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', 'readlink /dev/ptmx; readlink /dev/fd'];
        c.mounts = c.mounts!.filter((m: { destination: string }) => !['/dev', '/dev/shm', '/dev/mqueue'].includes(m.destination));
      },
    });
    const dev = path.join(b.rootfs, 'dev');
    fs.mkdirSync(dev, { recursive: true });
    fs.rmSync(path.join(dev, 'ptmx'), { force: true });
    fs.rmSync(path.join(dev, 'fd'), { force: true });
    fs.symlinkSync('/nowhere/ptmx', path.join(dev, 'ptmx'));
    fs.symlinkSync('/image/fd', path.join(dev, 'fd'));
    expect(expectOk(s.cli.runContainer(b.id, b.dir)).stdout).toBe('pts/ptmx\n/image/fd\n');
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

  test('--no-pivot leaves no whole host proc or sysfs in the container\'s namespace: a user namespace inside cannot mount a fresh, unmasked proc (runc)', () => {
    const b = s.bundle({
      configure: (c) => {
        // unshare -r writes a uid map: CAP_SETFCAP, as in runc's own test of this.
        c.process!.args = ['unshare', '-mrpf', 'sh', '-c', 'mount -t proc none /proc && echo mounted'];
        for (const set of ['bounding', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_SETFCAP');
      },
    });
    const r = s.cli.runContainer(b.id, b.dir, ['--no-pivot']);
    // The kernel allows a new proc in a user namespace only where one is fully visible
    // already: the host's, under the moved root, was.
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/permission denied/);
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

  // runc 1.2 remounts such a bind with the flags asked for alone, dropping the source's.
  // runc 1.2 remounts any bind given an option with the flags asked for alone (1.1 only
  // one that sets a flag), dropping the source's read-only, nosuid, nodev and noexec.
  (FLAVOR === 'tsrun' ? test : test.skip)('a bind keeps its source\'s nosuid, nodev and noexec unless an option clears one by name (suid, dev, exec); one that only clears flags keeps them all', () => {
    const src = path.join(s.bundle().dir, 'nosuid-src');
    const roSrc = path.join(s.bundle().dir, 'ro-src');
    fs.mkdirSync(src);
    fs.mkdirSync(roSrc);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'nosuid,nodev,noexec,size=1m', 'tsrun-test', src]).status).toBe(0);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tsrun-test', roSrc]).status).toBe(0);
    const binds: [string, string, string[]][] = [
      // containerd's writable volume: only a flag cleared, no remount.
      ['/rw', src, ['rbind', 'rprivate', 'rw']],
      // containerd's read-only volume: remounted ro, the source's flags kept.
      ['/ro', src, ['rbind', 'rprivate', 'ro']],
      ['/exec', src, ['rbind', 'rprivate', 'rw', 'exec', 'nosymfollow']],
      ['/all', src, ['rbind', 'ro', 'suid', 'dev', 'exec']],
      // An id-mapped bind is remounted from its own tree: the same rule.
      ['/idmap', src, ['rbind', 'ro', 'idmap']],
      // Read-only is the options' to say (the kernel reports a read-only superblock as
      // a read-only mount): asked for another flag, a read-only source is bound writable...
      ['/ro-src', roSrc, ['rbind', 'nosuid']],
      // ...but only clearing a flag, it is not remounted at all.
      ['/ro-src-rw', roSrc, ['rbind', 'rw']],
    ];
    try {
      const b = s.bundle({
        configure: (c) => {
          c.process!.args = ['sh', '-c', `for d in ${binds.map(([d]) => d).join(' ')}; do grep " $d " /proc/self/mountinfo | cut -d" " -f6; done`];
          for (const [destination, source, options] of binds) {
            const mapping = options.includes('idmap') ? { uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 0, size: 65536 }] } : {};
            c.mounts!.push({ destination, type: 'bind', source, options, ...mapping });
          }
        },
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const flags = r.stdout.trim().split('\n').map((line) => line.split(',').filter((o) => !o.endsWith('time') && o !== 'idmapped').join(','));
      expect(Object.fromEntries(binds.map(([d], k) => [d, flags[k]]))).toEqual({
        '/rw': 'rw,nosuid,nodev,noexec',
        '/ro': 'ro,nosuid,nodev,noexec',
        '/exec': 'rw,nosuid,nodev,nosymfollow',
        '/all': 'ro',
        '/idmap': 'ro,nosuid,nodev,noexec',
        '/ro-src': 'rw,nosuid',
        '/ro-src-rw': 'ro',
      });
    } finally {
      spawnSync('umount', [src]);
      spawnSync('umount', [roSrc]);
    }
  });

  test("a bound /dev is left as it is: neither the default devices nor the config's are made in the directory behind it", () => {
    const hostDev = path.join(s.bundle().dir, 'hostdev');
    fs.mkdirSync(hostDev);
    fs.writeFileSync(path.join(hostDev, 'null'), 'a plain file\n', { mode: 0o600 });
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', 'ls /dev'];
        // Masking binds /dev/null, which tsrun checks is the null device: here it is not.
        c.linux!.maskedPaths = [];
        c.linux!.devices = [
          { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 },
        ];
        c.mounts!.push({ destination: '/dev', type: 'bind', source: hostDev, options: ['rbind'] });
      },
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'null\n', stderr: '' });
    expect(fs.readdirSync(hostDev)).toEqual(['null']);
    const st = fs.statSync(path.join(hostDev, 'null'));
    expect({ file: st.isFile(), mode: st.mode & 0o777 }).toEqual({ file: true, mode: 0o600 });
  });

  test.each(['rshared', 'shared', 'rslave'])('rootfsPropagation %s with the rootfs on a shared mount: the container runs, none of its mounts appear on the host', (propagation) => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'grep -c . /proc/self/mountinfo >/dev/null && echo ok']) });
    // The bundle dir becomes a shared mount of its own, as / is on a systemd host.
    const sh = (cmd: string[]): void => {
      const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
    };
    const mountsUnder = (): string[] => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${b.dir}/`));
    sh(['mount', '--bind', b.dir, b.dir]);
    try {
      sh(['mount', '--make-shared', b.dir]);
      b.rewrite((c) => (c.linux!.rootfsPropagation = propagation));
      const created = s.cli.create(b.id, b.dir);
      expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
      // Parked at the FIFO, every mount of the container is made.
      expect(mountsUnder()).toEqual([]);
      expect(s.cli.start(b.id).code).toBe(0);
      expect(mountsUnder()).toEqual([]);
    } finally {
      s.forceClean();
      spawnSync('umount', ['-R', '-l', b.dir]);
    }
  });

  test('rootfsPropagation rslave (the default) with the rootfs on a shared mount: a mount the host makes there later reaches the container, as with runc', async () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['ls', '/mnt']) });
    const sh = (cmd: string[]): void => {
      const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
    };
    fs.mkdirSync(path.join(b.rootfs, 'mnt'), { recursive: true });
    sh(['mount', '--bind', b.dir, b.dir]);
    try {
      sh(['mount', '--make-shared', b.dir]);
      // The container's stdout is create's.
      const out = path.join(b.dir, 'out');
      expectOk(s.cli.create(b.id, b.dir, [], { stdoutFile: out }));
      // After the container's mounts are made: only propagation can bring it in.
      sh(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', path.join(b.rootfs, 'mnt')]);
      fs.writeFileSync(path.join(b.rootfs, 'mnt', 'from-host'), '');
      expectOk(s.cli.start(b.id));
      await s.cli.waitStatus(b.id, 'stopped');
      expect(fs.readFileSync(out, 'utf8')).toBe('from-host\n');
    } finally {
      s.forceClean();
      spawnSync('umount', ['-R', '-l', b.dir]);
    }
  });

  test('mounts the config makes shared stay shared in the container (a tmpfs "shared", a bind "rshared"), as with runc', () => {
    const b = s.bundle({
      configure: (c) => (c.process!.args = ['sh', '-c', 'grep -E " /(m1|m2) " /proc/self/mountinfo | cut -d" " -f5,7 | sed "s/:[0-9]*/:N/"']),
    });
    const src = fs.mkdtempSync(path.join(s.env.tmp, 'shared-src-'));
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/m1', type: 'bind', source: src, options: ['rbind', 'rshared'] });
      c.mounts!.push({ destination: '/m2', type: 'tmpfs', source: 'tmpfs', options: ['size=64k', 'shared'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    // Before the old root was told apart from the new one, the pivot made these slaves.
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '/m1 shared:N\n/m2 shared:N\n', stderr: '' });
  });

  test('a mount\'s propagation words apply in their order: "rprivate", "rshared" on a shared source is a peer group of its own, nothing the container mounts there reaches the host (runc)', () => {
    const b = s.bundle({
      configure: (c) => {
        c.process!.args = ['sh', '-c', 'mount -t tmpfs -o size=64k inner /mnt/b/ci && echo mounted'];
        for (const set of ['bounding', 'effective', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
        c.linux!.rootfsPropagation = 'rshared';
      },
    });
    const src = fs.mkdtempSync(path.join(s.env.tmp, 'peer-src-'));
    fs.mkdirSync(path.join(src, 'ci'));
    const sh = (cmd: string[]): void => {
      const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr}`);
    };
    const hostMountsUnder = (): string[] => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${src}/`));
    sh(['mount', '--bind', src, src]);
    try {
      sh(['mount', '--make-rshared', src]);
      b.rewrite((c) => c.mounts!.push({ destination: '/mnt/b', type: 'bind', source: src, options: ['rbind', 'rprivate', 'rshared'] }));
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'mounted\n', stderr: '' });
      // Before, only the last word applied: the bind stayed the host's peer and the
      // container's tmpfs appeared (and stayed) at <src>/ci on the host.
      expect(hostMountsUnder()).toEqual([]);
    } finally {
      s.forceClean();
      spawnSync('umount', ['-R', '-l', src]);
    }
  });

  test('the cgroup mount\'s propagation words reach its tmpfs and every bind under it (runc)', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'grep " /sys/fs/cgroup" /proc/self/mountinfo | cut -d" " -f7']) });
    const run = (word: string): string[] => {
      b.rewrite((c) => {
        c.linux!.rootfsPropagation = 'rshared';
        const cg = c.mounts!.find((m: { type?: string }) => m.type === 'cgroup')!;
        cg.options = [...(cg.options ?? []).filter((o: string) => !/shared|slave|private/.test(o)), word];
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expectOk(r);
      return r.stdout.split('\n').filter(Boolean);
    };
    const shared = run('rshared');
    expect(shared.length).toBeGreaterThan(1);
    expect(shared.every((f) => f.startsWith('shared:'))).toBe(true);
    // Under a shared root the binds would be shared too, had rslave not applied.
    expect(run('rslave').filter((f) => f.startsWith('shared:'))).toEqual([]);
  });

  // runc 1.1.5 leaves a shared root private and fails an unbindable one with EINVAL
  // (fixed in newer runc, whose mounts_propagation.bats checks "shared").
  (FLAVOR === 'tsrun' ? test.each : test.skip.each)([
    ['shared', [], 'shared:N'],
    ['rshared', [], 'shared:N'],
    ['unbindable', [], 'unbindable'],
    ['runbindable', [], 'unbindable'],
    ['shared', ['--no-pivot'], 'shared:N'],
  ])('rootfsPropagation %s %j: the container\'s root mount has it', (propagation, flags, expected) => {
    const b = s.bundle({
      configure: (c) => {
        // The optional fields of the mount at "/": its propagation, "-" for private.
        c.process!.args = ['sh', '-c', 'grep -E "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / " /proc/self/mountinfo | cut -d" " -f7 | sed "s/:[0-9]*/:N/"'];
        c.linux!.rootfsPropagation = propagation;
        // Bound from the root mount itself, which an unbindable one must not refuse.
        c.linux!.readonlyPaths = [...(c.linux!.readonlyPaths ?? []), '/etc'];
      },
    });
    const r = s.cli.runContainer(b.id, b.dir, flags as string[]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${expected}\n`, stderr: '' });
  });

  test('--no-pivot refuses a private rootfsPropagation: the host\'s mounts stay in the container\'s namespace, and a private one would hold what the host unmounts (runc)', () => {
    const b = s.bundle({ configure: (c) => (c.linux!.rootfsPropagation = 'rprivate') });
    const r = s.cli.runContainer(b.id, b.dir, ['--no-pivot']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rprivate is not safe without pivot_root|rootfsPropagation of \[r\]private is not safe without pivot_root/);
    expect(s.cli.stateRaw(b.id).code).toBe(1);
  });

  test('a device whose path names a file of the image is refused, and the file is left as it was (the spec; runc keeps it silently)', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['cat', '/victim']) });
    fs.writeFileSync(path.join(b.rootfs, 'victim'), 'image content\n');
    b.rewrite((c) => (c.linux!.devices = [{ path: '/victim', type: 'c', major: 1, minor: 3 }]));
    const r = s.cli.runContainer(b.id, b.dir);
    if (FLAVOR === 'tsrun') {
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(/mknod victim: a file is already there, not the device asked for/);
    }
    // Before, tsrun unlinked it and left a device node in the image.
    const st = fs.lstatSync(path.join(b.rootfs, 'victim'));
    expect({ file: st.isFile(), content: fs.readFileSync(path.join(b.rootfs, 'victim'), 'utf8') }).toEqual({ file: true, content: 'image content\n' });
  });

  test('a device node already at the path, the same device, is left as it is (its mode too: it may be the host\'s), as with runc', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'stat -c %a /mynull && echo x > /mynull && echo wrote']) });
    expect(spawnSync('mknod', ['-m', '0644', path.join(b.rootfs, 'mynull'), 'c', '1', '3']).status).toBe(0);
    b.rewrite((c) => (c.linux!.devices = [{ path: '/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o600 }]));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '644\nwrote\n', stderr: '' });
  });

  test('a config device at a default device\'s path takes its place: its node, mode and owner (runc)', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['stat', '-c', '%n %a %t:%T %u:%g', '/dev/random', '/dev/zero']) });
    b.rewrite((c) => {
      c.linux!.devices = [
        { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o444, uid: 1000, gid: 1000 },
        { path: '/dev/zero', type: 'c', major: 1, minor: 7, fileMode: 0o600 },
      ];
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '/dev/random 444 1:8 1000:1000\n/dev/zero 600 1:7 0:0\n', stderr: '' });
  });

  test('the dirs made for a config device are 0755 under a caller\'s umask of 077, and a non-root process reaches the device (runc)', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'stat -c %a /dev/sub /dev/sub/deeper && echo x > /dev/sub/deeper/null && echo wrote']) });
    b.rewrite((c) => {
      c.process!.user = { uid: 1000, gid: 1000 };
      c.linux!.devices = [{ path: '/dev/sub/deeper/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    });
    const saved = process.umask(0o077);
    let r;
    try {
      r = s.cli.runContainer(b.id, b.dir);
    } finally {
      process.umask(saved);
    }
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '755\n755\nwrote\n', stderr: '' });
  });

  test('a config mount over a default device\'s path takes its place (docker run -v /dev/urandom:/dev/random), as with runc', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['stat', '-c', '%t:%T', '/dev/random']) });
    b.rewrite((c) => c.mounts!.push({ destination: '/dev/random', type: 'bind', source: '/dev/urandom', options: ['bind'] }));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '1:9\n', stderr: '' });
  });

  test('a file bound where the image has nothing gets a mount point file of mode 0755 in the rootfs, as runc makes it', () => {
    const source = path.join(s.env.tmp, `bound-file-${process.pid}`);
    fs.writeFileSync(source, 'bound\n');
    const b = s.bundle({ configure: (c) => (c.process!.args = ['cat', '/etc/bound']) });
    b.rewrite((c) => c.mounts!.push({ destination: '/etc/bound', type: 'bind', source, options: ['bind', 'ro'] }));
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'bound\n', stderr: '' });
    expect((fs.statSync(path.join(b.rootfs, 'etc', 'bound')).mode & 0o7777).toString(8)).toBe('755');
  });

  test('a bind keeps its source\'s noatime when it asks for no access-time option; the /sys/fs/cgroup tmpfs is nosuid, nodev, noexec whatever the config says (runc)', () => {
    const src = fs.mkdtempSync(path.join(s.env.tmp, 'noatime-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'noatime,size=1m', 'tsrun-test', src]).status).toBe(0);
    try {
      const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', "awk '$5 == \"/a\" || $5 == \"/sys/fs/cgroup\" { print $5, $6 }' /proc/self/mountinfo"]) });
      b.rewrite((c) => {
        c.mounts!.push({ destination: '/a', type: 'bind', source: src, options: ['bind', 'ro'] });
        const cg = c.mounts!.find((m: { destination: string }) => m.destination === '/sys/fs/cgroup')!;
        cg.options = ['rw'];
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '/sys/fs/cgroup rw,nosuid,nodev,noexec,relatime\n/a ro,noatime\n', stderr: '' });
    } finally {
      spawnSync('umount', [src]);
    }
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

  test('a destination written as a host path in the rootfs names that place in the container; a bind source in the rootfs sees the mounts made before it (runc)', () => {
    const b = s.bundle();
    const volume = path.join(b.dir, 'volume');
    fs.mkdirSync(volume);
    fs.writeFileSync(path.join(volume, 'file'), 'from the volume\n');
    fs.mkdirSync(path.join(b.rootfs, 'mnt', 'a'), { recursive: true });
    fs.mkdirSync(path.join(b.rootfs, 'final'));
    b.rewrite((c) => {
      c.process!.args = ['cat', '/final/file'];
      c.mounts!.push(
        { destination: '/mnt/a', type: 'bind', source: volume, options: ['rbind'] },
        // Both in the host's words: the rootfs's own path, then the container path.
        { destination: path.join(b.rootfs, 'final'), type: 'bind', source: path.join(b.rootfs, 'mnt', 'a'), options: ['rbind'] },
      );
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'from the volume\n', stderr: '' });
    // Nothing was made at the rootfs's path repeated under the rootfs (runc 1.1.5
    // makes those directories too, empty, besides mounting at the right place).
    expect(fs.existsSync(path.join(b.rootfs, b.rootfs))).toBe(FLAVOR !== 'tsrun');
  });

  // runc 1.1.5 has no id-mapped mounts (it ignores idmap).
  (FLAVOR === 'runc' ? test.skip : test)('an id-mapped source in the rootfs is mapped after the mounts before it: the volume bound there, its ids shifted', () => {
    const b = s.bundle();
    const volume = path.join(b.dir, 'volume');
    fs.mkdirSync(volume);
    fs.writeFileSync(path.join(volume, 'file'), 'from the volume\n');
    for (const d of ['mnt/a', 'final']) fs.mkdirSync(path.join(b.rootfs, d), { recursive: true });
    b.rewrite((c) => {
      c.process!.args = ['sh', '-c', 'cat /final/file; stat -c %u /final/file /mnt/a/file'];
      c.mounts!.push(
        { destination: '/mnt/a', type: 'bind', source: volume, options: ['rbind'] },
        { destination: '/final', type: 'bind', source: path.join(b.rootfs, 'mnt', 'a'), options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 5, size: 1 }], gidMappings: [{ containerID: 0, hostID: 6, size: 1 }] },
      );
    });
    const r = s.cli.runContainer(b.id, b.dir);
    // The file is root's on disk: uid 5 through the mapping, 0 through the plain bind.
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: 'from the volume\n5\n0\n', stderr: '' });
  });

  test('recursive options reach the mounts below a bind (rro, rnosuid); nosymfollow refuses symlinks', () => {
    const b = s.bundle({
      configure: (c) => (c.process!.args = ['sh', '-c', [
        '(touch /r/x) 2>&1 | cut -d: -f3', '(touch /r/sub/y) 2>&1 | cut -d: -f3',
        'grep -E " /r(/sub)? " /proc/self/mountinfo | cut -d" " -f5,6',
        '(ls /n/link/) 2>&1 | cut -d: -f3', 'ls /n/sub/', 'touch /n/sub/z && echo n-writable',
      ].join('; ')]),
    });
    const src = path.join(s.env.tmp, `rec-${b.id}`);
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.symlinkSync('sub', path.join(src, 'link'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', path.join(src, 'sub')]).status).toBe(0);
    try {
      fs.writeFileSync(path.join(src, 'sub', 'in-sub'), '');
      b.rewrite((c) => {
        c.mounts!.push({ destination: '/r', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid'] });
        c.mounts!.push({ destination: '/n', type: 'bind', source: src, options: ['rbind', 'nosymfollow'] });
      });
      const r = s.cli.runContainer(b.id, b.dir);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 0,
        stdout: ' Read-only file system\n Read-only file system\n/r ro,nosuid,relatime\n/r/sub ro,nosuid,relatime\n Too many levels of symbolic links\nin-sub\nn-writable\n',
        stderr: '',
      });
    } finally {
      spawnSync('umount', [path.join(src, 'sub')]);
    }
  });

  test('rro on a tmpfs: the bind mounted under it later still gets made, then both are read-only', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', '(touch /t/x) 2>&1 | cut -d: -f3; (touch /t/b/y) 2>&1 | cut -d: -f3; ls /t/b']) });
    const src = path.join(s.env.tmp, `rro-${b.id}`);
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'in-b'), '');
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['rro'] });
      c.mounts!.push({ destination: '/t/b', type: 'bind', source: src, options: ['rbind'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    // runc 1.1.5 applies recursive options to bind mounts only: its /t stays writable.
    const expected = FLAVOR === 'tsrun' ? ' Read-only file system\n Read-only file system\nin-b\n' : r.stdout;
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  /** An image dir for the tmpfs tests: a file owned by 1000, a symlink, a sticky subdir holding a 0600 file. */
  function imageDir(rootfs: string, name: string, mode: number): void {
    const dir = path.join(rootfs, name);
    fs.mkdirSync(path.join(dir, 'sub', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'f'), 'content\n');
    fs.chownSync(path.join(dir, 'f'), 1000, 1000);
    fs.symlinkSync('f', path.join(dir, 'link'));
    fs.writeFileSync(path.join(dir, 'sub', 'deeper', 'g'), 'secret\n', { mode: 0o600 });
    fs.chmodSync(path.join(dir, 'sub'), 0o1755);
    fs.chmodSync(dir, mode);
  }

  const LIST = 'for p in /d /d/f /d/link /d/sub /d/sub/deeper /d/sub/deeper/g; do stat -c "%a %u:%g %F %n" $p; done; cat /d/f /d/sub/deeper/g; readlink /d/link';

  test('tmpcopyup: the tmpfs starts with a copy of the directory it covers, owners and modes kept; the image is untouched', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', `${LIST}; echo new > /d/added; grep " /d " /proc/self/mountinfo | cut -d" " -f9`]) });
    imageDir(b.rootfs, 'd', 0o750);
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toBe([
      '750 0:0 directory /d',
      '644 1000:1000 regular file /d/f',
      '777 0:0 symbolic link /d/link',
      '1755 0:0 directory /d/sub',
      '755 0:0 directory /d/sub/deeper',
      '600 0:0 regular file /d/sub/deeper/g',
      'content', 'secret', 'f', 'tmpfs', '',
    ].join('\n'));
    expect(fs.existsSync(path.join(b.rootfs, 'd', 'added'))).toBe(false);
  });

  test('a tmpfs over a directory takes its mode and starts empty; a read-only one with tmpcopyup is filled, then read-only', () => {
    const b = s.bundle({
      configure: (c) => (c.process!.args = ['sh', '-c', 'stat -c "%a %n" /d /e; ls -A /d; cat /e/f; touch /e/x 2>/dev/null || echo e-read-only']),
    });
    imageDir(b.rootfs, 'd', 0o700);
    imageDir(b.rootfs, 'e', 0o755);
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      c.mounts!.push({ destination: '/e', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '700 /d\n755 /e\ncontent\ne-read-only\n', stderr: '' });
  });

  // runc 1.1.5 chmods the directory's mode over the option (newer runc's run.bats "tmpfs perms").
  (FLAVOR === 'tsrun' ? test : test.skip)('a tmpfs\'s own mode= wins over the mode of the directory it covers, where it exists or not', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'stat -c "%a %n" /d /n']) });
    imageDir(b.rootfs, 'd', 0o710);
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=0410'] });
      c.mounts!.push({ destination: '/n', type: 'tmpfs', source: 'tmpfs', options: ['mode=0444', 'size=64k'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: '410 /d\n444 /n\n', stderr: '' });
  });

  // runc 1.1.5 fails on these (its copy cannot lchown a FIFO); podman --read-only
  // images can hold them.
  (FLAVOR === 'tsrun' ? test : test.skip)('tmpcopyup copies FIFOs and device nodes as nodes', () => {
    const b = s.bundle({ configure: (c) => (c.process!.args = ['sh', '-c', 'stat -c "%a %F %t:%T %n" /d/fifo /d/null']) });
    const dir = path.join(b.rootfs, 'd');
    fs.mkdirSync(dir);
    expect(spawnSync('mkfifo', ['-m', '0640', path.join(dir, 'fifo')]).status).toBe(0);
    expect(spawnSync('mknod', ['-m', '0666', path.join(dir, 'null'), 'c', '1', '3']).status).toBe(0);
    b.rewrite((c) => {
      c.mounts!.push({ destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    });
    const r = s.cli.runContainer(b.id, b.dir);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 0, stdout: '640 fifo 0:0 /d/fifo\n666 character special file 1:3 /d/null\n', stderr: '',
    });
  });
});
