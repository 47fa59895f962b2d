// The exec planner and runc's exec flag semantics, without root.
import { processFromFlags, parseProcessFile, withContainerDefaults } from '../../src/config/exec-process';
import type { Process } from '../../src/config/types';
import { buildExecPlan } from '../../src/linux/exec-plan';
import { CLONE_FLAGS } from '../../src/linux/namespaces';
import { separateExecCommand } from '../../src/cli/commands/exec';

const base = (): Process => ({
  user: { uid: 0, gid: 0 },
  args: ['sh'],
  env: ['PATH=/bin', 'TERM=xterm'],
  cwd: '/',
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
});

const flags = (over: Partial<Parameters<typeof processFromFlags>[1]> = {}) => ({ args: ['id'], env: [], additionalGids: [], caps: [], ...over });

describe('buildExecPlan', () => {
  const plan = (namespaces: Record<string, string>, proc = base()) =>
    buildExecPlan({ proc, namespaces, preserveFds: 0, extraFds: Object.keys(namespaces).length, lastCap: 40, warn: () => undefined });

  test('user joined first (and the container\'s root at once) and mount last, fork for pid, then the process, then exec', () => {
    const ops = plan({ mount: '/m', pid: '/p', user: '/u', network: '/n' }).map((o) => [o.op, ...o.args.map(String)]);
    expect(ops.slice(0, 7)).toEqual([
      ['fds', '0', '4'],
      ['setns', String(CLONE_FLAGS.user), '/u'],
      ['becomeRoot'],
      ['setns', String(CLONE_FLAGS.network), '/n'],
      ['setns', String(CLONE_FLAGS.pid), '/p'],
      ['setns', String(CLONE_FLAGS.mount), '/m'],
      ['fork'],
    ]);
    // No user namespace to join: nothing to become.
    expect(plan({ mount: '/m', pid: '/p' }).some((o) => o.op === 'becomeRoot')).toBe(false);
    // No umask: an exec'd process keeps its caller's unless process.user.umask says.
    expect(ops.map((o) => o[0])).toEqual(['fds', 'setns', 'becomeRoot', 'setns', 'setns', 'setns', 'fork', 'cpuAffinity', 'newSession', 'chdir', 'env', 'defaultHome', 'stdioOwner', 'credentials', 'resolveExec', 'exec']);
    expect(ops.at(-1)).toEqual(['exec', 'sh']);
    // No closeSync: EOF on the sync socket is how the parent learns execve succeeded.
    expect(ops.some((o) => o[0] === 'closeSync')).toBe(false);
  });

  test('namespaces another user namespace owns are joined before the user namespace, the rest after it; mount stays last', () => {
    const ops = buildExecPlan({
      proc: base(),
      namespaces: { mount: '/m', pid: '/p', user: '/u', network: '/n', ipc: '/i' },
      ownedOutsideUser: new Set(['network', 'ipc', 'mount']),
      preserveFds: 0,
      extraFds: 5,
      lastCap: 40,
      warn: () => undefined,
    });
    expect(ops.filter((o) => o.op === 'setns' || o.op === 'fork').map((o) => (o.op === 'fork' ? 'fork' : String(o.args[1])))).toEqual(['/i', '/n', '/u', '/p', '/m', 'fork']);
  });

  test("the container's session keyring is joined by name after the fork, unless it was created without one", () => {
    const input = { proc: base(), preserveFds: 0, extraFds: 2, lastCap: 40, warn: () => undefined, sessionKeyring: '_ses.c1' };
    const ops = buildExecPlan({ ...input, namespaces: { mount: '/m', pid: '/p' } });
    expect(ops.map((o) => o.op).slice(3, 5)).toEqual(['fork', 'sessionKeyring']);
    // Joined only: an exec'd process need not own the keyring (in a user namespace it does not).
    expect(ops.find((o) => o.op === 'sessionKeyring')?.args).toEqual(['_ses.c1', 0]);
    // With an SELinux process label, the keyring is joined under it (runc's exec does the same).
    const labelled = buildExecPlan({
      ...input, proc: { ...base(), selinuxLabel: 'system_u:system_r:container_t:s0' }, namespaces: { mount: '/m' },
      lsm: { apparmor: false, selinux: true },
    }).map((o) => o.op);
    expect(labelled.indexOf('keyLabel')).toBe(labelled.indexOf('sessionKeyring') - 1);
    expect(plan({ mount: '/m' }).some((o) => o.op === 'sessionKeyring')).toBe(false);
  });

  test('no fork without a pid namespace; oomScoreAdj of the process is not applied (runc)', () => {
    const ops = plan({ mount: '/m' }, { ...base(), oomScoreAdj: 100 }).map((o) => o.op);
    expect(ops).not.toContain('fork');
    expect(ops).not.toContain('oomScoreAdj');
  });

  test("the container's oomScoreAdj is written first, before any join (runc's nsexec does the same for exec)", () => {
    const ops = buildExecPlan({
      proc: { ...base(), oomScoreAdj: 100 }, namespaces: { user: '/u', mount: '/m' }, preserveFds: 0, extraFds: 2, lastCap: 40,
      warn: () => undefined, oomScoreAdj: -500,
    }).map((o) => [o.op, ...o.args.map(String)]);
    expect(ops.slice(0, 3)).toEqual([['fds', '0', '2'], ['oomScoreAdj', '-500'], ['setns', String(CLONE_FLAGS.user), '/u']]);
    expect(ops.filter((o) => o[0] === 'oomScoreAdj')).toHaveLength(1);
    // Unprivileged, the init is dumpable for that write only (its /proc file is the user's then).
    const rootless = buildExecPlan({
      proc: base(), namespaces: { user: '/u' }, preserveFds: 0, extraFds: 2, lastCap: 40, warn: () => undefined, oomScoreAdj: 5, unprivilegedParent: true,
    }).map((o) => o.op);
    expect(rootless.slice(0, 5)).toEqual(['fds', 'dumpable', 'oomScoreAdj', 'nonDumpable', 'setns']);
  });

  test('in a user namespace of the container\'s, stdio goes to the process\'s host uid first, before any join; inside, to its own uid', () => {
    const ops = buildExecPlan({
      proc: { ...base(), user: { uid: 1000, gid: 1000 } }, namespaces: { user: '/u', mount: '/m' }, preserveFds: 0, extraFds: 2, lastCap: 40,
      warn: () => undefined, hostUid: 101000,
    }).map((o) => [o.op, ...o.args.map(String)]);
    expect(ops.slice(0, 3)).toEqual([['fds', '0', '2'], ['stdioOwner', '101000'], ['setns', String(CLONE_FLAGS.user), '/u']]);
    expect(ops.filter((o) => o[0] === 'stdioOwner')).toEqual([['stdioOwner', '101000'], ['stdioOwner', '1000']]);
  });

  test('exec --apparmor / --process-label: written after the joins, before the credentials', () => {
    const ops = buildExecPlan({
      proc: { ...base(), apparmorProfile: 'docker-default', selinuxLabel: 'system_u:system_r:container_t:s0' },
      namespaces: { mount: '/m' }, preserveFds: 0, extraFds: 1, lastCap: 40, warn: () => undefined,
      lsm: { apparmor: true, selinux: true },
    });
    const names = ops.map((o) => o.op);
    expect(ops.filter((o) => o.op === 'execLabel').map((o) => o.args)).toEqual([['apparmor', 'docker-default'], ['selinux', 'system_u:system_r:container_t:s0']]);
    // No keyring asked for here: the key label is set only before joining one.
    expect(names).not.toContain('keyLabel');
    expect(names.indexOf('execLabel')).toBeGreaterThan(names.indexOf('setns'));
    expect(names.lastIndexOf('execLabel')).toBeLessThan(names.indexOf('credentials'));
  });

  test('execCPUAffinity: initial before the cgroups are entered, final after (the fork into a v2 cgroup)', () => {
    const cgroupJoin = { initOps: [{ op: 'cgroup', args: ['v2', '/sys/fs/cgroup/c'] }], parentDirs: [], forkInto: true };
    const ops = buildExecPlan({
      proc: { ...base(), execCPUAffinity: { initial: '0-1,3', final: '2' } },
      namespaces: { mount: '/m' }, preserveFds: 0, extraFds: 1, lastCap: 40, warn: () => undefined, cgroupJoin,
    } as Parameters<typeof buildExecPlan>[0]).map((o) => [o.op, ...o.args.map(String)]);
    const at = (name: string, arg?: string) => ops.findIndex((o) => o[0] === name && (arg === undefined || o[1] === arg));
    expect(ops[at('cpuAffinity', '0,1,3')]).toEqual(['cpuAffinity', '0,1,3']);
    expect(at('cpuAffinity', '0,1,3')).toBeLessThan(at('cgroup'));
    expect(at('cpuAffinity', '2')).toBeGreaterThan(at('fork'));
    expect(at('cpuAffinity', '2')).toBeLessThan(at('exec'));
    // Neither given (empty counts as absent): every CPU of the cpuset; an initial alone
    // is left to the kernel after the move (config.md); a bad list is refused naming its field.
    const affinityArgs = (execCPUAffinity: object) => plan({}, { ...base(), execCPUAffinity }).filter((o) => o.op === 'cpuAffinity').map((o) => o.args);
    expect(affinityArgs({ initial: '', final: ' ' })).toEqual([['all']]);
    expect(affinityArgs({ initial: '1' })).toEqual([['1']]);
    expect(() => plan({}, { ...base(), execCPUAffinity: { final: '3-1' } })).toThrow(/process\.execCPUAffinity\.final: range 3-1 is backwards/);
  });

  test('with a fork into a v2 cgroup every namespace but the cgroup one is joined before the fork: the process never shows in the container with the host\'s root and mounts', () => {
    const cgroupJoin = { initOps: [{ op: 'cgroup', args: ['v2', '/sys/fs/cgroup/c'] }], parentDirs: [], forkInto: true };
    const ops = buildExecPlan({
      proc: base(), namespaces: { user: '/u', pid: '/p', cgroup: '/c', mount: '/m', network: '/n' }, preserveFds: 0, extraFds: 5, lastCap: 40, warn: () => undefined, cgroupJoin,
    } as Parameters<typeof buildExecPlan>[0]).map((o) => (o.op === 'setns' ? `setns ${o.args[1]}` : o.op));
    const fork = ops.indexOf('fork');
    expect(ops.slice(0, fork + 2).filter((o) => o.startsWith('setns') || o === 'fork')).toEqual(['setns /u', 'setns /n', 'setns /p', 'setns /m', 'fork', 'setns /c']);
  });

  test("the container's memoryPolicy applies to an exec'd process too, before its credentials", () => {
    const ops = buildExecPlan({
      proc: base(), namespaces: { mount: '/m' }, preserveFds: 0, extraFds: 1, lastCap: 40, warn: () => undefined,
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1' },
    }).map((o) => [o.op, ...o.args.map(String)]);
    const at = ops.findIndex((o) => o[0] === 'memoryPolicy');
    expect(ops[at]).toEqual(['memoryPolicy', '2', '0,1', 'MPOL_BIND']);
    expect(at).toBeLessThan(ops.findIndex((o) => o[0] === 'credentials'));
    expect(plan({}).some((o) => o.op === 'memoryPolicy')).toBe(false);
  });

  test('a notify listener: with no_new_privs the filter loads right before exec, the sync socket still open; without, before the credentials', () => {
    const seccomp = { flags: 8 /* SECCOMP_FILTER_FLAG_NEW_LISTENER */, program: Buffer.alloc(8) };
    const names = (noNewPrivileges: boolean) =>
      buildExecPlan({ proc: { ...base(), noNewPrivileges }, namespaces: { mount: '/m' }, preserveFds: 0, extraFds: 1, lastCap: 40, warn: () => undefined, seccomp })
        .map((o) => o.op);
    expect(names(true).slice(-3)).toEqual(['resolveExec', 'seccomp', 'exec']);
    const without = names(false);
    // Then stdio goes to the user, as in runc, under the filter.
    expect(without.slice(without.indexOf('seccomp'), without.indexOf('credentials') + 1)).toEqual(['seccomp', 'stdioOwner', 'credentials']);
    expect(without.filter((n) => n === 'seccomp')).toHaveLength(1);
    expect(without).not.toContain('closeSync');
  });

  test('refuses what it cannot apply', () => {
    // On a host without AppArmor (plan() passes no LSM facts), runc's refusal.
    expect(() => plan({}, { ...base(), apparmorProfile: 'x' })).toThrow(/process.apparmorProfile: apparmor profile is specified in config, but apparmor is disabled or not supported/);
    expect(() => plan({}, { ...base(), args: [] })).toThrow(/process args cannot be empty/);
    expect(() => plan({}, { ...base(), cwd: 'rel' })).toThrow(/process.cwd/);
  });
});

describe('processFromFlags (runc getProcess)', () => {
  test('env: -e appended, a repeated name replaced in place', () => {
    expect(processFromFlags(base(), flags({ env: ['TERM=dumb', 'NEW=1'] })).env).toEqual(['PATH=/bin', 'TERM=dumb', 'NEW=1']);
    // Every copy in the config's env goes: -e wins (runc's Setenv, one after the other).
    const twice = { ...base(), env: ['A=1', 'PATH=/bin', 'A=2'] };
    expect(processFromFlags(twice, flags({ env: ['A=3'] })).env).toEqual(['A=3', 'PATH=/bin']);
  });
  test('user uid:gid and additional gids', () => {
    const p = processFromFlags(base(), flags({ user: '1000:100', additionalGids: [5, 6] }));
    expect(p.user).toEqual({ uid: 1000, gid: 100, additionalGids: [5, 6] });
    expect(() => processFromFlags(base(), flags({ user: 'bob' }))).toThrow(/parsing bob as int for uid failed/);
    expect(() => processFromFlags(base(), flags({ user: '0:x' }))).toThrow(/parsing x as int for gid failed/);
    expect(() => processFromFlags(base(), flags({ user: '1000:1000:5' }))).toThrow(/parsing 1000:5 as int for gid failed/);
    expect(() => processFromFlags(base(), flags({ additionalGids: [-1] }))).toThrow(/additional-gids must be a positive number -1/);
  });
  test('--cap adds to bounding, effective, permitted and ambient, never inheritable', () => {
    const c = processFromFlags(base(), flags({ caps: ['CAP_NET_RAW'] })).capabilities!;
    expect(c.bounding).toEqual(['CAP_KILL', 'CAP_NET_RAW']);
    expect(c.ambient).toEqual(['CAP_NET_RAW']);
    expect(c.inheritable).toBeUndefined();
  });
  test('the base spec is not modified; terminal follows --tty only', () => {
    const b = { ...base(), terminal: true };
    const p = processFromFlags(b, flags({ cwd: '/tmp' }));
    expect(p.terminal).toBe(false);
    expect(p.cwd).toBe('/tmp');
    expect(b.cwd).toBe('/');
  });
  test('process.json is validated against the schema', () => {
    expect(() => parseProcessFile('{"args":["x"],"cwd":"/","user":{"uid":"a","gid":0}}', 'p.json')).toThrow(/process.user.uid/);
    expect(() => parseProcessFile('{', 'p.json')).toThrow(/p.json: invalid JSON/);
  });
});

describe("withContainerDefaults (exec --process: what runc takes from the container's process)", () => {
  const container = (): Process => ({
    ...base(), noNewPrivileges: true, oomScoreAdj: 7, apparmorProfile: 'ctr-profile', selinuxLabel: 'ctr_u:ctr_r:ctr_t:s0',
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 10 }],
  });
  const file = (over: Partial<Process> = {}): Process => ({ args: ['id'], cwd: '/', user: { uid: 0, gid: 0 }, ...over });

  test('absent capabilities, empty or absent LSM labels come from the container; nothing else does', () => {
    const p = withContainerDefaults(file({ apparmorProfile: '' }), container());
    expect(p.capabilities).toEqual(container().capabilities);
    expect(p.apparmorProfile).toBe('ctr-profile');
    expect(p.selinuxLabel).toBe('ctr_u:ctr_r:ctr_t:s0');
    expect(p.noNewPrivileges).toBeUndefined();
    expect(p.rlimits).toBeUndefined();
    expect(p.oomScoreAdj).toBeUndefined();
  });

  test("the file's own values win; an empty capabilities object stays empty", () => {
    const own = file({ capabilities: {}, apparmorProfile: 'mine', selinuxLabel: 'my_u:my_r:my_t:s0' });
    expect(withContainerDefaults(own, container())).toEqual(own);
  });

  test("a copy: neither the file's process nor the container's is changed", () => {
    const f = file();
    const c = container();
    const p = withContainerDefaults(f, c);
    p.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    expect(f.capabilities).toBeUndefined();
    expect(c.capabilities!.bounding).toEqual(['CAP_KILL']);
    expect(withContainerDefaults(file(), undefined)).toEqual(file());
  });
});

describe('separateExecCommand', () => {
  test('a -- goes after the container id, flags before it are skipped with their values', () => {
    expect(separateExecCommand(['--root', '/r', 'exec', '-e', 'A=1', '--cwd=/x', '-t', 'id', 'sh', '-c', 'x'])).toEqual([
      '--root', '/r', 'exec', '-e', 'A=1', '--cwd=/x', '-t', 'id', '--', 'sh', '-c', 'x',
    ]);
    expect(separateExecCommand(['state', 'id'])).toEqual(['state', 'id']);
    expect(separateExecCommand(['exec', 'id', '--', 'ls'])).toEqual(['exec', 'id', '--', 'ls']);
  });
});

describe('pidfdSocket op', () => {
  test('exec: --pidfd-socket has the exec\'d process send its pidfd ("setns"), in the container, before the credentials', () => {
    const ops = buildExecPlan({ proc: base(), namespaces: { mount: '/m' }, pidfdSocketFd: 6, preserveFds: 0, extraFds: 2, lastCap: 40, warn: () => undefined });
    const names = ops.map((o) => o.op);
    expect(ops.find((o) => o.op === 'pidfdSocket')!.args.map(String)).toEqual(['6', 'setns']);
    expect(names.indexOf('pidfdSocket')).toBeGreaterThan(names.indexOf('setns'));
    expect(names.indexOf('pidfdSocket')).toBeLessThan(names.indexOf('credentials'));
    expect(buildExecPlan({ proc: base(), namespaces: { mount: '/m' }, preserveFds: 0, extraFds: 0, lastCap: 40, warn: () => undefined }).map((o) => o.op)).not.toContain('pidfdSocket');
  });
});

describe('console op', () => {
  test('exec: a terminal gets a console op before the credentials, with consoleSize, and leaves /dev/console alone', () => {
    const proc = { ...base(), terminal: true, consoleSize: { height: 24, width: 80 } };
    const ops = buildExecPlan({ proc, namespaces: { mount: '/m' }, console: { fd: 9, relayedByTsrun: false }, preserveFds: 0, extraFds: 2, lastCap: 40, warn: () => undefined });
    const names = ops.map((o) => o.op);
    expect(ops.find((o) => o.op === 'console')!.args.map(String)).toEqual(['9', '24', '80', '0', '0']);
    expect(names.indexOf('console')).toBeGreaterThan(names.indexOf('setns'));
    expect(names.indexOf('console')).toBeLessThan(names.indexOf('credentials'));
    expect(() => buildExecPlan({ proc, namespaces: {}, preserveFds: 0, extraFds: 0, lastCap: 40, warn: () => undefined })).toThrow(/console socket/);
  });

  test('exec: the size of the terminal tsrun relays to wins over consoleSize; a size with a side of 0 is none (runc resizes only with both)', () => {
    const proc = { ...base(), terminal: true, consoleSize: { height: 24, width: 80 } };
    const consoleArgs = (p: typeof proc, console: { fd: number; relayedByTsrun: boolean; relaySize?: { height: number; width: number } }) =>
      buildExecPlan({ proc: p, namespaces: { mount: '/m' }, console, preserveFds: 0, extraFds: 2, lastCap: 40, warn: () => undefined })
        .find((o) => o.op === 'console')!
        .args.map(String);
    expect(consoleArgs(proc, { fd: 9, relayedByTsrun: true, relaySize: { height: 40, width: 120 } })).toEqual(['9', '40', '120', '0', '1']);
    expect(consoleArgs(proc, { fd: 9, relayedByTsrun: true })).toEqual(['9', '24', '80', '0', '1']);
    expect(consoleArgs({ ...proc, consoleSize: { height: 30, width: 0 } }, { fd: 9, relayedByTsrun: false })).toEqual(['9', '0', '0', '0', '0']);
  });
});
