// Frozen or not, from a container's recorded cgroup dirs (src/cgroups/freezer-state.ts),
// on a fake tree: the v1 freezer where one is mounted, else v2's cgroup.freeze.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { frozenAt } from '../../src/cgroups/freezer-state';

describe('frozenAt', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-freezer-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const dir = (name: string, files: Record<string, string>): string => {
    const d = path.join(root, name);
    fs.mkdirSync(d, { recursive: true });
    for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(d, f), `${v}\n`);
    return d;
  };

  test('v1: FROZEN by its own freezer is frozen; through a frozen ancestor only, or THAWED, is not', () => {
    const cpu = dir('cpu/c', { 'cpu.shares': '1024' });
    expect(frozenAt({ cpu, freezer: dir('f1/c', { 'freezer.state': 'FROZEN', 'freezer.self_freezing': '1' }) })).toBe(true);
    expect(frozenAt({ cpu, freezer: dir('f2/c', { 'freezer.state': 'FROZEN', 'freezer.self_freezing': '0' }) })).toBe(false);
    expect(frozenAt({ cpu, freezer: dir('f3/c', { 'freezer.state': 'THAWED' }) })).toBe(false);
  });

  test('hybrid: the v1 freezer decides, not the unified hierarchy; pure v2: cgroup.freeze', () => {
    const unifiedFrozen = dir('u/c', { 'cgroup.freeze': '1' });
    expect(frozenAt({ freezer: dir('f/c', { 'freezer.state': 'THAWED' }), unified: unifiedFrozen })).toBe(false);
    expect(frozenAt({ unified: unifiedFrozen })).toBe(true);
    expect(frozenAt({ unified: dir('u2/c', { 'cgroup.freeze': '0' }) })).toBe(false);
  });

  test('no cgroup of its own (rootless) or no freezer at all: not frozen', () => {
    expect(frozenAt({})).toBe(false);
    expect(frozenAt({ cpu: dir('cpu/d', {}) })).toBe(false);
  });
});
