// Where a container's processes land: in the container's cgroup of every hierarchy
// (v1 and the unified one), whichever way they got there (addon/PROTOCOL.md op
// `cgroup`: the init joins v1 itself and is forked into v2; in a user namespace the
// parent places it in v2), with the cgroup namespace rooted at that cgroup, for the
// init and for exec'd processes, including exec --cgroup into a sub-cgroup.
import * as fs from 'fs';
import * as path from 'path';
import { detectCgroupLayout } from '../../src/cgroups/detect';
import type { Spec } from '../helpers/bundle';
import { spawn, spawnSync } from 'child_process';
import { errorMessage, repoRoot, runtimeUnderTest, TSRUN_BINARY, waitFor, waitPidGone } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

/** hierarchy (the controllers field, '' for v2) -> path, from /proc/<pid>/cgroup. */
function cgroupsOf(pid: number | 'self', text?: string): Map<string, string> {
  const lines = (text ?? fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).split('\n').filter(Boolean);
  return new Map(lines.map((l) => {
    const [, controllers, p] = l.split(':');
    return [controllers!, p!] as [string, string];
  }));
}

describeIf(containerSkipReason())(`cgroup placement (${BINARY})`, () => {
  const s = useSuite('cgplace', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  const hierarchies = cgroupsOf('self').size;
  const everyHierarchyAt = (pid: number, cgroupPath: string): void => {
    const seen = cgroupsOf(pid);
    expect(seen.size).toBe(hierarchies);
    expect([...seen.values()]).toEqual([...seen.keys()].map(() => cgroupPath));
  };

  const withUserNs = (c: Spec): void => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };
  const cases: [string, (c: Spec) => void][] = [
    ['the default namespaces', () => undefined],
    ['a cgroup namespace', (c) => c.linux.namespaces.push({ type: 'cgroup' })],
    ['a time namespace', (c) => c.linux.namespaces.push({ type: 'time' })],
    ['no pid namespace', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid'))],
    ['a user namespace', withUserNs],
    ['a user and a cgroup namespace', (c) => (withUserNs(c), c.linux.namespaces.push({ type: 'cgroup' }))],
  ];

  /** A running container whose init sleeps, configured by `configure`. */
  const sleeper = (configure: (c: Spec) => void) => {
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['sleep', '1000'];
        configure(c);
      },
    });
    // A user namespace's root is "other" to the root-owned, 0700 bundle dir.
    fs.chmodSync(b.dir, 0o755);
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    return b;
  };

  test.each(cases)('with %s: the init and an exec in every hierarchy, and a cgroup namespace rooted there', (_, configure) => {
    const b = sleeper(configure);
    const pid = s.cli.state(b.id).pid as number;
    everyHierarchyAt(pid, b.cgroupsPath);

    const pidFile = path.join(b.dir, 'exec.pid');
    expectOk(s.cli.run(['exec', '-d', '--pid-file', pidFile, b.id, 'sleep', '1000']));
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
    everyHierarchyAt(execPid, b.cgroupsPath);

    // Inside: with a cgroup namespace every hierarchy is at its root, else at the host's path.
    const inside = expectOk(s.cli.run(['exec', b.id, 'cat', '/proc/self/cgroup'])).stdout;
    const hasCgroupNs = b.config.linux.namespaces.some((n: { type: string }) => n.type === 'cgroup');
    const expected = hasCgroupNs ? '/' : b.cgroupsPath;
    expect([...cgroupsOf('self', inside).values()]).toEqual([...cgroupsOf('self', inside).keys()].map(() => expected));
    expect(cgroupsOf('self', inside).size).toBe(hierarchies);

    // Code only: runc 1.1.5 warns while it retries the rmdir after killing a
    // container without a pid namespace.
    expect(s.cli.delete(b.id, true).code).toBe(0);
    waitPidGone(execPid);
  });

  // With a user namespace the v2 part is the parent's write (PROTOCOL.md, Cgroups).
  test.each([
    ['', () => undefined],
    [' (user namespace)', withUserNs],
  ])('exec --cgroup <sub>%s: the process lands in that sub-cgroup of every hierarchy', (_, configure) => {
    const b = sleeper(configure);
    for (const h of detectCgroupLayout().hierarchies) {
      const sub = path.join(h.mountPoint, b.cgroupsPath, 'sub');
      fs.mkdirSync(sub);
      if (h.controllers.includes('cpuset')) {
        // A v1 cpuset cgroup takes no process until it has cpus and mems.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(sub, f), fs.readFileSync(path.join(sub, '..', f)));
      }
    }
    const pidFile = path.join(b.dir, 'exec.pid');
    expectOk(s.cli.run(['exec', '-d', '--cgroup', 'sub', '--pid-file', pidFile, b.id, 'sleep', '1000']));
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
    everyHierarchyAt(execPid, `${b.cgroupsPath}/sub`);
    expectOk(s.cli.delete(b.id, true));
    waitPidGone(execPid);
  });

  // runc's names: a v1 controller, or name=systemd for that named hierarchy.
  const layout = detectCgroupLayout();
  const namedV1 = ['pids', 'name=systemd'].map((c) => layout.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(c)));
  (namedV1.every(Boolean) ? test : test.skip)('exec --cgroup pids,name=systemd:sub moves the process in those two hierarchies only', () => {
    const b = sleeper(() => undefined);
    for (const h of namedV1) fs.mkdirSync(path.join(h!.mountPoint, b.cgroupsPath, 'sub'));
    const pidFile = path.join(b.dir, 'exec.pid');
    expectOk(s.cli.run(['exec', '-d', '--cgroup', 'pids,name=systemd:sub', '--pid-file', pidFile, b.id, 'sleep', '1000']));
    const execPid = Number(fs.readFileSync(pidFile, 'utf8'));
    const moved = new Set(namedV1.map((h) => h!.controllers.join(',')));
    for (const [hierarchy, at] of cgroupsOf(execPid)) expect([hierarchy, at]).toEqual([hierarchy, moved.has(hierarchy) ? `${b.cgroupsPath}/sub` : b.cgroupsPath]);
    expectOk(s.cli.delete(b.id, true));
    waitPidGone(execPid);
  });

  test.each([
    ['a controller the container has no hierarchy of', ['memroy:sub'], /unknown controller memroy/],
    ['a path with a colon (runc splits at every one)', ['memory:sub:x'], /invalid --cgroup argument: memory:sub:x/],
    ['a path out of the container\'s cgroup', ['..'], / \.\. is not a sub cgroup path/],
    // runc's own test matches " adding pid " and the errno's words
    ['a sub-cgroup that does not exist', ['nonexistent'], / adding pid .*nonexistent.*: no such file or directory/],
    ['a sub-cgroup of one controller that does not exist', ['cpu:nonexistent'], / adding pid .*cpu.*nonexistent.*: no such file or directory/],
  ])('exec --cgroup with %s is refused', (_, args, error) => {
    const b = sleeper(() => undefined);
    const r = s.cli.run(['exec', ...args.flatMap((a) => ['--cgroup', a]), b.id, 'true']);
    expect({ code: r.code, error: errorMessage(r) }).toEqual({ code: 255, error: expect.stringMatching(error) });
    expectOk(s.cli.delete(b.id, true));
  });

  // exec reads the container's cgroup dirs from its state.json (tsrun's format).
  const editState = (id: string, edit: (st: { cgroupPaths: Record<string, string> }) => void): void => {
    const file = path.join(s.cli.root, id, 'state.json');
    const st = JSON.parse(fs.readFileSync(file, 'utf8'));
    edit(st);
    fs.writeFileSync(file, JSON.stringify(st));
  };

  (BINARY === TSRUN_BINARY ? test : test.skip)('exec skips a recorded hierarchy that is gone since create (as runc), and refuses to write into a recorded dir that is not a cgroup', () => {
    const b = sleeper(() => undefined);
    editState(b.id, (st) => (st.cgroupPaths['gone'] = '/sys/fs/cgroup/gone/tsrun-no-such-dir'));
    expect(expectOk(s.cli.run(['exec', b.id, 'true'])).code).toBe(0);

    // With a user namespace tsrun writes the v2 cgroup.procs itself: never outside cgroupfs.
    const u = sleeper(withUserNs);
    const elsewhere = path.join(s.env.tmp, 'not-a-cgroup');
    fs.mkdirSync(elsewhere);
    let recorded = '';
    editState(u.id, (st) => {
      recorded = st.cgroupPaths['unified'] ?? '';
      st.cgroupPaths['unified'] = elsewhere;
    });
    const r = s.cli.run(['exec', u.id, 'true']);
    expect({ code: r.code, error: errorMessage(r) }).toEqual({ code: 255, error: `exec failed: ${elsewhere} is not on a cgroup filesystem` });
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    editState(u.id, (st) => (st.cgroupPaths['unified'] = recorded));
    editState(b.id, (st) => delete st.cgroupPaths['gone']);
    for (const id of [b.id, u.id]) expect(s.cli.delete(id, true).code).toBe(0);
  });

  // A runtime nested in a container whose /sys is the host's, bound recursively (a user
  // namespace cannot mount sysfs), and whose own cgroup mount covers /sys/fs/cgroup:
  // mountinfo still lists the host's hierarchies below, the unified one among them,
  // where the tmpfs on top has no such dir. Made here in a mount namespace of the
  // test's own: a tmpfs over /sys/fs/cgroup with the v1 hierarchies alone mounted again.
  const v1Only = layout.hierarchies.filter((h) => h.kind === 'v1');
  (layout.layout === 'hybrid' && v1Only.length > 0 ? test : test.skip)('hierarchies covered by a later mount are not used: a create where only the v1 hierarchies are seen', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['cat', '/proc/self/cgroup']) });
    const remount = v1Only.map((h) => `mkdir -p ${h.mountPoint} && mount -t cgroup -o ${h.controllers.join(',')} cgroup ${h.mountPoint}`).join(' && ');
    const script = `mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup && ${remount} && exec "$@"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', BINARY, '--root', s.cli.root, 'run', '--bundle', b.dir, b.id],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const seen = cgroupsOf('self', r.stdout);
    // In every v1 hierarchy, and (the unified one not being seen) not in the host's v2 one.
    for (const h of v1Only) expect(seen.get(h.controllers.join(','))).toBe(b.cgroupsPath);
    expect(seen.get('')).not.toBe(b.cgroupsPath);
    for (const h of layout.hierarchies) expect(fs.existsSync(path.join(h.mountPoint, b.cgroupsPath))).toBe(false);
  });

  // A runtime that is root of a user namespace whose root is not the host's (nested in
  // a user-namespaced container, rootless podman), given a v1 cgroup parent of its own:
  // a container with a user and a pid namespace of its own joins the v1 pids hierarchy
  // too. Joined by the child of the init's fork, the kernel would judge that move by
  // the runtime's uid, not the container root's the child has by then (EACCES).
  const v1PidsH = layout.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes('pids'));
  (v1PidsH && fs.existsSync('/usr/bin/python3') ? test : test.skip)('run by the root of a user namespace, into a cgroup parent of its own: a container with a user and a pid namespace is in every v1 hierarchy', async () => {
    const OUTER = 100000;
    const b = s.bundle({
      configure: (c) => {
        c.process.args = ['cat', '/proc/self/cgroup'];
        c.linux.namespaces.push({ type: 'user' });
        // Ids of the runtime's user namespace (0-65535 there, 100000-165535 on the host).
        c.linux.uidMappings = [{ containerID: 0, hostID: 10000, size: 1000 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 10000, size: 1000 }];
        // sysfs cannot be mounted without the host's network namespace's owner: the host's, bound.
        c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys/fs/cgroup').map((m: { destination: string }) => (m.destination === '/sys' ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'ro', 'nosuid', 'noexec', 'nodev'] } : m));
        c.mounts.forEach((m: { type: string; options?: string[] }) => { if (m.type === 'devpts') m.options = m.options?.filter((o) => o !== 'gid=5'); });
      },
    });
    fs.chmodSync(b.dir, 0o755);
    // The parent of the container's cgroup, the runtime's own in every hierarchy (with
    // one refused, a rootless create goes without a cgroup at all).
    for (const h of layout.hierarchies) {
      const parent = path.join(h.mountPoint, s.env.cgroupParent);
      fs.mkdirSync(parent, { recursive: true });
      if (h.controllers.includes('cpuset')) for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(parent, f), fs.readFileSync(path.join(parent, '..', f)));
      for (const f of ['', ...fs.readdirSync(parent)]) fs.chownSync(path.join(parent, f), OUTER, OUTER);
    }
    const root = path.join(s.env.tmp, 'state-userns-root');
    fs.mkdirSync(root, { mode: 0o700 });
    fs.chownSync(root, OUTER, OUTER);
    // unshare(1)'s --map-users asks newuidmap, which wants /etc/subuid: the maps are written here.
    // No exec between the unshare and the setresuid: an exec before the maps exist would
    // drop the capabilities the new namespace gave (its root was not mapped yet).
    const inUserNs = [
      'import ctypes, os, sys',
      'assert ctypes.CDLL(None, use_errno=True).unshare(0x10000000 | 0x20000) == 0',
      'sys.stdin.readline()',
      'os.setgroups([]); os.setresgid(0, 0, 0); os.setresuid(0, 0, 0)',
      'fd = os.open("/dev/null", os.O_RDONLY); os.dup2(fd, 0)',
      'os.execv(sys.argv[1], sys.argv[1:])',
    ].join('\n');
    const child = spawn('/usr/bin/python3', ['-c', inUserNs, BINARY, '--root', root, 'run', '--bundle', b.dir, b.id], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let status: number | null;
    try {
      await waitFor(() => fs.readlinkSync(`/proc/${child.pid}/ns/user`) !== fs.readlinkSync('/proc/self/ns/user'), 'the user namespace');
      fs.writeFileSync(`/proc/${child.pid}/uid_map`, `0 ${OUTER} 65536\n`);
      fs.writeFileSync(`/proc/${child.pid}/gid_map`, `0 ${OUTER} 65536\n`);
      child.stdin.end('go\n');
      status = await closed;
    } finally {
      // A failure before its end: the runtime (by its pid) goes too, not on to the next test.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const r = { stdout };
    const seen = cgroupsOf('self', r.stdout);
    for (const h of v1Only) expect(seen.get(h.controllers.join(','))).toBe(b.cgroupsPath);
  });

  // The init itself, run by an unprivileged user: a v1 cgroup delegated to it with
  // only cgroup.procs writable (tasks stays root's) is joined through cgroup.procs.
  const hierarchies0 = detectCgroupLayout().hierarchies;
  const v1Pids = hierarchies0.find((h) => h.kind === 'v1' && h.controllers.includes('pids'));
  const initOnly = (cond: unknown) => (BINARY === TSRUN_BINARY && cond ? test : test.skip);
  initOnly(v1Pids)('the init joins a delegated v1 cgroup whose tasks file it may not write, through cgroup.procs', () => {
    const pids = v1Pids!;
    const rel = `${s.env.cgroupParent}/delegated`;
    const dir = path.join(pids.mountPoint, rel);
    fs.mkdirSync(dir, { recursive: true });
    fs.chownSync(dir, 1000, 1000);
    fs.chownSync(path.join(dir, 'cgroup.procs'), 1000, 1000);
    expect(fs.statSync(path.join(dir, 'tasks')).uid).toBe(0);
    const dist = path.join(repoRoot(), 'dist', 'src');
    const script = `
      const { native } = require(${JSON.stringify(path.join(dist, 'native.js'))});
      const { encodePlan, op } = require(${JSON.stringify(path.join(dist, 'linux', 'plan-encoding.js'))});
      const plan = encodePlan([op('fds', 0, 0), op('cgroup', 'v1', ${JSON.stringify(dir)}), op('exec', '/bin/cat', '/proc/self/cgroup')]);
      const n = native();
      const child = n.spawnInit({ plan, stdio: [0, 1, 2], preserveFds: 0, extraFds: [] });
      n.closeFd(child.syncFd);
      process.exitCode = n.waitPid(child.pid).exitCode;`;
    const r = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(cgroupsOf('self', r.stdout).get(pids.controllers.join(','))).toBe(rel);
  });
});
