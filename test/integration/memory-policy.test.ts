// linux.memoryPolicy (runtime-spec 1.3) for real: the kernel reports a process's
// NUMA policy in /proc/<pid>/numa_maps (mpol_to_str: "bind:0", "interleave=static:0",
// "local", ...), so the container reads its own. An exec'd process gets the
// container's policy too. runc 1.1 has no memoryPolicy: tsrun only.

import * as fs from 'fs';
import * as os from 'os';
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

function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = os.release().split('.').map((n) => parseInt(n, 10));
  return (a ?? 0) > major || ((a ?? 0) === major && (b ?? 0) >= minor);
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

  /** The policy of the first mapping (the program's file) of the container's own numa_maps; it may hold a space. */
  const policyOf = (stdout: string): string => /^\S+ (.*?) file=/.exec(stdout.trim().split('\n')[0] ?? '')?.[1] ?? '';
  const bundle = (policy: NonNullable<Spec['linux']>['memoryPolicy'], args = ['head', '-n', '1', '/proc/self/numa_maps']) =>
    s.bundle({
      configure: (c) => {
        c.linux.memoryPolicy = policy;
        c.process.args = args;
      },
    });

  test('each mode and flag reaches the container process as the kernel reports it', () => {
    const node = onlineNode();
    type Case = [NonNullable<Spec['linux']>['memoryPolicy'], string];
    const cases: Case[] = [
      [{ mode: 'MPOL_BIND', nodes: node }, `bind:${node}`],
      [{ mode: 'MPOL_INTERLEAVE', nodes: node, flags: ['MPOL_F_STATIC_NODES'] }, `interleave=static:${node}`],
      [{ mode: 'MPOL_LOCAL' }, 'local'],
      [{ mode: 'MPOL_DEFAULT' }, 'default'],
      // Preferred without a node is the local node (set_mempolicy(2)).
      [{ mode: 'MPOL_PREFERRED' }, 'local'],
      [{ mode: 'MPOL_PREFERRED', nodes: node }, `prefer:${node}`],
      // Relative nodes fold onto the allowed ones, so any node number is valid: 63 is
      // the last bit of the first mask word (lost if maxnode were one short), 64 the
      // first of the second.
      [{ mode: 'MPOL_BIND', nodes: '63', flags: ['MPOL_F_RELATIVE_NODES'] }, `bind=relative:${node}`],
      [{ mode: 'MPOL_BIND', nodes: '64', flags: ['MPOL_F_RELATIVE_NODES'] }, `bind=relative:${node}`],
    ];
    // Newer modes and flags, where the kernel has them.
    if (kernelAtLeast(5, 12)) cases.push([{ mode: 'MPOL_BIND', nodes: node, flags: ['MPOL_F_NUMA_BALANCING'] }, `bind=balancing:${node}`]);
    if (kernelAtLeast(5, 15)) cases.push([{ mode: 'MPOL_PREFERRED_MANY', nodes: node }, `prefer (many):${node}`]);
    if (kernelAtLeast(6, 9)) cases.push([{ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: node }, `weighted interleave:${node}`]);
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
    expect(stderrLines(r).join('\n')).toMatch(/linux.memoryPolicy MPOL_BIND nodes 1000: set_mempolicy: EINVAL/);
    expect(isEmpty(s.leftovers())).toBe(true);
    expect(fs.existsSync(path.join(s.cli.root, b.id))).toBe(false);
  });
});
