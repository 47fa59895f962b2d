// runc's exec --cgroup rules (src/lifecycle/exec-cgroups.ts), without root.
import { parseSubCgroups, subCgroupsByHierarchy } from '../../src/lifecycle/exec-cgroups';

/** This machine's kind of hybrid host: one v1 hierarchy per controller, name=systemd, the unified one. */
const HYBRID: Record<string, string[]> = {
  cpu: ['cpu'], cpuacct: ['cpuacct'], memory: ['memory'], pids: ['pids'], systemd: ['name=systemd'], unified: [],
};
const keys = Object.keys(HYBRID);
const of = (layout: Record<string, string[]>) => (key: string) => layout[key] ?? [];
const subsOf = (...args: string[]) => Object.fromEntries(subCgroupsByHierarchy(keys, of(HYBRID), parseSubCgroups(args)));

describe('parseSubCgroups', () => {
  test('a bare path, or controllers and a path', () => {
    expect([...parseSubCgroups(['sub'])]).toEqual([['', 'sub']]);
    expect([...parseSubCgroups(['pids,name=systemd:a/b', 'memory:'])]).toEqual([['pids', 'a/b'], ['name=systemd', 'a/b'], ['memory', '']]);
  });

  test("runc's refusals", () => {
    expect(() => parseSubCgroups(['memory:sub:x'])).toThrow(/^--cgroup: invalid --cgroup argument: memory:sub:x$/);
    expect(() => parseSubCgroups(['a', 'b'])).toThrow(/invalid --cgroup argument: a \(missing <controller>: prefix\)/);
    expect(() => parseSubCgroups([',pids:x'])).toThrow(/invalid --cgroup argument: ,pids:x \(empty <controller> prefix\)/);
    expect(() => parseSubCgroups(['pids:x', 'pids,cpu:y'])).toThrow(/controller pids specified multiple times/);
  });
});

describe('subCgroupsByHierarchy', () => {
  test('a bare path: every hierarchy, the unified one too', () => {
    expect(subsOf('sub')).toEqual(Object.fromEntries(keys.map((k) => [k, 'sub'])));
  });

  test('named controllers: only their hierarchies; name=systemd is the named hierarchy', () => {
    expect(subsOf('pids,name=systemd:sub')).toEqual({ pids: 'sub', systemd: 'sub' });
    expect(subsOf('memory:m', 'cpu:c')).toEqual({ memory: 'm', cpu: 'c' });
  });

  test('an unknown name is an error naming it, as in runc: a typo, systemd without name=, the unified hierarchy', () => {
    for (const ctrl of ['memroy', 'systemd', 'unified']) {
      expect(() => subsOf(`${ctrl}:sub`)).toThrow(new RegExp(`^--cgroup: unknown controller ${ctrl} \\(the container's cgroup hierarchies have: cpu, cpuacct, memory, name=systemd, pids\\)$`));
    }
  });

  test('cgroup v2 alone: no controller can be named (runc knows its one hierarchy by no name)', () => {
    expect(() => subCgroupsByHierarchy(['unified'], () => [], parseSubCgroups(['memory:sub']))).toThrow(/unknown controller memory \(the container's cgroup hierarchies have: none\)/);
    expect(Object.fromEntries(subCgroupsByHierarchy(['unified'], () => [], parseSubCgroups(['sub'])))).toEqual({ unified: 'sub' });
  });

  test('controllers mounted together: one sub-cgroup for their hierarchy, two different ones refused', () => {
    const comounted = of({ 'cpu,cpuacct': ['cpu', 'cpuacct'] });
    const run = (...args: string[]) => Object.fromEntries(subCgroupsByHierarchy(['cpu,cpuacct'], comounted, parseSubCgroups(args)));
    expect(run('cpuacct:s')).toEqual({ 'cpu,cpuacct': 's' });
    expect(run('cpu,cpuacct:s')).toEqual({ 'cpu,cpuacct': 's' });
    expect(() => run('cpu:a', 'cpuacct:b')).toThrow(/controller cpuacct shares its hierarchy with another one given sub-cgroup a, not b/);
  });
});
