// Crash injection (issue 8): tsrun SIGKILLed at every point of create, start and
// delete leaves a state that `state` reports without failing and `delete --force`
// fully cleans (no state dir, cgroup, mount or process). The points are reached
// deterministically through the TSRUN_TEST_CRASH_AT test seam
// (src/crash-point.ts); a SIGKILL from outside after the state dir
// appears covers the points between them. A container whose init died on its own
// shows `stopped` and a plain `delete` cleans it.

import * as fs from 'fs';
import * as path from 'path';
import { Bundle } from '../helpers/bundle';
import { pidAlive, runtimeUnderTest, waitFor, waitPidGone } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { expectFailure, expectWellBehaved, NOTHING, size } from './common';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();

/** In the order create reaches them. */
const CREATE_POINTS = [
  'create:reserved', // dir made, no state.json, not locked yet
  'create:state', // state.json "creating", nothing else
  'create:cgroup', // cgroups made
  'create:fifo', // exec FIFO made
  'create:spawned', // init spawned, perhaps not in its cgroups yet
  'create:applied', // init in its cgroups (it joined them itself: its first `pid` message), not recorded
  'create:pid', // the container's init forked into its pid namespace
  'create:ready', // init parked on the FIFO, state not final
  'create:written', // final state written, pid file not
];

interface Recorded {
  pid: number;
  startTime: string;
}

/** What the dead command recorded, read straight from state.json (null: no state yet). */
function recorded(root: string, id: string): Recorded | null {
  try {
    const st = JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8'));
    return { pid: st.pid, startTime: st.startTime };
  } catch {
    return null;
  }
}

/** The recorded process is gone (or its pid now belongs to another process). */
function processGone(r: Recorded | null): boolean {
  if (!r || r.pid <= 0) return true;
  if (!pidAlive(r.pid)) return true;
  const stat = fs.readFileSync(`/proc/${r.pid}/stat`, 'utf8');
  return r.startTime !== '' && stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] !== r.startTime;
}

describeIf(containerSkipReason())(`crash injection (${BINARY})`, () => {
  const s = useSuite('crash', BINARY);

  afterEach(() => {
    expect(s.forceClean()).toEqual(NOTHING);
  });

  const sleeper = (): Bundle => s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
  const crashEnv = (point: string) => ({ env: { TSRUN_TEST_CRASH_AT: point } });

  /** `state` and `list` answer (success or one clean line) for whatever the crash left. */
  function probe(id: string): string | undefined {
    const st = s.cli.stateRaw(id);
    expectWellBehaved(st);
    expectWellBehaved(s.cli.list());
    return st.code === 0 ? JSON.parse(st.stdout).status : undefined;
  }

  test.each(CREATE_POINTS)('create killed at %s: delete --force leaves nothing', async (point) => {
    const b = sleeper();
    const r = s.cli.create(b.id, b.dir, [], crashEnv(point));
    expect({ signal: r.signal, stderr: r.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    const rec = recorded(s.cli.root, b.id);
    const status = probe(b.id);
    // Past `ready` the init is parked: the container is whole, recorded or not.
    if (point === 'create:ready' || point === 'create:written') expect(status).toBe('created');
    // "creating" only while a create runs: this one is dead, and the live facts decide.
    expect(status).not.toBe('creating');
    // A second create of the id is refused while the leftover exists.
    expectFailure(s.cli.create(b.id, b.dir), /already exists/);
    expectOk(s.cli.delete(b.id, true));
    expect(await waitPidGone(rec?.pid ?? 0)).toBe(true);
    expect(processGone(rec)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
    // And the id is usable again.
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.delete(b.id, true));
  });

  // Killed between the init's `ready` and the record without "creating": nothing of
  // the container is missing, so it is used like any created one (runc, which keeps
  // no such record, goes by the init alone too).
  test('create killed once its init is parked: start, kill and a plain delete work', async () => {
    const b = sleeper();
    const r = s.cli.create(b.id, b.dir, [], crashEnv('create:ready'));
    expect(r.signal).toBe('SIGKILL');
    expect(JSON.parse(fs.readFileSync(path.join(s.cli.root, b.id, 'state.json'), 'utf8')).status).toBe('creating');
    const { pid } = s.cli.state(b.id);
    expect(s.cli.state(b.id).status).toBe('created');
    expectOk(s.cli.start(b.id));
    expect(s.cli.state(b.id).status).toBe('running');
    expectOk(s.cli.kill(b.id, 'KILL'));
    expect(await waitPidGone(pid)).toBe(true);
    expect(s.cli.state(b.id).status).toBe('stopped');
    expectOk(s.cli.delete(b.id));
    expect(s.leftovers()).toEqual(NOTHING);
  });

  // run starts its init as soon as it is ready (no exec FIFO): killed after the init
  // reported its pid, the user's process may already run; delete --force must end it.
  test.each(['create:pid', 'create:ready', 'create:written'])('run killed at %s: delete --force leaves nothing', async (point) => {
    const b = sleeper();
    const r = s.cli.runContainer(b.id, b.dir, [], crashEnv(point));
    expect({ signal: r.signal, stderr: r.stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    const rec = recorded(s.cli.root, b.id);
    probe(b.id);
    expectOk(s.cli.delete(b.id, true));
    expect(await waitPidGone(rec?.pid ?? 0)).toBe(true);
    expect(processGone(rec)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test('run makes no exec FIFO: its crash point is never reached', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['true']) });
    expectOk(s.cli.runContainer(b.id, b.dir, [], crashEnv('create:fifo')));
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test.each(['start:locked', 'start:released'])('start killed at %s: no hang, delete --force leaves nothing', async (point) => {
    const b = sleeper();
    expectOk(s.cli.create(b.id, b.dir));
    const pid = s.cli.state(b.id).pid;
    const r = s.cli.start(b.id, crashEnv(point));
    expect(r.signal).toBe('SIGKILL');
    const status = probe(b.id);
    expect(status).toBe(point === 'start:locked' ? 'created' : 'running');
    // Starting again works or is refused; it never hangs on a FIFO nobody writes to.
    const again = s.cli.start(b.id, { timeoutMs: 10_000 });
    expectWellBehaved(again);
    if (point === 'start:locked') expectOk(again);
    else expectFailure(again, /cannot start an already running container/);
    expect(probe(b.id)).toBe('running');
    expectOk(s.cli.delete(b.id, true));
    expect(await waitPidGone(pid)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test.each(['delete:killed', 'delete:cgroups'])('delete killed at %s: state says stopped, delete finishes', async (point) => {
    const b = sleeper();
    expectOk(s.cli.create(b.id, b.dir));
    expectOk(s.cli.start(b.id));
    const pid = s.cli.state(b.id).pid;
    const r = s.cli.delete(b.id, true);
    expect(r.code).toBe(0);
    const b2 = sleeper();
    expectOk(s.cli.create(b2.id, b2.dir));
    expectOk(s.cli.start(b2.id));
    const pid2 = s.cli.state(b2.id).pid;
    const crashed = s.cli.run(['delete', '--force', b2.id], crashEnv(point));
    expect(crashed.signal).toBe('SIGKILL');
    expect(await waitPidGone(pid2)).toBe(true);
    expect(probe(b2.id)).toBe('stopped');
    // Stopped: a plain delete is enough.
    expectOk(s.cli.delete(b2.id));
    expect(await waitPidGone(pid)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });

  // Between making its dir under a temporary name and renaming it (create), or the
  // other way round (delete), the dir is named by no id: the retry a caller sends
  // after the crash, `delete --force ID`, sweeps it (as `list` does).
  test.each([['create', 'create:reserving', /^~reserve-\d+-/], ['delete', 'delete:renamed', /^~removed-\d+-/]])('%s killed while the dir has its temporary name: delete --force of the id removes it', async (command, point, name) => {
    const b = sleeper();
    if (command === 'delete') {
      expectOk(s.cli.create(b.id, b.dir));
      expectOk(s.cli.start(b.id));
    }
    const pid = command === 'delete' ? s.cli.state(b.id).pid : 0;
    const r = command === 'create' ? s.cli.create(b.id, b.dir, [], crashEnv(point)) : s.cli.run(['delete', '--force', b.id], crashEnv(point));
    expect(r.signal).toBe('SIGKILL');
    expect(await waitPidGone(pid)).toBe(true);
    const left = fs.readdirSync(s.cli.root).filter((e) => e.startsWith('~'));
    expect(left).toEqual([expect.stringMatching(name)]);
    expectFailure(s.cli.stateRaw(b.id), /does not exist/);
    expectOk(s.cli.delete(b.id, true));
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test('an init that died on its own shows stopped and a plain delete cleans it', async () => {
    for (const started of [false, true]) {
      const b = sleeper();
      expectOk(s.cli.create(b.id, b.dir));
      if (started) expectOk(s.cli.start(b.id));
      const pid = s.cli.state(b.id).pid;
      process.kill(pid, 'SIGKILL');
      await s.cli.waitStatus(b.id, 'stopped');
      expect(s.cli.state(b.id).pid).toBe(0);
      expectFailure(s.cli.kill(b.id, 'TERM'), /container not running/);
      expectFailure(s.cli.start(b.id), /cannot start a container that has stopped/);
      expectOk(s.cli.delete(b.id));
      expect(s.leftovers()).toEqual(NOTHING);
    }
  });

  test('SIGKILL from outside once the state dir appears, at varying moments: delete --force recovers', async () => {
    const rounds = size(8, 60);
    for (let i = 0; i < rounds; i++) {
      const b = sleeper();
      const run = s.cli.spawn(['create', '--bundle', b.dir, b.id]);
      const dir = path.join(s.cli.root, b.id);
      // Waits a different number of polls each round so the kill lands at different points.
      let polls = 0;
      await waitFor(() => fs.existsSync(dir) && polls++ >= i % 4, 'state dir', 20_000).catch(() => undefined);
      try {
        process.kill(run.pid, 'SIGKILL');
      } catch {
        /* already exited */
      }
      const r = await run.done;
      if (r.signal === null) expectOk(r); // it finished first
      const rec = recorded(s.cli.root, b.id);
      probe(b.id);
      expectOk(s.cli.delete(b.id, true));
      expect(await waitPidGone(rec?.pid ?? 0)).toBe(true);
      expect(s.leftovers()).toEqual(NOTHING);
    }
  });
});
