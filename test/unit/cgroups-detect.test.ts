import * as fs from 'fs';
import { detectLayout, mountIsSeen, parseCgroupMounts } from '../../src/cgroups/detect';
import { cleanCgroupPath, innerCgroupPath, parseProcCgroup, resolveCgroupDir } from '../../src/cgroups/path';
import { CgroupError, ConfigError } from '../../src/errors';
import { youngGrowthOf } from '../helpers/young-generation';

// This machine's mountinfo (hybrid), verbatim.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const SELF = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/898b8afcadaf2fc9acb314af8d7016bd
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;
const UNIFIED = `22 1 0:21 / /proc rw - proc proc rw
30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const LEGACY = `32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer,clone_children
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
99 1 0:33 / /mnt/elsewhere/devices rw,relatime - cgroup cgroup rw,devices
`;

describe('detectLayout', () => {
  test('hybrid: every v1 hierarchy plus the unified one, keyed by mount dir', () => {
    const info = detectLayout(HYBRID);
    expect(info.layout).toBe('hybrid');
    expect(info.hierarchies.map((h) => h.key)).toEqual(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified']);
    expect(info.hierarchies.find((h) => h.key === 'systemd')?.controllers).toEqual(['name=systemd']);
    expect(info.hierarchies.find((h) => h.key === 'unified')).toMatchObject({ kind: 'v2', mountPoint: '/sys/fs/cgroup/unified' });
  });
  test('unified', () => {
    const info = detectLayout(UNIFIED);
    expect(info.layout).toBe('unified');
    expect(info.hierarchies).toEqual([{ kind: 'v2', key: 'unified', mountPoint: '/sys/fs/cgroup', mountRoot: '/', controllers: [] }]);
  });
  test('legacy: co-mounted controllers, mount flags dropped, mounts outside the root ignored', () => {
    const info = detectLayout(LEGACY);
    expect(info.layout).toBe('legacy');
    expect(info.hierarchies.map((h) => [h.key, h.controllers])).toEqual([
      ['cpu,cpuacct', ['cpu', 'cpuacct']],
      ['devices', ['devices']],
      ['freezer', ['freezer']],
      ['systemd', ['name=systemd']],
    ]);
  });
  test('a different root', () => {
    const info = detectLayout(HYBRID.replace(/\/sys\/fs\/cgroup/g, '/tmp/fake root'.replace(' ', '\\040')), '/tmp/fake root');
    expect(info.layout).toBe('hybrid');
    expect(info.hierarchies[0].mountPoint).toBe('/tmp/fake root/cpu');
  });
  test('mount points taken as written when normalized, resolved otherwise; keys relative to the root, also /', () => {
    const odd = HYBRID.replace('/sys/fs/cgroup/cpu ', '/sys/fs/cgroup//cpu ').replace('/sys/fs/cgroup/memory ', '/sys/fs/cgroup/./memory/ ').replace('/sys/fs/cgroup/pids ', '/sys/fs/cgroup/x/../pids ');
    expect(detectLayout(odd)).toEqual(detectLayout(HYBRID));
    const fromSlash = detectLayout(HYBRID, '/');
    expect(fromSlash.hierarchies.map((h) => [h.key, h.mountPoint]).slice(0, 2)).toEqual([
      ['sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu'],
      ['sys/fs/cgroup/cpuacct', '/sys/fs/cgroup/cpuacct'],
    ]);
    expect(detectLayout(HYBRID, '/sys/fs/cgroup/').hierarchies[0].key).toBe('cpu');
  });
  test('no cgroup mounted', () => {
    expect(() => detectLayout('22 1 0:21 / /proc rw - proc proc rw\n')).toThrow(CgroupError);
    expect(() => detectLayout(HYBRID, '/elsewhere')).toThrow(/no cgroup filesystem/);
  });
  test('parseCgroupMounts decodes octal escapes', () => {
    expect(parseCgroupMounts('1 2 0:3 /a\\040b /x\\011y rw - cgroup2 none rw\n')).toEqual([
      { mountPoint: '/x\ty', root: '/a b', dev: '0:3', fstype: 'cgroup2', controllers: [] },
    ]);
  });
  test('only cgroup lines count, among thousands of others', () => {
    // A busy host: each container's rootfs and shm mounts, before and after the cgroup ones.
    const others = (from: number): string => Array.from({ length: 1500 }, (_, i) => `${from + i} 28 0:${100 + i} / /run/containerd/task/k${i}/rootfs rw,relatime shared:${i} - overlay overlay rw,lowerdir=/l${i},upperdir=/u${i}\n`).join('');
    const busy = `${others(1000)}${HYBRID}${others(5000)}`;
    const expected = parseCgroupMounts(HYBRID);
    expect(expected).toHaveLength(10);
    expect(parseCgroupMounts(busy)).toEqual(expected);
    expect(detectLayout(busy)).toEqual(detectLayout(HYBRID));
    // Only the cgroup lines are split: splitting all 3,000 left ~1.6 MB behind.
    expect(youngGrowthOf(() => parseCgroupMounts(busy))).toBeLessThan(64 * 1024);
    // A type that only begins like cgroup's, the last line without its newline, a
    // mount point beyond ASCII.
    const edge = '1 2 0:3 / /sys/fs/cgroup/x rw - cgroupfs none rw\n2 2 0:4 / /sys/fs/cgroup/d\u00e9j\u00e0 rw - cgroup cgroup rw,pids';
    expect(parseCgroupMounts(edge)).toEqual([{ mountPoint: '/sys/fs/cgroup/d\u00e9j\u00e0', root: '/', dev: '0:4', fstype: 'cgroup', controllers: ['pids'] }]);
  });
  // A container with a cgroup namespace whose /sys is a recursive bind of the host's
  // (a user namespace cannot mount sysfs: rootless podman, a runtime nested in a
  // user-namespaced container) and which mounts its own hierarchies over
  // /sys/fs/cgroup: the host's mounts stay listed under the new tmpfs (roots /../..),
  // /sys/fs/cgroup/unified among them, where the tmpfs on top has no such dir.
  const COVERED = `288 282 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
289 288 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
290 289 0:29 /../.. /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
293 289 0:32 /../.. /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
298 289 0:37 /../.. /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
299 289 0:38 /../.. /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
301 289 0:119 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755,uid=100000,gid=100000
302 301 0:29 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
305 301 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
310 301 0:37 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd
`;
  test('mounts covered by a later one are not hierarchies: the last at a mount point wins, and those the host sees nothing of are dropped', () => {
    // At one mount point, the one on top (listed last): its root, not the covered one's.
    const listed = detectLayout(COVERED);
    expect(listed.hierarchies.find((h) => h.key === 'memory')).toMatchObject({ mountPoint: '/sys/fs/cgroup/memory', mountRoot: '/' });
    // The covered unified mount has no mount on top at its own point: only the
    // filesystem can tell (mountIsSeen: stat of the mount point, its device).
    const seenDevs = new Set(['0:29', '0:32', '0:37']);
    const info = detectLayout(COVERED, '/sys/fs/cgroup', (m) => seenDevs.has(m.dev));
    expect(info.layout).toBe('legacy');
    expect(info.hierarchies.map((h) => [h.key, h.mountRoot])).toEqual([['cpu', '/'], ['memory', '/'], ['systemd', '/']]);
  });
  test('mountIsSeen: the mount at a path, by its device; a path that is not there is not seen', () => {
    const st = fs.statSync('/proc', { bigint: true });
    const dev = `${Number((st.dev >> 8n) & 0xfffn)}:${Number((st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn))}`;
    expect(mountIsSeen({ mountPoint: '/proc', root: '/', dev, fstype: 'cgroup2', controllers: [] })).toBe(true);
    expect(mountIsSeen({ mountPoint: '/proc', root: '/', dev: '0:999999', fstype: 'cgroup2', controllers: [] })).toBe(false);
    expect(mountIsSeen({ mountPoint: '/nonexistent/tsrun-test', root: '/', dev, fstype: 'cgroup2', controllers: [] })).toBe(false);
  });
});

describe('cgroupsPath resolution (runc cgroupfs rules)', () => {
  test.each([
    ['', ''],
    ['/a/b', '/a/b'],
    ['/a/../../b', '/b'],
    ['/a/b/', '/a/b'],
    ['//a//b', '/a/b'],
    ['a/b', 'a/b'],
    ['../../etc', 'etc'],
    ['a/../../..', '.'],
    ['./a/./b/', 'a/b'],
  ])('cleanCgroupPath(%j) = %j', (input, expected) => {
    expect(cleanCgroupPath(input)).toBe(expected);
  });
  test('empty cgroupsPath means the relative path <id>; root or self is refused', () => {
    expect(innerCgroupPath('', 'c1')).toBe('c1');
    expect(innerCgroupPath(undefined, 'c1')).toBe('c1');
    expect(() => innerCgroupPath('/', 'c1')).toThrow(ConfigError);
    expect(() => innerCgroupPath('..', 'c1')).toThrow(/names no cgroup of its own/);
  });
  test('parseProcCgroup', () => {
    const own = parseProcCgroup(SELF + '10:cpu,cpuacct:/x\n');
    expect(own.get('memory')).toBe('/process_api/898b8afcadaf2fc9acb314af8d7016bd');
    expect(own.get('name=systemd')).toBe('/');
    expect(own.get('')).toBe('/');
    expect(own.get('cpuacct')).toBe('/x');
  });

  const info = detectLayout(HYBRID);
  const h = (key: string) => info.hierarchies.find((x) => x.key === key)!;
  const own = () => parseProcCgroup(SELF);
  test('absolute: below every mount point, own cgroup not consulted', () => {
    const never = () => {
      throw new Error('must not read /proc/self/cgroup');
    };
    expect(resolveCgroupDir(h('memory'), '/tsrun-test/c1', false, never)).toBe('/sys/fs/cgroup/memory/tsrun-test/c1');
    expect(resolveCgroupDir(h('unified'), '/tsrun-test/c1', false, never)).toBe('/sys/fs/cgroup/unified/tsrun-test/c1');
  });
  test('relative, v1 and hybrid unified: below the own cgroup', () => {
    expect(resolveCgroupDir(h('memory'), 'c1', false, own)).toBe('/sys/fs/cgroup/memory/process_api/898b8afcadaf2fc9acb314af8d7016bd/c1');
    expect(resolveCgroupDir(h('cpu'), 'c1', false, own)).toBe('/sys/fs/cgroup/cpu/c1');
    expect(resolveCgroupDir(h('unified'), 'c1', false, own)).toBe('/sys/fs/cgroup/unified/c1');
  });
  test('relative, unified layout: below the parent of the own cgroup', () => {
    const u = detectLayout(UNIFIED).hierarchies[0];
    const self = () => parseProcCgroup('0::/user.slice/user-0.slice/session-1.scope\n');
    expect(resolveCgroupDir(u, 'c1', true, self)).toBe('/sys/fs/cgroup/user.slice/user-0.slice/c1');
    expect(resolveCgroupDir(u, 'c1', true, () => parseProcCgroup('0::/\n'))).toBe('/sys/fs/cgroup/c1');
  });
  test('a mount showing a subtree: own path taken relative to the mount root', () => {
    const info2 = detectLayout('1 0 0:1 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
    const mem = info2.hierarchies[0];
    expect(resolveCgroupDir(mem, 'c1', false, () => parseProcCgroup('4:memory:/docker/abc/sub\n'))).toBe('/sys/fs/cgroup/memory/sub/c1');
    expect(() => resolveCgroupDir(mem, 'c1', false, () => parseProcCgroup('4:memory:/other\n'))).toThrow(/outside the mounted part/);
  });
  test('a hierarchy the process is not in', () => {
    expect(() => resolveCgroupDir(h('pids'), 'c1', false, () => parseProcCgroup('0::/\n'))).toThrow(/in no cgroup of the pids hierarchy/);
  });
});
