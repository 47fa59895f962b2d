import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import {
  deriveStatus, formatOciState, isAlive, parseProcStat, probeStatus, processStartTime, runsOn, toOciState, type StatusFacts,
} from '../../src/state/status';
import type { ContainerState, ContainerStatus } from '../../src/state/types';
import { startTimeToRecord } from '../../src/lifecycle/create';

/** A /proc/<pid>/stat line with the given comm, state and start time (field 22). */
function statLine(pid: number, comm: string, state: string, start: string): string {
  // fields 4..21 are 18 numbers; then 22 = start time; then a few more.
  const mid = Array.from({ length: 18 }, (_, i) => String(i + 1)).join(' ');
  return `${pid} (${comm}) ${state} ${mid} ${start} 1234 56 789\n`;
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-status-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fakeProc(pid: number, comm: string, state: string, start: string, exe = '/memfd:tsrun-init (deleted)'): void {
  fs.mkdirSync(path.join(tmp, String(pid)), { recursive: true });
  fs.writeFileSync(path.join(tmp, String(pid), 'stat'), statLine(pid, comm, state, start));
  fs.rmSync(path.join(tmp, String(pid), 'exe'), { force: true });
  fs.symlinkSync(exe, path.join(tmp, String(pid), 'exe'));
}

describe('parseProcStat', () => {
  test('plain comm', () => {
    expect(parseProcStat(statLine(42, 'sleep', 'S', '98765'))).toEqual({ comm: 'sleep', state: 'S', flags: '6', startTime: '98765' });
  });
  test.each(['a b', 'x) (y', ') S 1 2 3', '((', 'evil) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 999'])('comm %j with spaces and parens', (comm) => {
    expect(parseProcStat(statLine(7, comm, 'R', '555'))).toEqual({ comm, state: 'R', flags: '6', startTime: '555' });
  });
  test('malformed', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('1 (x) S 1 2')).toBeNull();
    expect(parseProcStat('garbage without parens')).toBeNull();
  });
  test('the real /proc/self/stat parses', () => {
    const st = parseProcStat(fs.readFileSync('/proc/self/stat', 'utf8'));
    expect(st?.state).toMatch(/^[RS]$/);
    expect(st?.startTime).toMatch(/^\d+$/);
  });
});

describe('processStartTime / isAlive with a fake /proc', () => {
  test('start time is field 22', () => {
    fakeProc(100, 'init (x)', 'S', '424242');
    expect(processStartTime(100, tmp)).toBe('424242');
    expect(processStartTime(101, tmp)).toBeNull();
    expect(processStartTime(0, tmp)).toBeNull();
    expect(processStartTime(-1, tmp)).toBeNull();
  });
  test('alive only with the recorded start time and not a zombie', () => {
    fakeProc(100, 'sh', 'S', '1000');
    expect(isAlive(100, '1000', tmp)).toBe(true);
    // pid reuse: same pid, another process
    expect(isAlive(100, '999', tmp)).toBe(false);
    fakeProc(100, 'sh', 'Z', '1000');
    expect(isAlive(100, '1000', tmp)).toBe(false);
    fakeProc(100, 'sh', 'X', '1000');
    expect(isAlive(100, '1000', tmp)).toBe(false);
    fakeProc(100, 'sh', 'D', '1000');
    expect(isAlive(100, '1000', tmp)).toBe(true);
    expect(isAlive(555, '1000', tmp)).toBe(false);
  });
  test('this process is alive in the real /proc', () => {
    const start = processStartTime(process.pid);
    expect(start).not.toBeNull();
    expect(isAlive(process.pid, start as string)).toBe(true);
  });
});

function state(over: Partial<ContainerState> = {}): ContainerState {
  return {
    ociVersion: '1.0.2-dev', id: 'c1', pid: 100, startTime: '1000', bundle: '/b', rootfs: '/b/rootfs',
    created: '2026-11-25T21:06:50.918221533Z', owner: '', annotations: {}, cgroupPaths: {}, config: {}, ...over,
  };
}

describe('deriveStatus', () => {
  const cases: Array<[Partial<ContainerState>, StatusFacts, ContainerStatus]> = [
    [{}, { alive: false, fifoExists: true, frozen: true, creatorAtWork: false }, 'stopped'],
    [{}, { alive: true, fifoExists: true, frozen: false, creatorAtWork: false }, 'created'],
    [{}, { alive: true, fifoExists: false, frozen: false, creatorAtWork: false }, 'running'],
    [{}, { alive: true, fifoExists: false, frozen: true, creatorAtWork: false }, 'paused'],
    [{}, { alive: true, fifoExists: true, frozen: true, creatorAtWork: false }, 'paused'],
    // its create still runs: whatever the processes it named are doing
    [{ status: 'creating' }, { alive: true, fifoExists: true, frozen: false, creatorAtWork: true }, 'creating'],
    [{ status: 'creating' }, { alive: false, fifoExists: false, frozen: false, creatorAtWork: true }, 'creating'],
    // its create died: the live facts decide (an init it parked can be started)
    [{ status: 'creating' }, { alive: true, fifoExists: true, frozen: false, creatorAtWork: false }, 'created'],
    [{ status: 'creating' }, { alive: true, fifoExists: false, frozen: false, creatorAtWork: false }, 'running'],
    [{ status: 'creating' }, { alive: false, fifoExists: true, frozen: false, creatorAtWork: false }, 'stopped'],
  ];
  test.each(cases)('%j %j -> %s', (over, facts, expected) => {
    expect(deriveStatus(state(over), facts)).toBe(expected);
  });
});

describe('probeStatus', () => {
  test('created, running, paused and stopped from a fake /proc and a real FIFO', () => {
    fakeProc(100, 'sh', 'S', '1000');
    const fifo = path.join(tmp, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    let frozen = false;
    const opts = { fifoPath: () => fifo, isFrozen: () => frozen, procRoot: tmp };
    expect(probeStatus(state(), opts)).toBe('created');
    fs.unlinkSync(fifo);
    expect(probeStatus(state(), opts)).toBe('running');
    frozen = true;
    expect(probeStatus(state(), opts)).toBe('paused');
    // the pid now belongs to another process
    fakeProc(100, 'sh', 'S', '2000');
    expect(probeStatus(state(), opts)).toBe('stopped');
    // a create that crashed before recording its init
    expect(probeStatus(state({ pid: 0, startTime: '' }), opts)).toBe('stopped');
  });
  test('a FIFO left behind an init that has exec\'d the user program (start killed midway) is running', () => {
    fakeProc(100, 'sleep', 'S', '1000', '/bin/busybox');
    const fifo = path.join(tmp, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(probeStatus(state(), { fifoPath: () => fifo, isFrozen: () => false, procRoot: tmp })).toBe('running');
  });
  test.each([['the overlay', '/tsrun-init'], ['the memfd copy', '/memfd:tsrun-init (deleted)']])('an init exec\'d from %s waiting on its FIFO is created', (_from, exe) => {
    fakeProc(100, 'tsrun-init', 'S', '1000', exe);
    const fifo = path.join(tmp, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(probeStatus(state(), { fifoPath: () => fifo, isFrozen: () => false, procRoot: tmp })).toBe('created');
  });
  test('a regular file at the FIFO path does not count', () => {
    fakeProc(100, 'sh', 'S', '1000');
    const fifo = path.join(tmp, 'exec.fifo');
    fs.writeFileSync(fifo, '');
    expect(probeStatus(state(), { fifoPath: () => fifo, isFrozen: () => false, procRoot: tmp })).toBe('running');
  });
  test('whether its create still runs is asked of a "creating" record only; a parked init of a create that died is created', () => {
    fakeProc(100, 'tsrun-init', 'S', '1000', '/tsrun-init');
    const fifo = path.join(tmp, 'exec.fifo');
    execFileSync('mkfifo', [fifo]);
    let atWork = true;
    const creatorAtWork = jest.fn(() => atWork);
    const opts = { fifoPath: () => fifo, isFrozen: () => false, creatorAtWork, procRoot: tmp };
    expect(probeStatus(state(), opts)).toBe('created');
    expect(creatorAtWork).not.toHaveBeenCalled();
    expect(probeStatus(state({ status: 'creating' }), opts)).toBe('creating');
    atWork = false;
    expect(probeStatus(state({ status: 'creating' }), opts)).toBe('created');
    expect(creatorAtWork).toHaveBeenCalledTimes(2);
  });
  test('isFrozen is not asked when the init is gone', () => {
    const isFrozen = jest.fn(() => true);
    expect(probeStatus(state(), { fifoPath: () => path.join(tmp, 'none'), isFrozen, procRoot: tmp })).toBe('stopped');
    expect(isFrozen).not.toHaveBeenCalled();
  });
});

describe('toOciState / formatOciState', () => {
  test('matches runc 1.1.5 `state` output byte for byte', () => {
    const s = state({ id: 'probe1', pid: 4042, bundle: '/tmp/b', rootfs: '/tmp/b/rootfs', annotations: { a: 'b' } });
    // captured from `runc state probe1` (runc 1.1.5); runc writes no trailing newline
    const runc = `{
  "ociVersion": "1.0.2-dev",
  "id": "probe1",
  "pid": 4042,
  "status": "created",
  "bundle": "/tmp/b",
  "rootfs": "/tmp/b/rootfs",
  "created": "2026-11-25T21:06:50.918221533Z",
  "annotations": {
    "a": "b"
  },
  "owner": ""
}`;
    expect(formatOciState(toOciState(s, 'created'))).toBe(runc);
  });
  test('annotations in key order, as Go writes a map', () => {
    const out = toOciState(state({ annotations: { 'z.last': '1', 'a.first': '2', 'm.mid': '3' } }), 'created');
    expect(Object.keys(out.annotations ?? {})).toEqual(['a.first', 'm.mid', 'z.last']);
  });
  test('pid is 0 when stopped; annotations omitted when empty', () => {
    const out = toOciState(state(), 'stopped');
    expect(out.pid).toBe(0);
    expect(Object.keys(out)).toEqual(['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner']);
    expect(toOciState(state(), 'running').pid).toBe(100);
  });
});

describe('runsOn: alive and not exiting (the exec FIFO closes inside do_exit, before the zombie)', () => {
  /** A stat line with field 9 (flags) set. */
  const withFlags = (pid: number, state: string, flags: number, start: string): string => {
    const mid = Array.from({ length: 18 }, (_, i) => (i === 5 ? String(flags) : '0')).join(' ');
    return `${pid} (tsrun-init) ${state} ${mid} ${start} 1234 56 789\n`;
  };
  const write = (pid: number, text: string) => {
    fs.mkdirSync(path.join(tmp, String(pid)), { recursive: true });
    fs.writeFileSync(path.join(tmp, String(pid), 'stat'), text);
  };

  test.each([
    ['running', 'S', 0x400100, '100', true],
    ['exiting (PF_EXITING)', 'R', 0x400104, '100', false],
    ['a zombie', 'Z', 0x400144, '100', false],
    ['another process with the pid', 'S', 0x400100, '999', false],
  ])('%s', (_what, state, flags, start, expected) => {
    write(42, withFlags(42, state as string, flags as number, start as string));
    expect(runsOn(42, '100', tmp)).toBe(expected);
  });

  test('gone', () => {
    expect(runsOn(43, '100', tmp)).toBe(false);
  });

  test('this process runs on', () => {
    expect(runsOn(process.pid, processStartTime(process.pid)!)).toBe(true);
  });
});

describe("create's record of the first process's start time", () => {
  test('run: a process gone before its start time was read (exited, reaped by a subreaper caller) ran: recorded stopped, not failed', () => {
    expect(startTimeToRecord(true, null)).toBe('');
    expect(deriveStatus({ status: undefined }, { alive: isAlive(1, startTimeToRecord(true, null) as string), fifoExists: false, frozen: false, creatorAtWork: false })).toBe('stopped');
  });
  test('create: an init gone before it was parked failed', () => {
    expect(startTimeToRecord(false, null)).toBeNull();
  });
  test('a start time read is recorded as read', () => {
    expect(startTimeToRecord(true, '4242')).toBe('4242');
    expect(startTimeToRecord(false, '4242')).toBe('4242');
  });
});
