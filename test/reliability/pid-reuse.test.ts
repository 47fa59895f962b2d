// Pid reuse (issue 8): a state.json whose pid now belongs to another process is
// never reported as running and that process is never signalled or waited for.
// The "other process" is a host `sleep` the test starts; state.json is pointed at
// it, as if the container's init had died and the kernel had handed its pid on.

import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pidAlive, runtimeUnderTest, waitPidGone } from '../helpers/runtime';
import { containerSkipReason, describeIf, expectOk, useSuite } from '../helpers/suite';
import { expectFailure, NOTHING } from './common';

jest.setTimeout(60_000);

const BINARY = runtimeUnderTest();

describeIf(containerSkipReason())(`pid reuse (${BINARY})`, () => {
  const s = useSuite('pidreuse', BINARY);
  const strangers: ChildProcess[] = [];

  afterEach(() => {
    for (const c of strangers.splice(0)) c.kill('SIGKILL');
    expect(s.forceClean()).toEqual(NOTHING);
  });

  function stranger(): number {
    const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
    strangers.push(c);
    return c.pid as number;
  }

  function rewriteState(id: string, change: (st: Record<string, unknown>) => void): void {
    const file = path.join(s.cli.root, id, 'state.json');
    const st = JSON.parse(fs.readFileSync(file, 'utf8'));
    change(st);
    fs.writeFileSync(file, JSON.stringify(st));
  }

  /** Every command's view of a container whose recorded pid is the stranger's. */
  function expectStrangerUntouched(id: string, pid: number): void {
    const st = s.cli.state(id);
    expect(st.status).toBe('stopped');
    expect(st.pid).toBe(0);
    expect(s.cli.list(['--format', 'json']).stdout).not.toContain(`"pid":${pid}`);
    expectFailure(s.cli.kill(id, 'KILL'), /container not running/);
    // runc's kill --all of a stopped container succeeds; the stranger is not in its cgroup.
    expectOk(s.cli.kill(id, 'KILL', ['--all']));
    expectFailure(s.cli.start(id), /cannot start a container that has stopped/);
    expect(pidAlive(pid)).toBe(true);
  }

  test.each(['created', 'running'])('a %s container whose init died and whose pid was reused', async (phase) => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    if (phase === 'running') expectOk(s.cli.start(b.id));
    const init = s.cli.state(b.id).pid;
    process.kill(init, 'SIGKILL');
    expect(await waitPidGone(init)).toBe(true);
    const pid = stranger();
    // The recorded start time stays the dead init's: the pid alone now names the stranger.
    rewriteState(b.id, (st) => (st.pid = pid));
    expectStrangerUntouched(b.id, pid);
    expectOk(s.cli.delete(b.id));
    expect(pidAlive(pid)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test('a recorded start time that does not match: not running, not signalled, delete --force spares it', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    expectOk(s.cli.create(b.id, b.dir));
    const pid = stranger();
    const init = s.cli.state(b.id).pid;
    process.kill(init, 'SIGKILL');
    rewriteState(b.id, (st) => {
      st.pid = pid;
      st.startTime = '1';
    });
    expectStrangerUntouched(b.id, pid);
    // Forced delete must neither kill the stranger nor wait for it to exit.
    const r = s.cli.delete(b.id, true);
    expectOk(r);
    expect(pidAlive(pid)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });

  test('a state written by a crashed create (pid recorded, no start time) never names a stranger', () => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['sleep', '1000']) });
    const r = s.cli.create(b.id, b.dir, [], { env: { TSRUN_TEST_CRASH_AT: 'create:state' } });
    expect(r.signal).toBe('SIGKILL');
    const pid = stranger();
    rewriteState(b.id, (st) => (st.pid = pid));
    const st = s.cli.state(b.id);
    expect(st.status).toBe('stopped');
    expectFailure(s.cli.kill(b.id, 'KILL'), /container not running/);
    expectOk(s.cli.delete(b.id, true));
    expect(pidAlive(pid)).toBe(true);
    expect(s.leftovers()).toEqual(NOTHING);
  });
});
