// Who joins the cgroups (src/linux/cgroup-join.ts), and where the plans put the joins.
import { cgroupJoinOps, pidsAtOnceFor, planCgroupJoin } from '../../src/linux/cgroup-join';
import { buildExecPlan } from '../../src/linux/exec-plan';
import { CLONE_FLAGS } from '../../src/linux/namespaces';
import { buildCreatePlan, type CreatePlanInput } from '../../src/linux/plan';
import { op, type PlanOp } from '../../src/linux/plan-encoding';
import type { Spec } from '../../src/config/types';
import { createPlanInput } from '../helpers/plan-input';

const HYBRID = { cpu: '/sys/fs/cgroup/cpu/t/c1', memory: '/sys/fs/cgroup/memory/t/c1', unified: '/sys/fs/cgroup/unified/t/c1' };
const flat = (ops: PlanOp[]): string[][] => ops.map((o) => [o.op, ...o.args.map(String)]);

describe('planCgroupJoin', () => {
  test('without a user namespace the init joins everything itself: v1 through tasks, v2 at its fork', () => {
    const join = planCgroupJoin(HYBRID, false);
    expect(flat(join.initOps)).toEqual([
      ['cgroup', 'v1', HYBRID.cpu],
      ['cgroup', 'v1', HYBRID.memory],
      ['cgroup', 'v2', HYBRID.unified],
    ]);
    expect(join.forkInto).toBe(true);
    expect(join.parentDirs).toEqual([]);
  });

  test('in a user namespace the parent places the init in v2 (the init may not by the time it forks)', () => {
    const join = planCgroupJoin(HYBRID, true);
    expect(flat(join.initOps)).toEqual([['cgroup', 'v1', HYBRID.cpu], ['cgroup', 'v1', HYBRID.memory]]);
    expect(join.forkInto).toBe(false);
    expect(join.parentDirs).toEqual([HYBRID.unified]);
  });

  test('placed by the parent (exec into a paused container): every hierarchy at `sync start`, no joins of its own, no fork for it', () => {
    for (const userNs of [false, true]) {
      expect(planCgroupJoin(HYBRID, userNs, true)).toEqual({ initOps: [], forkInto: false, parentDirs: Object.values(HYBRID) });
    }
    // But the v1 pids hierarchy, which freezes nothing: the process joins it, at the fork if there is one.
    const withPids = planCgroupJoin({ ...HYBRID, pids: '/sys/fs/cgroup/pids/t/c1' }, false, true);
    expect(withPids).toEqual({ initOps: [], forkInto: false, parentDirs: Object.values(HYBRID), pidsV1Dir: '/sys/fs/cgroup/pids/t/c1' });
  });

  test('the v1 pids hierarchy is joined by the child of the fork, when the plan forks: the intermediate would count as a task', () => {
    const dirs = { ...HYBRID, pids: '/sys/fs/cgroup/pids/t/c1', 'net_cls,net_prio': '/sys/fs/cgroup/net_cls,net_prio/t/c1' };
    const join = planCgroupJoin(dirs, false);
    expect(join.pidsV1Dir).toBe(dirs.pids);
    expect(flat(join.initOps).map((o) => o[2])).not.toContain(dirs.pids);
    expect(flat(cgroupJoinOps(join, true)).slice(-1)).toEqual([['cgroup', 'v1AtFork', dirs.pids]]);
    expect(flat(cgroupJoinOps(join, false)).slice(-1)).toEqual([['cgroup', 'v1', dirs.pids]]);
    // A pids hierarchy mounted together with another controller is found by its key too.
    expect(planCgroupJoin({ 'cpu,pids': '/sys/fs/cgroup/cpu,pids/c' }, false).pidsV1Dir).toBe('/sys/fs/cgroup/cpu,pids/c');
    expect(planCgroupJoin(HYBRID, false).pidsV1Dir).toBeUndefined();
  });

  test('pidsAtOnce: the v1 pids hierarchy is joined at once, with the other v1 ones (a paused container\'s too), never at the fork', () => {
    const dirs = { ...HYBRID, pids: '/sys/fs/cgroup/pids/t/c1' };
    const join = planCgroupJoin(dirs, true, false, false, true);
    expect(join.pidsV1Dir).toBeUndefined();
    expect(flat(cgroupJoinOps(join, true))).toEqual([['cgroup', 'v1', HYBRID.cpu], ['cgroup', 'v1', HYBRID.memory], ['cgroup', 'v1', dirs.pids]]);
    expect(planCgroupJoin(dirs, true, true, false, true)).toEqual({ initOps: [op('cgroup', 'v1', dirs.pids)], forkInto: false, parentDirs: Object.values(HYBRID) });
    // With systemd the parent places it (its dir exists only once the unit started).
    expect(planCgroupJoin(dirs, true, true, true, true)).toEqual({ initOps: [], forkInto: false, parentDirs: Object.values(dirs) });
  });

  test('pidsAtOnceFor: only where the kernel would refuse the move at the fork (the opener neither the host\'s root nor the container root\'s uid)', () => {
    // The host's root, or no user namespace: the join at the fork goes through.
    expect(pidsAtOnceFor(true, true, 0, 100000)).toBe(false);
    expect(pidsAtOnceFor(false, false, 0, undefined)).toBe(false);
    // Root of a user namespace (tsrun nested in a user-namespaced container): the
    // container's root is another uid, or (a joined user namespace) not known.
    expect(pidsAtOnceFor(true, false, 0, 10000)).toBe(true);
    expect(pidsAtOnceFor(true, false, 0, undefined)).toBe(true);
    // An unprivileged user whose own uid is the container's root: the same uid.
    expect(pidsAtOnceFor(true, false, 1000, 1000)).toBe(false);
    expect(pidsAtOnceFor(true, false, 1000, 100000)).toBe(true);
  });

  test('a pure v1 host needs no fork; no cgroups, nothing to do', () => {
    expect(planCgroupJoin({ cpu: HYBRID.cpu }, false).forkInto).toBe(false);
    expect(planCgroupJoin({}, false)).toEqual({ initOps: [], forkInto: false, parentDirs: [] });
  });
});

const createInput = (mutate: (s: Spec) => void, userNs = false): CreatePlanInput =>
  createPlanInput(mutate, { host: { lastCap: 40, cgroupDirs: HYBRID, cgroupV2: false }, cgroupJoin: planCgroupJoin(HYBRID, userNs) });

describe('create plan with cgroups to join', () => {
  test('joins first; only pid and time namespaces are made before the fork into the v2 cgroup, the others in it', () => {
    const ops = flat(buildCreatePlan(createInput((s) => s.linux!.namespaces!.push({ type: 'cgroup' }, { type: 'time' }))));
    expect(ops.slice(0, 4).map((o) => o[0])).toEqual(['fds', 'cgroup', 'cgroup', 'cgroup']);
    expect(ops.some((o) => o[0] === 'sync' && o[1] === 'start')).toBe(false);
    const fork = ops.findIndex((o) => o[0] === 'fork');
    const unshares = ops.map((o, i) => [i, o] as const).filter(([, o]) => o[0] === 'unshare');
    expect(unshares).toHaveLength(2);
    expect(unshares[0]![0]).toBeLessThan(fork);
    expect(Number(unshares[0]![1][1])).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.time);
    expect(unshares[1]![0]).toBe(fork + 1);
    expect(Number(unshares[1]![1][1])).toBe(CLONE_FLAGS.network | CLONE_FLAGS.ipc | CLONE_FLAGS.uts | CLONE_FLAGS.mount | CLONE_FLAGS.cgroup);
  });

  test('nothing but the cgroup joins comes between fds and the first namespace op', () => {
    const ops = flat(buildCreatePlan(createInput(() => undefined)));
    const firstNs = ops.findIndex((o) => o[0] === 'unshare' || o[0] === 'setns');
    expect(ops.slice(1, firstNs).every((o) => o[0] === 'cgroup')).toBe(true);
  });

  test('the fork happens for the v2 cgroup even without a pid namespace', () => {
    const spec = (s: Spec): void => void (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid'));
    expect(buildCreatePlan(createInput(spec)).filter((o) => o.op === 'fork')).toHaveLength(1);
  });

  test('cgroup and mount namespaces joined by path are joined after that fork', () => {
    const ops = flat(buildCreatePlan(createInput((s) => {
      delete s.hostname;
      s.linux!.namespaces = [{ type: 'pid' }, { type: 'cgroup', path: '/proc/9/ns/cgroup' }, { type: 'mount', path: '/proc/9/ns/mnt' }, { type: 'network', path: '/proc/9/ns/net' }];
    })));
    const at = (type: number): number => ops.findIndex((o) => o[0] === 'setns' && Number(o[1]) === type);
    const fork = ops.findIndex((o) => o[0] === 'fork');
    expect(at(CLONE_FLAGS.network)).toBeLessThan(fork);
    expect(at(CLONE_FLAGS.cgroup)).toBe(fork + 1);
    expect(at(CLONE_FLAGS.mount)).toBe(fork + 2);
  });

  test('the v1 pids join is opened with the other joins and made at the fork; without a fork the init joins it itself', () => {
    const dirs = { ...HYBRID, pids: '/sys/fs/cgroup/pids/t/c1' };
    const plan = (mutate: (s: Spec) => void, join = planCgroupJoin(dirs, false)): string[][] =>
      flat(buildCreatePlan(createPlanInput(mutate, { host: { lastCap: 40, cgroupDirs: dirs, cgroupV2: false }, cgroupJoin: join })));
    const forking = plan(() => undefined);
    expect(forking.slice(1, 5)).toContainEqual(['cgroup', 'v1AtFork', dirs.pids]);
    expect(forking.filter((o) => o[0] === 'fork')).toHaveLength(1);
    // A v1-only host (no v2 fork) and no pid namespace: nothing forks.
    const { unified: _, ...v1Only } = dirs;
    const still = plan((s) => void (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid')), planCgroupJoin(v1Only, false));
    expect(still.filter((o) => o[0] === 'fork')).toHaveLength(0);
    expect(still).toContainEqual(['cgroup', 'v1', dirs.pids]);
    // With a user namespace (no fork into v2), a new cgroup namespace still waits for
    // the fork, where the pids join is: it is rooted where the process is.
    const userAndCgroupNs = plan((s) => {
      s.linux!.namespaces!.push({ type: 'user' }, { type: 'cgroup' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, planCgroupJoin(dirs, true));
    const fork = userAndCgroupNs.findIndex((o) => o[0] === 'fork');
    const unshares = userAndCgroupNs.map((o, i) => [i, Number(o[1])] as const).filter(([i]) => userAndCgroupNs[i]![0] === 'unshare');
    expect(unshares.filter(([, flags]) => flags & CLONE_FLAGS.cgroup)).toEqual([[fork + 1, CLONE_FLAGS.cgroup]]);
    expect(unshares.some(([i, flags]) => i < fork && flags & CLONE_FLAGS.network)).toBe(true);
  });

  test('with a user namespace the parent gets `sync start` right after the v1 joins, before the user namespace', () => {
    const ops = flat(buildCreatePlan(createInput((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }, true)));
    expect(ops.slice(0, 5)).toEqual([
      ['fds', '0', '1'],
      ['cgroup', 'v1', HYBRID.cpu],
      ['cgroup', 'v1', HYBRID.memory],
      ['sync', 'start'],
      ['unshare', String(CLONE_FLAGS.user)],
    ]);
  });
});

describe('exec plan with cgroups to join', () => {
  const proc = { user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin'], cwd: '/' };
  const exec = (namespaces: Record<string, string>, userNs: boolean) =>
    flat(buildExecPlan({ proc, namespaces, preserveFds: 0, extraFds: 3, lastCap: 40, warn: () => undefined, cgroupJoin: planCgroupJoin(HYBRID, userNs) }));

  test('joins first (the mount namespace too: never in the container with the host\'s root), forks into the v2 cgroup, then joins the cgroup namespace', () => {
    const ops = exec({ pid: '/p', cgroup: '/c', mount: '/m' }, false);
    expect(ops.slice(0, 8)).toEqual([
      ['fds', '0', '3'],
      ['cgroup', 'v1', HYBRID.cpu],
      ['cgroup', 'v1', HYBRID.memory],
      ['cgroup', 'v2', HYBRID.unified],
      ['setns', String(CLONE_FLAGS.pid), '/p'],
      ['setns', String(CLONE_FLAGS.mount), '/m'],
      ['fork'],
      ['setns', String(CLONE_FLAGS.cgroup), '/c'],
    ]);
    // Without a pid namespace the fork is still there: it is the way into v2.
    expect(exec({ mount: '/m' }, false).filter((o) => o[0] === 'fork')).toHaveLength(1);
  });

  test('into a container with a user namespace: the parent places v2 at `sync start`, joins keep their order', () => {
    const ops = exec({ user: '/u', mount: '/m' }, true);
    expect(ops.slice(0, 7)).toEqual([
      ['fds', '0', '3'],
      ['cgroup', 'v1', HYBRID.cpu],
      ['cgroup', 'v1', HYBRID.memory],
      ['sync', 'start'],
      ['setns', String(CLONE_FLAGS.user), '/u'],
      ['becomeRoot'],
      ['setns', String(CLONE_FLAGS.mount), '/m'],
    ]);
    expect(ops.some((o) => o[0] === 'fork')).toBe(false);
  });

  test('the v1 pids join waits for the fork into the pid namespace; without one the init joins it', () => {
    const join = planCgroupJoin({ pids: '/sys/fs/cgroup/pids/c' }, true);
    const run = (namespaces: Record<string, string>): string[][] =>
      flat(buildExecPlan({ proc, namespaces, preserveFds: 0, extraFds: 3, lastCap: 40, warn: () => undefined, cgroupJoin: join }));
    expect(run({ user: '/u', pid: '/p' })).toContainEqual(['cgroup', 'v1AtFork', '/sys/fs/cgroup/pids/c']);
    expect(run({ user: '/u' })).toContainEqual(['cgroup', 'v1', '/sys/fs/cgroup/pids/c']);
  });
});
