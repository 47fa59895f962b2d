import type { Spec } from '../../src/config/types';
import { checkNoLimitsWithoutCgroup } from '../../src/lifecycle/rootless';

const withResources = (resources: Record<string, unknown>): Spec => ({ ociVersion: '1.2.0', linux: { resources } }) as unknown as Spec;

describe('a rootless container without a cgroup of its own', () => {
  test('zero values, empty strings and lists, false and device rules set nothing: accepted (runc)', () => {
    const nothing = {
      devices: [{ allow: false, access: 'rwm' }],
      cpu: { shares: 0, quota: 0, cpus: '' },
      memory: { limit: 0, disableOOMKiller: false },
      pids: { limit: 0 },
      blockIO: { weight: 0, weightDevice: [] },
      network: { classID: 0, priorities: [] },
      hugepageLimits: [],
      unified: {},
    };
    expect(() => checkNoLimitsWithoutCgroup(withResources(nothing), 'mkdir x: EACCES')).not.toThrow();
  });
  test('any limit is refused, naming its group', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ cpu: { shares: 0, quota: 5000 } }, 'linux.resources.cpu'],
      [{ memory: { limit: -1 } }, 'linux.resources.memory'],
      [{ pids: { limit: 10 } }, 'linux.resources.pids'],
      [{ memory: { disableOOMKiller: true } }, 'linux.resources.memory'],
      [{ cpu: { cpus: '0' } }, 'linux.resources.cpu'],
      [{ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }, 'linux.resources.hugepageLimits'],
      [{ unified: { 'memory.high': '1M' } }, 'linux.resources.unified'],
    ];
    for (const [r, field] of cases) expect(() => checkNoLimitsWithoutCgroup(withResources(r), 'mkdir /sys/fs/cgroup/cpuset/x: EACCES')).toThrow(`${field}: rootless container without a writable cgroup cannot set limits (mkdir /sys/fs/cgroup/cpuset/x: EACCES;`);
  });
});
