// linux.memoryPolicy (runtime-spec 1.3) for real: the kernel reports a process's
// NUMA policy in /proc/<pid>/numa_maps (mpol_to_str: "bind:0", "interleave=static:0",
// "local", ...), so the container reads its own. An exec'd process gets the
// container's policy too. runc 1.1 has no memoryPolicy: tsrun only.

import * as fs from 'fs';
import * as path from 'path';
import { Spec } from '../helpers/bundle';
import { flavorOf, runtimeUnderTest, stderrLines } from '../helpers/runtime';
import { isEmpty } from '../helpers/cleanup';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

function skipReason(): string | undefined {
  const container = containerSkipReason();
  if (container) return container;
  if (flavorOf(BINARY) !== 'tsrun') return 'runc 1.1 has no linux.memoryPolicy';
  if (!fs.existsSync('/proc/self/numa_maps')) return 'the kernel has no NUMA support (no /proc/<pid>/numa_maps)';
  return undefined;
}

/** The first online memory node: node 0 on most machines, but not all. */
function onlineNode(): string {
  const online = fs.readFileSync('/sys/devices/system/node/online', 'utf8').trim();
  return online.split(/[-,]/)[0] as string;
}

describeIf(skipReason())(`linux.memoryPolicy (${BINARY})`, () => {
  const s = useSuite('memory-policy', BINARY);
  afterEach(() => {
    s.forceClean();
  });

  /** The policy column of the first mapping of the container's own numa_maps. */
  const policyOf = (stdout: string): string => (stdout.trim().split('\n')[0] ?? '').split(' ')[1] ?? '';
  const bundle = (policy: NonNullable<Spec['linux']>['memoryPolicy'], args = ['head', '-n', '1', '/proc/self/numa_maps']) =>
    s.bundle({
      configure: (c) => {
        c.linux.memoryPolicy = policy;
        c.process.args = args;
      },
    });

  test('each mode and flag reaches the container process as the kernel reports it', () => {
    const node = onlineNode();
    const cases: [NonNullable<Spec['linux']>['memoryPolicy'], string][] = [
      [{ mode: 'MPOL_BIND', nodes: node }, `bind:${node}`],
      [{ mode: 'MPOL_INTERLEAVE', nodes: node, flags: ['MPOL_F_STATIC_NODES'] }, `interleave=static:${node}`],
      [{ mode: 'MPOL_BIND', nodes: node, flags: ['MPOL_F_NUMA_BALANCING'] }, `bind=balancing:${node}`],
      [{ mode: 'MPOL_LOCAL' }, 'local'],
      // Preferred without a node is the local node (set_mempolicy(2)).
      [{ mode: 'MPOL_PREFERRED' }, 'local'],
      [{ mode: 'MPOL_PREFERRED', nodes: node }, `prefer:${node}`],
    ];
    for (const [policy, expected] of cases) {
      const b = bundle(policy);
      expect({ policy, shown: policyOf(expectOk(s.cli.runContainer(b.id, b.dir)).stdout) }).toEqual({ policy, shown: expected });
    }
    // Without a policy: the default one.
    const plain = bundle(undefined);
    expect(policyOf(expectOk(s.cli.runContainer(plain.id, plain.dir)).stdout)).toBe('default');
  });

  test("an exec'd process gets the container's policy", () => {
    const node = onlineNode();
    const b = bundle({ mode: 'MPOL_BIND', nodes: node }, ['sleep', '1000']);
    expectOk(s.cli.runContainer(b.id, b.dir, ['-d']));
    const r = expectOk(s.cli.run(['exec', b.id, 'head', '-n', '1', '/proc/self/numa_maps']));
    expect(policyOf(r.stdout)).toBe(`bind:${node}`);
    expectOk(s.cli.delete(b.id, true));
  });

  test('a node the kernel refuses fails the create with set_mempolicy\'s error and leaves nothing', () => {
    // Far above any node this machine has online.
    const b = bundle({ mode: 'MPOL_BIND', nodes: '1000' }, ['true']);
    const r = s.cli.runContainer(b.id, b.dir);
    expect(r.code).toBe(1);
    expect(stderrLines(r).join('\n')).toMatch(/memory policy MPOL_BIND nodes 1000: set_mempolicy: EINVAL/);
    expect(isEmpty(s.leftovers())).toBe(true);
    expect(fs.existsSync(path.join(s.cli.root, b.id))).toBe(false);
  });
});
