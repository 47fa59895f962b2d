// Load (issue 8): N containers created, started and deleted in parallel all
// succeed, while `list` and `state` run in a loop during the churn and never fail
// on a half-written or vanishing state file. N is 10 in CI, 50 with
// TSRUN_RELIABILITY_FULL=1.

import { runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { expectWellBehaved, NOTHING, runAsync, size } from './common';
import type { RunResult } from '../helpers/runtime';

jest.setTimeout(600_000);

const BINARY = runtimeUnderTest();
const N = size(10, 50);

describeIf(containerSkipReason())(`load (${BINARY})`, () => {
  const s = useSuite('load', BINARY);

  afterEach(() => {
    expect(s.forceClean()).toEqual(NOTHING);
  });

  test(`${N} containers created, started and deleted in parallel; list and state never fail meanwhile`, async () => {
    const bundles = Array.from({ length: N }, () => s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) }));
    let churning = true;
    const observed: RunResult[] = [];
    const observer = (async () => {
      let i = 0;
      while (churning) {
        const b = bundles[i++ % bundles.length];
        const [list, state] = await Promise.all([runAsync(s.cli, ['list', '--format', 'json']), runAsync(s.cli, ['state', b.id])]);
        observed.push(list, state);
      }
    })();
    const lifecycle = async (id: string, dir: string): Promise<RunResult[]> => {
      const out: RunResult[] = [];
      for (const args of [['create', '--bundle', dir, id], ['start', id], ['state', id], ['kill', id, 'KILL'], ['delete', '--force', id]]) {
        out.push(await runAsync(s.cli, args, { timeoutMs: 120_000 }));
      }
      return out;
    };
    const results = (await Promise.all(bundles.map((b) => lifecycle(b.id, b.dir)))).flat();
    churning = false;
    await observer;
    for (const r of results) expectOk(r);
    expect(observed.length).toBeGreaterThan(0);
    for (const r of observed) {
      expectWellBehaved(r);
      if (r.args.includes('list')) {
        // Always a whole JSON document, even while entries come and go.
        expect(r.code).toBe(0);
        expect(() => JSON.parse(r.stdout)).not.toThrow();
      } else if (r.code !== 0) {
        // Only "not there (yet/any more)", never a parse error or a corrupt file.
        expect(r.stderr).toMatch(/does not exist/);
      } else {
        expect(['creating', 'created', 'running', 'stopped']).toContain(JSON.parse(r.stdout).status);
      }
    }
    expect(s.leftovers()).toEqual(NOTHING);
  });
});
