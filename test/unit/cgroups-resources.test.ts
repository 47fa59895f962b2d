// linux.resources planners (v1 and v2), the conversions runc uses, the v2 driver
// against a fake unified tree, the update flag parsers, ps filtering and stats.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createCgroupManager } from '../../src/cgroups';
import {
  blkioWeightToIOWeight,
  cpuSharesToWeight,
  memorySwapToV2,
  mergeResources,
  validateResources,
  type CgroupReader,
} from '../../src/cgroups/resources';
import { statsJson, statsV1, statsV2 } from '../../src/cgroups/stats';
import { parseCpuList } from '../../src/config/cpu-list';
import { hugetlbFileSize, planV1Resources } from '../../src/cgroups/v1-resources';
import { planV2Resources } from '../../src/cgroups/v2-resources';
import { parseDuration } from '../../src/cli/commands/events';
import { parseInteger, parseRamSize, resourcesFromFlags, resourcesFromJson } from '../../src/cli/commands/update';
import { normalizeArgv } from '../../src/cli/argv';
import { ConfigError, NotSupportedError } from '../../src/errors';
import { filterPsOutput } from '../../src/lifecycle/ps';
import { withRecordedCheckBeforeUpdate } from '../../src/lifecycle/update';

const none: CgroupReader = () => null;
const files = (map: Record<string, string>): CgroupReader => (_c, f) => map[f] ?? null;
const lines = (plan: { writes: { file: string; value: string }[] }) => plan.writes.map((w) => `${w.file}=${w.value}`);

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.field;
    throw e;
  }
  throw new Error('did not throw');
}

describe('runc conversions', () => {
  test('cpu shares -> cpu.weight', () => {
    expect(cpuSharesToWeight(0)).toBe(0);
    expect(cpuSharesToWeight(2)).toBe(1);
    // runc 1.3.2's curve: the default 1024 shares are the default weight 100.
    expect(cpuSharesToWeight(1024)).toBe(100);
    expect(cpuSharesToWeight(512)).toBe(59);
    expect(cpuSharesToWeight(2048)).toBe(174);
    expect(cpuSharesToWeight(1)).toBe(1);
    expect(cpuSharesToWeight(262144)).toBe(10000);
    expect(cpuSharesToWeight(1 << 20)).toBe(10000);
  });
  test('blkio weight -> io.weight', () => {
    expect(blkioWeightToIOWeight(10)).toBe(1);
    expect(blkioWeightToIOWeight(500)).toBe(4950);
    expect(blkioWeightToIOWeight(1000)).toBe(10000);
  });
  test('memory swap (memory+swap) -> memory.swap.max (swap alone)', () => {
    expect(memorySwapToV2(undefined, undefined, 'f')).toBeUndefined();
    expect(memorySwapToV2(undefined, -1, 'f')).toBe('max');
    expect(memorySwapToV2(-1, 100, 'f')).toBe('max');
    expect(memorySwapToV2(300, 100, 'f')).toBe('200');
    expect(memorySwapToV2(100, 100, 'f')).toBe('0');
    expect(() => memorySwapToV2(50, 100, 'f')).toThrow(/must be >= the memory limit/);
    expect(() => memorySwapToV2(50, undefined, 'f')).toThrow(/needs a memory limit/);
    // Unlimited memory, limited swap: the swap value itself (runc 1.2.1).
    expect(memorySwapToV2(1073741824, -1, 'f')).toBe('1073741824');
    expect(() => memorySwapToV2(300, -2, 'f')).toThrow(/invalid memory limit -2/);
  });
  test('cpu lists and huge page names', () => {
    expect(parseCpuList('0-2,5', 'f')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('', 'f')).toEqual([]);
    expect(() => parseCpuList('a-b', 'linux.resources.cpu.cpus')).toThrow(/linux.resources.cpu.cpus/);
    expect(() => parseCpuList('3-1', 'f')).toThrow(/backwards/);
    // Sorted, without repeats; strides as the kernel reads them: the first `used` of every `group`.
    expect(parseCpuList('7,0-2,1', 'f')).toEqual([0, 1, 2, 7]);
    expect(parseCpuList('0-15:2/4', 'f')).toEqual([0, 1, 4, 5, 8, 9, 12, 13]);
    expect(() => parseCpuList('0-7:5/4', 'f')).toThrow(/stride/);
    // As the kernel: empty elements skipped, a stride may use none of each group.
    expect(parseCpuList('0,,1,', 'f')).toEqual([0, 1]);
    expect(parseCpuList('0-3:0/2', 'f')).toEqual([]);
    expect(() => parseCpuList('70000', 'f')).toThrow(/above 65535/);
    expect(hugetlbFileSize('2MB', 'f')).toBe('2MB');
    expect(hugetlbFileSize('2048KB', 'f')).toBe('2MB');
    expect(hugetlbFileSize('1GB', 'f')).toBe('1GB');
    expect(hugetlbFileSize('64KB', 'f')).toBe('64KB');
  });
});

describe('validateResources', () => {
  test.each([
    [{ cpu: { shares: -1 } }, 'linux.resources.cpu.shares'],
    [{ cpu: { cpus: 'x' } }, 'linux.resources.cpu.cpus'],
    [{ cpu: { idle: 2 } }, 'linux.resources.cpu.idle'],
    [{ memory: { limit: -2 } }, 'linux.resources.memory.limit'],
    [{ memory: { swappiness: 101 } }, 'linux.resources.memory.swappiness'],
    [{ memory: { limit: 2 ** 64 } }, 'linux.resources.memory.limit'],
    [{ pids: { limit: 2 ** 53 } }, 'linux.resources.pids.limit'],
    [{ pids: { limit: 'x' } }, 'linux.resources.pids.limit'],
    [{ blockIO: { weight: 70000 } }, 'linux.resources.blockIO.weight'],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8 }] } }, 'linux.resources.blockIO.throttleReadBpsDevice[0]'],
    [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, 'linux.resources.hugepageLimits[0].pageSize'],
    [{ unified: { 'memory.max': 5 } }, 'linux.resources.unified.memory.max'],
  ])('%j is refused naming %s', (r, field) => {
    expect(fieldOf(() => validateResources(r))).toBe(field);
  });
  test('a refused value and its bounds are said with all their digits, not JavaScript\'s rounded form of a large number', () => {
    const messageOf = (r: unknown): string => {
      try {
        validateResources(r);
      } catch (e) {
        return (e as Error).message;
      }
      return 'taken';
    };
    const int64Max = JSON.parse('9223372036854775807') as number;
    expect(messageOf({ pids: { limit: int64Max } })).toBe(
      'linux.resources.pids.limit: must be between -9223372036854775808 and 9007199254740991, got 9223372036854775808 (as read: a JSON number past 2^53 is rounded)',
    );
    expect(messageOf({ memory: { limit: 2 ** 64 } })).toBe(
      'linux.resources.memory.limit: must be between -1 and 9223372036854775808, got 18446744073709551616 (as read: a JSON number past 2^53 is rounded)',
    );
    expect(messageOf({ memory: { swappiness: 101 } })).toBe('linux.resources.memory.swappiness: must be between 0 and 100, got 101');
  });
  test('memory sizes up to int64\'s largest (math.MaxInt64, which JSON.parse reads as 2^63) are taken and written exactly as that double', () => {
    const max = JSON.parse('9223372036854775807') as number;
    const r = { memory: { limit: max, swap: max, reservation: max, kernelTCP: max } };
    expect(validateResources(r)).toBe(r);
    expect(lines(planV1Resources(r, none))).toEqual([
      'memory.memsw.limit_in_bytes=9223372036854775808',
      'memory.limit_in_bytes=9223372036854775808',
      'memory.soft_limit_in_bytes=9223372036854775808',
    ]);
    expect(lines(planV2Resources({ memory: { limit: max, swap: max, reservation: max } }, none))).toEqual([
      'memory.swap.max=0', 'memory.max=9223372036854775808', 'memory.low=9223372036854775808',
    ]);
  });
  test('a swappiness of uint64\'s largest value (int64\'s -1 to runc, Docker\'s --memory-swappiness -1) is taken as not set: nothing written, v1 or v2', () => {
    const unset = JSON.parse('18446744073709551615') as number;
    const r = { memory: { limit: 1 << 20, swappiness: unset } };
    expect(validateResources(r)).toBe(r);
    expect(lines(planV1Resources(r, none))).toEqual(['memory.limit_in_bytes=1048576']);
    expect(lines(planV2Resources(r, none))).toEqual(['memory.max=1048576']);
    expect(fieldOf(() => validateResources({ memory: { swappiness: 101 } }))).toBe('linux.resources.memory.swappiness');
    expect(lines(planV1Resources({ memory: { swappiness: 0 } }, none))).toEqual(['memory.swappiness=0']);
  });
  test('a full valid set passes unchanged', () => {
    const r = { memory: { limit: 1 << 20, swap: -1 }, cpu: { shares: 1024, cpus: '0-1' }, pids: { limit: -1 }, unified: { 'memory.high': '1M' } };
    expect(validateResources(r)).toBe(r);
  });
});

describe('v1 planner', () => {
  test('containerd\'s cpu.shares 1024 alone is one write, verified on read back', () => {
    const plan = planV1Resources({ cpu: { shares: 1024 } }, none);
    expect(lines(plan)).toEqual(['cpu.shares=1024']);
    expect(plan.writes[0].controller).toBe('cpu');
    expect(plan.writes[0].verify?.('1024')).toBeUndefined();
    expect(planV1Resources({ cpu: { shares: 300000 } }, none).writes[0].verify?.('262144')).toBe('the maximum allowed cpu-shares is 262144');
    expect(planV1Resources({ cpu: { shares: 1 } }, none).writes[0].verify?.('2')).toBe('the minimum allowed cpu-shares is 2');
  });
  test('memory and memsw are ordered so memsw >= limit at every step', () => {
    // growing past the current memsw limit: memsw first
    expect(lines(planV1Resources({ memory: { limit: 200, swap: 400 } }, files({ 'memory.memsw.limit_in_bytes': '300' })))).toEqual([
      'memory.memsw.limit_in_bytes=400',
      'memory.limit_in_bytes=200',
    ]);
    // shrinking: limit first
    expect(lines(planV1Resources({ memory: { limit: 100, swap: 200 } }, files({ 'memory.memsw.limit_in_bytes': '300' })))).toEqual([
      'memory.limit_in_bytes=100',
      'memory.memsw.limit_in_bytes=200',
    ]);
    // unlimited memory with swap unset: memsw unlimited too
    expect(lines(planV1Resources({ memory: { limit: -1 } }, files({ 'memory.memsw.limit_in_bytes': '300' })))).toEqual([
      'memory.memsw.limit_in_bytes=-1',
      'memory.limit_in_bytes=-1',
    ]);
    // ... but only where swap is accounted (memsw exists), as runc
    expect(lines(planV1Resources({ memory: { limit: -1 } }, none))).toEqual(['memory.limit_in_bytes=-1']);
    expect(fieldOf(() => planV1Resources({ memory: { limit: 100, swap: 50 } }, none))).toBe('linux.resources.memory.swap');
  });
  test('every memory knob', () => {
    const plan = planV1Resources({ memory: { reservation: 5, kernel: 7, kernelTCP: 9, swappiness: 0, disableOOMKiller: true, useHierarchy: true } }, none);
    expect(lines(plan)).toEqual([
      'memory.soft_limit_in_bytes=5',
      'memory.swappiness=0',
      'memory.oom_control=1',
      'memory.use_hierarchy=1',
    ]);
    // Left alone with runc's warning, as runc leaves them.
    expect(plan.warnings).toEqual(['Kernel memory settings are ignored and will be removed']);
  });
  test('kernel memory settings are never written, on v1 or v2, and a 0 is warned about too (runc at create)', () => {
    for (const memory of [{ kernelTCP: 0 }, { kernel: 0 }, { kernelTCP: 10, kernel: 10 }]) {
      for (const plan of [planV1Resources({ memory }, none), planV2Resources({ memory }, none)]) {
        expect({ memory, writes: lines(plan), warnings: plan.warnings }).toEqual({ memory, writes: [], warnings: ['Kernel memory settings are ignored and will be removed'] });
      }
    }
  });
  test('checkBeforeUpdate refuses a limit below usage, only on update', () => {
    const read = files({ 'memory.usage_in_bytes': '1000' });
    const r = { memory: { limit: 500, checkBeforeUpdate: true } };
    expect(lines(planV1Resources(r, read))).toEqual(['memory.limit_in_bytes=500']);
    expect(() => planV1Resources(r, read, { update: true })).toThrow('linux.resources.memory.limit: rejecting memory limit 500 below current usage 1000');
  });
  test('cpu: period before quota, rt, cpuset, idle, burst', () => {
    const plan = planV1Resources({ cpu: { quota: 5000, period: 10000, burst: 100, realtimePeriod: 1000, realtimeRuntime: 500, cpus: '0', mems: '0', idle: 1 } }, none);
    expect(lines(plan)).toEqual([
      'cpu.cfs_period_us=10000',
      'cpu.cfs_quota_us=5000',
      'cpu.cfs_burst_us=100',
      'cpu.rt_period_us=1000',
      'cpu.rt_runtime_us=500',
      'cpu.idle=1',
      'cpuset.cpus=0',
      'cpuset.mems=0',
    ]);
    expect(plan.writes.filter((w) => w.file.startsWith('cpuset')).every((w) => w.controller === 'cpuset')).toBe(true);
    // A period the kernel refuses under the old quota is tried again after the new quota; alone, it is not.
    expect(plan.writes.map((w) => w.retryAfter)).toEqual(['cpu.cfs_quota_us', undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(planV1Resources({ cpu: { period: 10000 } }, none).writes[0].retryAfter).toBeUndefined();
  });
  test('cpu idle and burst: 0 is written (how an update leaves idle or ends a burst); leaving idle before shares, entering it after', () => {
    const v1 = files({ 'cpu.idle': '1', 'cpu.cfs_burst_us': '5' });
    const v2 = files({ 'cpu.idle': '1', 'cpu.max.burst': '5' });
    expect(lines(planV1Resources({ cpu: { idle: 0, burst: 0, shares: 512 } }, v1))).toEqual(['cpu.idle=0', 'cpu.shares=512', 'cpu.cfs_burst_us=0']);
    expect(lines(planV1Resources({ cpu: { idle: 1, shares: 512 } }, v1))).toEqual(['cpu.shares=512', 'cpu.idle=1']);
    expect(lines(planV2Resources({ cpu: { idle: 0, burst: 0, shares: 1024 } }, v2))).toEqual(['cpu.idle=0', 'cpu.weight=100', 'cpu.max.burst=0']);
    expect(lines(planV2Resources({ cpu: { idle: 1, shares: 1024 } }, v2))).toEqual(['cpu.weight=100', 'cpu.idle=1']);
    // Shares with idle 1 are written but not in force (the kernel's lowest weight): said.
    const idleShares = 'linux.resources.cpu.shares: not in force while cpu.idle is 1 (the kernel gives an idle group the lowest weight)';
    expect(planV1Resources({ cpu: { idle: 1, shares: 512 } }, v1).warnings).toEqual([idleShares]);
    expect(planV2Resources({ cpu: { idle: 1, shares: 1024 } }, v2).warnings).toEqual([idleShares]);
    expect(planV1Resources({ cpu: { idle: 0, shares: 512 } }, v1).warnings).toEqual([]);
    // A kernel without the files (before 5.14/5.15): a 0 has nothing to undo and is not written.
    expect(lines(planV1Resources({ cpu: { idle: 0, burst: 0 } }, none))).toEqual([]);
    expect(lines(planV2Resources({ cpu: { idle: 0, burst: 0 } }, none))).toEqual([]);
  });
  test('v2: an update giving memory+swap alone converts it with the limit the cgroup has (runc uses its recorded limit)', () => {
    const limited = files({ 'memory.max': String(64 << 20) });
    expect(lines(planV2Resources({ memory: { swap: 96 << 20 } }, limited, { update: true }))).toEqual([`memory.swap.max=${32 << 20}`]);
    expect(lines(planV2Resources({ memory: { swap: -1 } }, files({ 'memory.max': 'max' }), { update: true }))).toEqual(['memory.swap.max=max']);
    // At create there is no earlier limit to take: the config must give one.
    expect(() => planV2Resources({ memory: { swap: 96 << 20 } }, limited)).toThrow(/a swap limit needs a memory limit/);
    // Unlimited memory and a swap limit, given or already there (runc 1.2.1): swap alone is limited.
    expect(lines(planV2Resources({ memory: { limit: -1, swap: 96 << 20 } }, none))).toEqual([`memory.swap.max=${96 << 20}`, 'memory.max=max']);
    expect(lines(planV2Resources({ memory: { swap: 96 << 20 } }, files({ 'memory.max': 'max' }), { update: true }))).toEqual([`memory.swap.max=${96 << 20}`]);
  });
  test('blkio uses blkio.weight, or the BFQ files when only those exist', () => {
    const r = {
      blockIO: {
        weight: 300,
        leafWeight: 200,
        weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 10 }],
      },
    };
    expect(lines(planV1Resources(r, files({ 'blkio.weight': '500' })))).toEqual([
      'blkio.weight=300',
      'blkio.leaf_weight=200',
      'blkio.weight_device=8:0 100',
      'blkio.leaf_weight_device=8:0 50',
      'blkio.throttle.read_bps_device=8:0 1000',
      'blkio.throttle.write_iops_device=8:16 10',
    ]);
    expect(lines(planV1Resources({ blockIO: { weight: 300 } }, files({ 'blkio.bfq.weight': '100' })))).toEqual(['blkio.bfq.weight=300']);
  });
  test('pids, hugetlb, net_cls, net_prio, rdma', () => {
    const plan = planV1Resources(
      {
        pids: { limit: -1 },
        hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
        network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
      },
      none,
    );
    expect(lines(plan)).toEqual([
      'pids.max=max',
      'hugetlb.2MB.limit_in_bytes=4194304',
      'net_cls.classid=1048577',
      'net_prio.ifpriomap=eth0 5',
      'rdma.max=mlx5_1 hca_handle=3 hca_object=10000',
    ]);
    expect(plan.writes.map((w) => w.controller)).toEqual(['pids', 'hugetlb', 'net_cls', 'net_prio', 'rdma']);
    expect(lines(planV1Resources({ pids: { limit: 20 } }, none))).toEqual(['pids.max=20']);
  });
  test('unified is refused on v1 with runc\'s reason; zero values write nothing', () => {
    expect(() => planV1Resources({ unified: { 'memory.max': '1' } }, none)).toThrow('linux.resources.unified: invalid configuration: cannot use unified on cgroup v1');
    expect(lines(planV1Resources({ memory: { limit: 0, swap: 0 }, cpu: { shares: 0, quota: 0 }, pids: { limit: 0 }, blockIO: { weight: 0 } }, none))).toEqual([]);
  });
});

describe('v2 planner', () => {
  test('converted values and file names', () => {
    const plan = planV2Resources(
      {
        memory: { limit: 1 << 20, swap: 3 << 20, reservation: 1 << 19 },
        cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, cpus: '0-1', mems: '0', idle: 1 },
        blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }] },
        pids: { limit: 10 },
        hugepageLimits: [{ pageSize: '2048KB', limit: 0 }],
        rdma: { mlx5_1: { hcaHandles: 2 } },
        unified: { 'memory.high': '900000' },
      },
      none,
    );
    expect(lines(plan)).toEqual([
      'memory.swap.max=2097152',
      'memory.max=1048576',
      'memory.low=524288',
      'cpu.weight=100',
      'cpu.max=50000 100000',
      'cpu.max.burst=1000',
      'cpu.idle=1',
      'cpuset.cpus=0-1',
      'cpuset.mems=0',
      'io.weight=4950',
      'io.weight=8:0 1',
      'io.max=8:0 rbps=1048576',
      'io.max=8:0 wiops=max',
      'pids.max=10',
      'hugetlb.2MB.max=0',
      'rdma.max=mlx5_1 hca_handle=2',
      'memory.high=900000',
    ]);
  });
  test('unlimited values and quota without period', () => {
    expect(lines(planV2Resources({ memory: { limit: -1 }, cpu: { quota: -1 }, pids: { limit: -1 } }, none))).toEqual([
      'memory.swap.max=max',
      'memory.max=max',
      'cpu.max=max',
      'pids.max=max',
    ]);
  });
  test('cpu.max: a period alone keeps the quota in force, a quota alone writes no period', () => {
    expect(lines(planV2Resources({ cpu: { period: 50000 } }, files({ 'cpu.max': '25000 100000' })))).toEqual(['cpu.max=25000 50000']);
    expect(lines(planV2Resources({ cpu: { period: 50000 } }, files({ 'cpu.max': 'max 100000' })))).toEqual(['cpu.max=max 50000']);
    expect(lines(planV2Resources({ cpu: { period: 50000 } }, none))).toEqual(['cpu.max=max 50000']);
    expect(lines(planV2Resources({ cpu: { quota: 30000 } }, files({ 'cpu.max': '25000 100000' })))).toEqual(['cpu.max=30000']);
  });
  test('BFQ takes the v1 weight as is', () => {
    expect(lines(planV2Resources({ blockIO: { weight: 500 } }, files({ 'io.bfq.weight': 'default 100' })))).toEqual(['io.bfq.weight=500']);
  });
  test.each([
    [{ cpu: { realtimeRuntime: 5 } }, 'linux.resources.cpu.realtimeRuntime'],
    [{ cpu: { shares: 1 } }, 'linux.resources.cpu.shares'],
    [{ memory: { swappiness: 10 } }, 'linux.resources.memory.swappiness'],
    [{ memory: { disableOOMKiller: true } }, 'linux.resources.memory.disableOOMKiller'],
    [{ blockIO: { leafWeight: 10 } }, 'linux.resources.blockIO.leafWeight'],
    [{ blockIO: { weight: 5 } }, 'linux.resources.blockIO.weight'],
    [{ network: { classID: 1 } }, 'linux.resources.network'],
    [{ unified: { 'memory/../x': '1' } }, 'linux.resources.unified.memory/../x'],
    [{ unified: { nodot: '1' } }, 'linux.resources.unified.nodot'],
    [{ unified: { 'cgroup.procs': '1' } }, 'linux.resources.unified.cgroup.procs'],
  ])('%j has no v2 meaning: refused naming %s', (r, field) => {
    expect(fieldOf(() => planV2Resources(r, none))).toBe(field);
  });
});

describe('v2 driver on a fake unified tree', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgfake-res-'));
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function v2(): { m: ReturnType<typeof createCgroupManager>; leaf: string } {
    const m = createCgroupManager({
      cgroupsPath: '/tsrun-test/c1',
      id: 'c1',
      root,
      readMountinfo: () => `30 25 0:26 / ${root} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`,
    });
    m.create();
    const leaf = path.join(root, 'tsrun-test/c1');
    // What the kernel would show in the leaf with the parent's controllers enabled.
    fs.writeFileSync(path.join(leaf, 'cgroup.controllers'), 'cpuset cpu memory pids\n');
    for (const f of ['cpu.weight', 'cpu.max', 'memory.max', 'memory.swap.max', 'memory.low', 'memory.high', 'memory.current', 'pids.max', 'cpuset.cpus']) {
      fs.writeFileSync(path.join(leaf, f), '');
    }
    fs.writeFileSync(path.join(leaf, 'memory.current'), '4096\n');
    return { m, leaf };
  }
  const read = (leaf: string, f: string) => fs.readFileSync(path.join(leaf, f), 'utf8');

  test('set writes the converted values into the leaf', () => {
    const { m, leaf } = v2();
    expect(m.layout).toBe('unified');
    const warnings = m.set({ memory: { limit: 1 << 20, swap: -1 }, cpu: { shares: 1024, quota: 20000, cpus: '0' }, pids: { limit: 7 }, unified: { 'memory.high': '500000' } });
    expect(warnings).toEqual([]);
    expect(read(leaf, 'cpu.weight')).toBe('100');
    expect(read(leaf, 'cpu.max')).toBe('20000');
    expect(read(leaf, 'memory.max')).toBe('1048576');
    expect(read(leaf, 'memory.swap.max')).toBe('max');
    expect(read(leaf, 'pids.max')).toBe('7');
    expect(read(leaf, 'cpuset.cpus')).toBe('0');
    expect(read(leaf, 'memory.high')).toBe('500000');
  });
  test('update --cpu-period alone keeps the quota the cgroup has; --cpu-quota alone keeps its period', () => {
    const { m, leaf } = v2();
    // What the kernel would show: the file's own value, not what was last written.
    fs.writeFileSync(path.join(leaf, 'cpu.max'), '25000 100000\n');
    m.set({ cpu: { period: 50000 } }, { update: true });
    expect(read(leaf, 'cpu.max')).toBe('25000 50000');
    m.set({ cpu: { quota: 10000 } }, { update: true });
    expect(read(leaf, 'cpu.max')).toBe('10000');
  });
  test('an update that fails part way puts back what it had changed, newest first; create does not', () => {
    const { m, leaf } = v2();
    fs.writeFileSync(path.join(leaf, 'memory.max'), '2097152\n');
    fs.writeFileSync(path.join(leaf, 'cpu.weight'), '100\n');
    fs.writeFileSync(path.join(leaf, 'memory.high'), 'max\n');
    // A file the kernel would refuse: here, one that cannot be opened for writing.
    fs.rmSync(path.join(leaf, 'pids.max'));
    fs.mkdirSync(path.join(leaf, 'pids.max'));
    const update = { memory: { limit: 1 << 20 }, cpu: { shares: 1024 }, pids: { limit: 5 }, unified: { 'memory.high': '1' } };
    expect(() => m.set(update, { update: true })).toThrow(/^linux\.resources\.pids\.limit: write "5" to .*pids\.max: EISDIR$/);
    expect([read(leaf, 'memory.max'), read(leaf, 'cpu.weight'), read(leaf, 'memory.high')]).toEqual(['2097152', '100', 'max\n']);
    // A file of several lines goes back one line a write (as io.weight takes them):
    // through one open file, which a plain file shows as the writes one after another.
    fs.writeFileSync(path.join(leaf, 'memory.max'), 'line1\nline2\n');
    expect(() => m.set(update, { update: true })).toThrow(/pids\.limit/);
    expect(read(leaf, 'memory.max')).toBe('line1line2');
    // create: the cgroup is removed on failure, nothing to put back
    fs.writeFileSync(path.join(leaf, 'memory.max'), 'max\n');
    expect(() => m.set(update)).toThrow(/pids\.limit/);
    expect(read(leaf, 'memory.max')).toBe('1048576');
  });
  test('an unknown unified key or a missing controller is refused naming the field', () => {
    const { m } = v2();
    expect(() => m.set({ unified: { 'memory.nonsense': '1' } })).toThrow('linux.resources.unified.memory.nonsense: memory.nonsense does not exist');
    expect(() => m.set({ unified: { 'io.max': '8:0 rbps=1' } })).toThrow(/linux.resources.unified.io.max: the io controller is not available in this cgroup/);
    expect(() => m.set({ blockIO: { weight: 100 } })).toThrow(/linux.resources.blockIO.weight: the io controller is not available/);
    expect(() => m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] })).toThrow(/linux.resources.hugepageLimits\[0\]: the hugetlb controller/);
  });
  test('checkBeforeUpdate reads memory.current on update', () => {
    const { m } = v2();
    expect(() => m.set({ memory: { limit: 1024, checkBeforeUpdate: true } }, { update: true })).toThrow('rejecting memory limit 1024 below current usage 4096');
  });
  test('stats read the v2 files into runc\'s shape', () => {
    const { leaf } = v2();
    fs.writeFileSync(path.join(leaf, 'cpu.stat'), 'usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 3\nnr_throttled 1\nthrottled_usec 5\n');
    fs.writeFileSync(path.join(leaf, 'memory.max'), 'max\n');
    fs.writeFileSync(path.join(leaf, 'memory.stat'), 'file 10\nanon 20\n');
    fs.writeFileSync(path.join(leaf, 'pids.current'), '2\n');
    fs.writeFileSync(path.join(leaf, 'pids.max'), '9\n');
    fs.writeFileSync(path.join(leaf, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=0 dbytes=0 dios=0\n');
    fs.writeFileSync(path.join(leaf, 'hugetlb.2MB.current'), '0\n');
    fs.writeFileSync(path.join(leaf, 'hugetlb.2MB.max'), '4194304\n');
    fs.writeFileSync(path.join(leaf, 'hugetlb.1GB.current'), '2097152\n');
    fs.writeFileSync(path.join(leaf, 'hugetlb.1GB.events'), 'max 3\n');
    const s = statsV2(leaf);
    expect(s.cpu).toEqual({ usage: { total: 100000, kernel: 40000, user: 60000 }, throttling: { periods: 3, throttledPeriods: 1, throttledTime: 5000 } });
    // runc's exact keys (types.Throttling), camelCase unlike their neighbours
    expect(statsJson(s)).toContain('"throttling":{"periods":3,"throttledPeriods":1,"throttledTime":5000}');
    expect(s.pids).toEqual({ current: 2, limit: 9 });
    expect(s.memory.cache).toBe(10);
    expect(s.memory.raw).toEqual({ anon: 20, file: 10 });
    // every field of an entry is omitempty in runc: device 8:0 has no minor, a zero count no value
    expect(s.blkio.ioServiceBytesRecursive).toEqual([{ major: 8, op: 'Read', value: 10 }, { major: 8, op: 'Write', value: 20 }]);
    expect(s.blkio.ioServicedRecursive).toEqual([{ major: 8, op: 'Read', value: 1 }, { major: 8, op: 'Write' }]);
    // hugetlb.<size>.max is a limit, not the peak usage runc's max means: left out on v2
    expect(s.hugetlb).toEqual({ '2MB': { failcnt: 0 }, '1GB': { usage: 2097152, failcnt: 3 } });
    // runc 1.1.5 reads no cpuset file on v2, but its cpuset key is always there
    expect(statsJson(s)).toContain('"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},"memory"');
    // "max" is Go's MaxUint64 on v2, printed exactly; no swap accounting: swap is memory alone
    expect(statsJson(s)).toContain('"usage":{"limit":18446744073709551615,"usage":4096,"failcnt":0},"swap":{"limit":18446744073709551615,"usage":4096,"failcnt":0}');
  });
  test('v2 stats: swap is reported as memory+swap (usage and limit), as cgroup v1 and runc report it', () => {
    const { leaf } = v2();
    const swap = (files: Record<string, string>) => {
      for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(leaf, f), `${v}\n`);
      return JSON.parse(statsJson(statsV2(leaf))).memory.swap;
    };
    expect(swap({ 'memory.max': '1048576', 'memory.current': '4096', 'memory.swap.current': '8192', 'memory.swap.max': '2097152' })).toEqual({ limit: 3145728, usage: 12288, failcnt: 0 });
    // an unlimited swap stays unlimited
    expect(swap({ 'memory.swap.max': 'max' })).toEqual({ limit: 18446744073709551615, usage: 12288, failcnt: 0 });
    expect(statsJson(statsV2(leaf))).toContain('"swap":{"limit":18446744073709551615,');
    // unlimited memory with a swap limit: unlimited (runc's uint64 sum would wrap to the swap limit - 1)
    expect(swap({ 'memory.max': 'max', 'memory.swap.max': '2097152' }).limit).toBe(18446744073709551615);
    // a sum above 2^53 is printed exactly
    fs.writeFileSync(path.join(leaf, 'memory.max'), '9007199254740992\n');
    fs.writeFileSync(path.join(leaf, 'memory.swap.max'), '3\n');
    expect(statsJson(statsV2(leaf))).toContain('"swap":{"limit":9007199254740995,');
  });
  test('v1 stats: runc\'s omitempty fields left out when zero, cpuset always there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgfake-v1stats-'));
    try {
      const put = (f: string, v: string) => fs.writeFileSync(path.join(dir, f), `${v}\n`);
      put('cpu.stat', 'nr_periods 4\nnr_throttled 2\nthrottled_time 777');
      put('hugetlb.2MB.usage_in_bytes', '0');
      put('hugetlb.2MB.max_usage_in_bytes', '0');
      put('hugetlb.2MB.failcnt', '0');
      put('hugetlb.1GB.usage_in_bytes', '1073741824');
      put('hugetlb.1GB.max_usage_in_bytes', '1073741824');
      put('hugetlb.1GB.failcnt', '1');
      put('blkio.throttle.io_serviced_recursive', '8:0 Read 0\n8:16 Write 5\nTotal 5');
      // Every controller in this one dir, but no cpuset hierarchy.
      const s = statsV1((c) => (c === 'cpuset' ? undefined : dir));
      expect(s.cpu.throttling).toEqual({ periods: 4, throttledPeriods: 2, throttledTime: 777 });
      expect(s.hugetlb).toEqual({ '2MB': { failcnt: 0 }, '1GB': { usage: 1073741824, max: 1073741824, failcnt: 1 } });
      expect(s.blkio.ioServicedRecursive).toEqual([{ major: 8, op: 'Read' }, { major: 8, minor: 16, op: 'Write', value: 5 }]);
      // no pids.current, no cpuacct files: runc leaves current, total and percpu out
      expect(s.pids).toEqual({});
      // no memory.stat: runc's empty map is left out
      expect('raw' in s.memory).toBe(false);
      expect(s.cpu.usage).toEqual({ kernel: 0, user: 0 });
      expect(Object.keys(s)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
      expect(s.cpuset).toEqual(expect.objectContaining({ cpu_exclusive: 0, sched_relax_domain_level: 0 }));
      expect(s.cpuset.cpus).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('v1 blkio stats, as runc reads them', () => {
  const stats = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cgfake-blkio-'));
    try {
      for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v);
      return statsV1((c) => (c === 'blkio' ? dir : undefined)).blkio;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  const throttle = { 'blkio.throttle.io_serviced_recursive': '8:0 Read 1\nTotal 1\n', 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 512\nTotal 512\n' };
  test('BFQ\'s files come first when they have entries (a disk BFQ schedules), the throttle layer\'s otherwise', () => {
    const bfq = { 'blkio.bfq.io_serviced_recursive': '8:16 Write 7\nTotal 7\n', 'blkio.bfq.io_service_bytes_recursive': '8:16 Write 4096\nTotal 4096\n' };
    expect(stats({ ...throttle, ...bfq })).toEqual({ ioServiceBytesRecursive: [{ major: 8, minor: 16, op: 'Write', value: 4096 }], ioServicedRecursive: [{ major: 8, minor: 16, op: 'Write', value: 7 }] });
    // BFQ's files exist on every v1 host with the module loaded, empty ("Total 0") without a BFQ disk.
    expect(stats({ ...throttle, 'blkio.bfq.io_serviced_recursive': 'Total 0\n', 'blkio.bfq.io_service_bytes_recursive': 'Total 0\n' })).toEqual({
      ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 512 }], ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }],
    });
    // The non-recursive throttle files last.
    expect(stats({ 'blkio.throttle.io_serviced': '8:0 Read 3\n', 'blkio.throttle.io_service_bytes': '8:0 Read 9\n' })).toEqual({ ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 9 }], ioServicedRecursive: [{ major: 8, op: 'Read', value: 3 }] });
    expect(stats({})).toEqual({});
  });
  test('CFQ\'s (or BFQ\'s debug) files: every stat, in runc\'s key order, sectors and time without an op', () => {
    const cfq = {
      'blkio.sectors_recursive': '8:0 16\n', 'blkio.io_service_time_recursive': '8:0 Read 100\n', 'blkio.io_wait_time_recursive': '8:0 Read 200\n',
      'blkio.io_merged_recursive': '8:0 Read 2\n', 'blkio.io_queued_recursive': '8:0 Read 1\n', 'blkio.time_recursive': '8:0 300\n',
      'blkio.io_serviced_recursive': '8:0 Read 4\nTotal 4\n', 'blkio.io_service_bytes_recursive': '8:0 Read 8192\nTotal 8192\n',
    };
    const s = stats({ ...throttle, ...cfq });
    expect(Object.keys(s)).toEqual(['ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive', 'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive']);
    expect([s.sectorsRecursive, s.ioTimeRecursive, s.ioServiceBytesRecursive]).toEqual([[{ major: 8, value: 16 }], [{ major: 8, value: 300 }], [{ major: 8, op: 'Read', value: 8192 }]]);
  });
});

describe('update flags and --resources', () => {
  test('sizes as runc reads them', () => {
    expect(parseRamSize('memory', '512m')).toBe(512 * 1024 * 1024);
    expect(parseRamSize('memory', '1g')).toBe(1024 ** 3);
    expect(parseRamSize('memory', '100')).toBe(100);
    expect(parseRamSize('memory', '1.5KiB')).toBe(1536);
    expect(parseRamSize('memory-swap', '-1')).toBe(-1);
    expect(() => parseRamSize('memory', 'abc')).toThrow("invalid value for memory: invalid size: 'abc'");
    // What runc 1.1.5 (go-units' pattern, then Go's ParseFloat) takes and refuses, seen with runc itself
    expect(parseRamSize('memory', '10 m')).toBe(10 << 20);
    expect(parseRamSize('memory', '1P')).toBe(1024 ** 5);
    expect(parseRamSize('memory', '1Mi')).toBe(1 << 20);
    expect(parseRamSize('memory', '1iB')).toBe(1);
    expect(parseRamSize('memory', '1.5')).toBe(1);
    expect(parseRamSize('memory', '08')).toBe(8);
    expect(() => parseRamSize('memory', '1.2.3m')).toThrow('invalid value for memory: strconv.ParseFloat: parsing "1.2.3": invalid syntax');
    expect(() => parseRamSize('memory-swap', '1.2.3.4')).toThrow('invalid value for memory-swap: strconv.ParseFloat: parsing "1.2.3.4": invalid syntax');
    expect(() => parseRamSize('memory', '9'.repeat(400))).toThrow(/strconv.ParseFloat: parsing "9+": value out of range/);
    for (const bad of ['5x', '1e3', '10  m', '0x10', '-5m', '.5m', '5.m', '1mbb', ' 5', '1_000', 'm', '+5', 'Inf', '1E', '1,5m']) {
      expect(() => parseRamSize('memory', bad)).toThrow(`invalid value for memory: invalid size: '${bad}'`);
    }
  });
  test('integer flags read as runc reads them: Go literals for --pids-limit and --blkio-weight, a sign for the signed base-10 ones', () => {
    const goInts: Array<[string, number]> = [['0x10', 16], ['010', 8], ['0o17', 15], ['0b101', 5], ['1_000', 1000], ['0x_1F', 31], ['0_17', 15], ['0', 0], ['-0x10', -16], ['+7', 7]];
    for (const [text, n] of goInts) expect({ text, n: parseInteger('pids-limit', text, true, true) }).toEqual({ text, n });
    for (const bad of ['08', '1__0', '_1', '1_', '0x', '0xg', '0b2', '1e3', ' 1', '']) {
      expect(() => parseInteger('pids-limit', bad, true, true)).toThrow(`invalid value for pids-limit: ${JSON.stringify(bad)} is not an integer`);
    }
    expect(() => parseInteger('blkio-weight', '-5', false, true)).toThrow('is not an unsigned integer');
    expect(resourcesFromFlags({ 'pids-limit': '010', 'blkio-weight': '0x64' })).toEqual({ pids: { limit: 8 }, blockIO: { weight: 100 } });
    // Base 10 (strconv.ParseInt/ParseUint): a sign where signed, no Go prefixes.
    expect(resourcesFromFlags({ 'cpu-quota': '+20000', 'cpu-period': '010' })).toEqual({ cpu: { quota: 20000, period: 10 } });
    expect(() => resourcesFromFlags({ 'cpu-quota': '0x10' })).toThrow(/invalid value for cpu-quota/);
    expect(() => resourcesFromFlags({ 'cpu-period': '+5' })).toThrow(/invalid value for cpu-period/);
  });
  test('flags become a LinuxResources with only the given fields', () => {
    expect(resourcesFromFlags({ memory: '1m', 'memory-swap': '-1', 'cpu-share': '512', 'cpu-quota': '-1', 'cpuset-cpus': '0', 'pids-limit': '-1', 'blkio-weight': '300' })).toEqual({
      memory: { limit: 1048576, swap: -1 },
      cpu: { shares: 512, quota: -1, cpus: '0' },
      pids: { limit: -1 },
      blockIO: { weight: 300 },
    });
    expect(resourcesFromFlags({})).toEqual({});
    expect(() => resourcesFromFlags({ 'cpu-share': '-5' })).toThrow(/invalid value for cpu-share/);
    expect(() => resourcesFromFlags({ 'l3-cache-schema': 'L3:0=f' })).toThrow(NotSupportedError);
    expect(() => resourcesFromFlags({ 'mem-bw-schema': 'MB:0=50' })).toThrow(NotSupportedError);
  });
  test('JSON resources: only what runc\'s update applies is kept (and validated); the rest is ignored', () => {
    // The shape containerd sends on every update: the container's whole resources.
    const full = {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 1 << 20, reservation: 1 << 19, swap: 2 << 20, kernel: 5, kernelTCP: 6, swappiness: 10, disableOOMKiller: true, useHierarchy: true, checkBeforeUpdate: true, future: 1 },
      cpu: { shares: 1024, quota: 1, burst: 2, period: 3, realtimeRuntime: 4, realtimePeriod: 5, cpus: '0', mems: '0', idle: 1, future: 1 },
      blockIO: { weight: 500, leafWeight: 10, weightDevice: [{ major: 8, minor: 0, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      pids: { limit: 10 },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 1 },
      rdma: { mlx5_1: { hcaHandles: 1 } },
      unified: { 'memory.high': '1M' },
      future: { anything: true },
    };
    expect(resourcesFromJson(JSON.stringify(full), 'stdin')).toEqual({
      memory: { limit: 1 << 20, reservation: 1 << 19, swap: 2 << 20, kernel: 5, kernelTCP: 6, checkBeforeUpdate: true },
      cpu: { shares: 1024, quota: 1, burst: 2, period: 3, realtimeRuntime: 4, realtimePeriod: 5, cpus: '0', mems: '0', idle: 1 },
      // The per-device lists since runc 1.3.3.
      blockIO: { weight: 500, leafWeight: 10, weightDevice: [{ major: 8, minor: 0, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      pids: { limit: 10 },
      unified: { 'memory.high': '1M' },
    });
    // An ignored field is never looked at, whatever it holds.
    expect(resourcesFromJson('{"devices":"x","hugepageLimits":[{"pageSize":"bad"}],"memory":{"swappiness":1000},"bogus":1}', 'stdin')).toEqual({ memory: {} });
    expect(() => resourcesFromJson('{"cpu":{"shares":-1}}', 'stdin')).toThrow('resources.cpu.shares');
    expect(() => resourcesFromJson('{"pids":5}', 'stdin')).toThrow('resources.pids: must be an object');
    expect(() => resourcesFromJson('[]', 'stdin')).toThrow('resources: must be an object');
    // null is as good as absent (runc: Go's decoder), at the top and in a member.
    expect(resourcesFromJson('null', 'stdin')).toEqual({});
    expect(resourcesFromJson('{"memory":{"limit":null,"swap":5},"cpu":null,"pids":{"limit":3}}', 'stdin')).toEqual({ memory: { swap: 5 }, pids: { limit: 3 } });
    expect(() => resourcesFromJson('{', 'stdin')).toThrow(/decoding resources from stdin/);
  });
  test('merge over the recorded resources', () => {
    expect(mergeResources({ devices: [1], memory: { limit: 1, swap: 2 } }, { memory: { limit: 5 }, pids: { limit: 3 } })).toEqual({
      devices: [1],
      memory: { limit: 5, swap: 2 },
      pids: { limit: 3 },
    });
  });
  test('merge over the recorded resources: block I/O devices are changed one by one (runc 1.3.3 upserts them)', () => {
    const recorded = { blockIO: { weight: 10, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }, { major: 8, minor: 16, rate: 2 }], weightDevice: [{ major: 8, minor: 0, weight: 20 }] } };
    expect(mergeResources(recorded, { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 16, rate: 5 }, { major: 254, minor: 0, rate: 6 }], weightDevice: [{ major: 8, minor: 0, leafWeight: 30 }] } })).toEqual({
      blockIO: {
        weight: 10,
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }, { major: 8, minor: 16, rate: 5 }, { major: 254, minor: 0, rate: 6 }],
        weightDevice: [{ major: 8, minor: 0, weight: 20, leafWeight: 30 }],
      },
    });
    // A device listed twice: the kernel kept the last entry, which the update changes.
    expect(mergeResources({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }, { major: 8, minor: 0, rate: 2 }] } }, { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 5 }] } })).toEqual({
      blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }, { major: 8, minor: 0, rate: 5 }] },
    });
    // Other arrays are replaced.
    expect(mergeResources({ hugepageLimits: [1] }, { hugepageLimits: [] } as never)).toEqual({ hugepageLimits: [] });
  });
  test('update takes --cpu-burst and --cpu-idle (runc 1.2), and the per-device block I/O lists of a --resources document', () => {
    expect(resourcesFromFlags({ 'cpu-burst': '1000', 'cpu-idle': '1' })).toEqual({ cpu: { burst: 1000, idle: 1 } });
    expect(() => resourcesFromFlags({ 'cpu-burst': '-1' })).toThrow(/invalid value for cpu-burst/);
    const devices = { weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }] };
    expect(resourcesFromJson(JSON.stringify({ blockIO: { ...devices, leafWeight: 50 } }), 'stdin')).toEqual({ blockIO: { ...devices, leafWeight: 50 } });
    expect(normalizeArgv(['update', '-cpu-burst', '5', '-cpu-idle', '1', 'c1'])).toEqual(['update', '--cpu-burst', '5', '--cpu-idle', '1', 'c1']);
  });
  test('single-dash update flags and ps arguments survive argv normalisation', () => {
    expect(normalizeArgv(['update', '-memory', '1m', '-cpu-share', '2', 'c1'])).toEqual(['update', '--memory', '1m', '--cpu-share', '2', 'c1']);
    expect(normalizeArgv(['--root', '/r', 'ps', 'c1', '-o', 'pid,comm'])).toEqual(['--root', '/r', 'ps', 'c1', '--', '-o', 'pid,comm']);
    expect(normalizeArgv(['ps', '--format', 'json', 'c1'])).toEqual(['ps', '--format', 'json', 'c1']);
  });
});

describe('update keeps memory.checkBeforeUpdate', () => {
  test('a new memory limit without checkBeforeUpdate takes the recorded one (runc 1.2 keeps it in its cgroup config)', () => {
    const recorded = { memory: { limit: 1 << 27, checkBeforeUpdate: true } };
    expect(withRecordedCheckBeforeUpdate({ memory: { limit: 4096 } }, recorded)).toEqual({ memory: { limit: 4096, checkBeforeUpdate: true } });
    // The document's own value wins; no limit, or none recorded: unchanged.
    const off = { memory: { limit: 4096, checkBeforeUpdate: false } };
    expect(withRecordedCheckBeforeUpdate(off, recorded)).toBe(off);
    const pids = { pids: { limit: 5 } };
    expect(withRecordedCheckBeforeUpdate(pids, recorded)).toBe(pids);
    const limit = { memory: { limit: 4096 } };
    expect(withRecordedCheckBeforeUpdate(limit, { memory: { limit: 1 } })).toBe(limit);
    expect(withRecordedCheckBeforeUpdate(limit, undefined)).toBe(limit);
  });
});

describe('ps filtering and events intervals', () => {
  test('keeps the header and the container\'s pids, whatever column PID is in', () => {
    const out = 'UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sh\nroot 420 42 sleep\n';
    expect(filterPsOutput(out, [42])).toBe('UID PID PPID CMD\nroot 42 1 sh\n');
    expect(filterPsOutput('  PID COMMAND\n   42 sh\n  420 sleep\n', [420])).toBe('  PID COMMAND\n  420 sleep\n');
    expect(() => filterPsOutput('USER COMMAND\n', [1])).toThrow("couldn't find PID field in ps output");
  });
  test('Go durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m30s')).toBe(90000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('5')).toThrow(/invalid value "5"/);
    expect(() => parseDuration('0s')).toThrow(/greater than 0/);
    // Go's forms: a fraction without a leading or trailing digit, a sign, a bare 0.
    expect([parseDuration('.5s'), parseDuration('1.s'), parseDuration('+2ms'), parseDuration('1h1us')]).toEqual([500, 1000, 2, 3600000.001]);
    for (const notAbove of ['0', '-1s', '-0', '+0s']) expect(() => parseDuration(notAbove)).toThrow('duration interval must be greater than 0');
    for (const bad of ['', '-', '.s', 's', '1x', '1s ', '--1s', '00', '3000000h', '99999999999999999999s']) expect(() => parseDuration(bad)).toThrow(`invalid value "${bad}" for flag -interval: parse error`);
    // Go's longest duration is taken (and waited for in parts: Node fires a timer of 2^31 ms at once).
    expect(parseDuration('2562047h')).toBe(2562047 * 3600000);
  });
});
