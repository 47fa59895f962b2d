// Leaks (issue 8): K create/start/delete cycles (through the CLI and through
// src/lifecycle in this process) return the host to its starting point: no new
// entry in /proc/self/mountinfo, no cgroup under the test parent, no state dir,
// no process, and the same fd count in the long-lived caller (this jest worker).
// K is 20 in CI, 500 with TSRUN_RELIABILITY_FULL=1.

import * as fs from 'fs';
import { runtimeUnderTest } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { createContainer } from '../../src/lifecycle/create';
import { startContainer } from '../../src/lifecycle/start';
import { deleteContainer } from '../../src/lifecycle/delete';
import { containerState, listContainers } from '../../src/lifecycle/query';
import { fdCount, NOTHING, size } from './common';

jest.setTimeout(900_000);

const BINARY = runtimeUnderTest();
const K = size(20, 500);

function mounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3, 5).join(' ')).sort();
}

describeIf(containerSkipReason())(`leaks (${BINARY})`, () => {
  const s = useSuite('leak', BINARY);

  afterEach(() => {
    expect(s.forceClean()).toEqual(NOTHING);
  });

  test(`${K} CLI create/start/delete cycles leave the host as it was`, () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const before = mounts();
    for (let i = 0; i < K; i++) {
      const id = `${b.id}-${i}`;
      expectOk(s.cli.create(id, b.dir));
      expectOk(s.cli.start(id));
      expectOk(s.cli.delete(id, true));
    }
    // Other engineers' tests mount and unmount too: only our temp dir is ours to compare.
    expect(mounts().filter((m) => m.includes(s.env.tmp))).toEqual(before.filter((m) => m.includes(s.env.tmp)));
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test(`${K} in-process lifecycle cycles: no fd, mount, cgroup, state or process left in the caller`, () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const root = s.cli.root;
    const cycle = (id: string): void => {
      createContainer({ root, id, bundle: b.dir });
      startContainer(root, id);
      expect(containerState(root, id).status).toBe('running');
      listContainers(root);
      deleteContainer(root, id, true);
    };
    // One warm-up cycle: the addon and lazily opened files are loaded once for good.
    cycle(`${b.id}-warm`);
    const fds = fdCount();
    for (let i = 0; i < K; i++) cycle(`${b.id}-${i}`);
    expect(fdCount()).toBe(fds);
    expect(s.leftovers()).toEqual(NOTHING);
  });
});
