// Differential: `kill` of a created container, whose init is parked at the exec FIFO.
// runc's parked init is a Go program, and Go's runtime decides what a signal from
// outside does to it: some end it (exit status 2, some with a report on stderr), the
// rest are caught and ignored. tsrun's init must end on the same signals, the same
// way, and stay created on the others (PROTOCOL.md, parkedSignals).
//
// Whether the init survived is shown without any timing: `start` after the `kill`
// succeeds, and the container's process runs, exactly when the init was still there
// (the signal reached it before it could leave the FIFO wait).

import * as fs from 'fs';
import * as path from 'path';
import { native } from '../../src/native';
import { reapAdoptedZombies } from '../helpers/reap';
import { flavorOf, RUNC_BINARY, runtimeUnderTest } from '../helpers/runtime';
import { differentialSkipReason, describeIf, Suite, useSuite } from '../helpers/suite';

jest.setTimeout(120_000);

const BINARY = runtimeUnderTest();

/** Go's classes (runtime/sigtab_linux_generic.go): _SigKill, _SigThrow or _SigPanic, neither. */
const CASES: [string, 'ends quietly' | 'ends with a report' | 'is ignored'][] = [
  ['TERM', 'ends quietly'],
  ['HUP', 'ends quietly'],
  ['SEGV', 'ends with a report'],
  ['ABRT', 'ends with a report'],
  ['SYS', 'ends with a report'],
  ['USR1', 'is ignored'],
  ['ALRM', 'is ignored'],
  ['CHLD', 'is ignored'],
  ['37', 'is ignored'],
];

describeIf(differentialSkipReason())(`kill of a created container: runc vs ${BINARY}`, () => {
  const t = useSuite('dsig-t', BINARY);
  const r = useSuite('dsig-r', RUNC_BINARY);

  // As a subreaper this process adopts each parked init when its runtime exits, and
  // can read how it ended.
  beforeAll(() => native().setChildSubreaper(true));
  afterAll(() => {
    // --runInBand: later suites' processes must not be adopted here and left unreaped.
    native().setChildSubreaper(false);
    reapAdoptedZombies();
  });
  afterEach(() => {
    t.forceClean();
    r.forceClean();
  });

  const outcome = async (s: Suite, signal: string) => {
    const b = s.bundle({ configure: (c) => (c.process.args = ['echo', 'ran']) });
    const stdoutFile = path.join(s.env.tmp, `${b.id}.out`);
    const stderrFile = path.join(s.env.tmp, `${b.id}.err`);
    const create = s.cli.create(b.id, b.dir, [], { stdoutFile, stderrFile });
    if (create.code !== 0) throw new Error(`create failed: ${create.stderr}`);
    const pid = s.cli.state(b.id).pid as number;
    const kill = s.cli.kill(b.id, signal);
    const started = s.cli.start(b.id).code === 0;
    await s.cli.waitStatus(b.id, 'stopped');
    if (!native().waitExit(pid, 20_000)) throw new Error(`the init ${pid} did not end`);
    const { exitCode, signal: killedBy } = native().waitPid(pid);
    const status = s.cli.state(b.id).status as string;
    const del = s.cli.delete(b.id);
    return {
      kill: { code: kill.code, stderr: kill.stderr },
      started,
      exit: { exitCode, killedBy },
      status,
      stdout: fs.readFileSync(stdoutFile, 'utf8'),
      stderr: fs.readFileSync(stderrFile, 'utf8'),
      delete: { code: del.code, stderr: del.stderr },
    };
  };

  test.each(CASES)('signal %s %s', async (signal, behaviour) => {
    const runc = await outcome(r, signal);
    const tested = await outcome(t, signal);
    const ended = behaviour !== 'is ignored';
    // What runc 1.1.5 does, so the table above stays true.
    expect({ ...runc, stderr: runc.stderr !== '' }).toEqual({
      kill: { code: 0, stderr: '' },
      started: !ended,
      // As pid 1 of its namespace Go's init cannot die of its own raise(): it exits 2.
      exit: { exitCode: ended ? 2 : 0, killedBy: null },
      status: 'stopped',
      stdout: ended ? '' : 'ran\n',
      stderr: behaviour === 'ends with a report',
      delete: { code: 0, stderr: '' },
    });
    expect({ ...tested, stderr: tested.stderr !== '' }).toEqual({ ...runc, stderr: runc.stderr !== '' });
    if (behaviour === 'ends with a report' && flavorOf(BINARY) === 'tsrun') {
      expect(tested.stderr).toBe(`tsrun-init: SIG${signal} before the container's process started\n`);
    }
  });
});
