// The addon's signal forwarding (addon/native/signals.cpp), in this process: signals
// caught before the target is known are held, one of each, and sent when it is;
// then each goes straight on; after the stop nothing does, and the release gives
// every signal its old action back. A signal this process sends itself (abort) is
// never passed on.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import { native } from '../../src/native';
import { waitFor } from '../helpers/runtime';

/** A bash that prints the name of every signal it traps, once it is ready. */
function listener(): { child: ChildProcess; output: () => string } {
  let out = '';
  const traps = ['USR2', 'RTMIN+3', 'TSTP'].map((s) => `trap 'echo ${s}' ${s};`).join(' ');
  const child = spawn('bash', ['-c', `${traps} echo ready; while :; do sleep 0.05; done`], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** A signal mask of /proc/self/status: SigCgt (caught), ShdPnd (pending for the process). */
function statusMask(field: 'SigCgt' | 'ShdPnd'): bigint {
  return BigInt(`0x${new RegExp(`^${field}:\\s+([0-9a-f]+)$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
}
const caughtMask = (): bigint => statusMask('SigCgt');
const bit = (signo: number): bigint => 1n << BigInt(signo - 1);

/** Sends this process a signal from another one, as a user or a shim would. */
function signalFromOutside(signo: number): void {
  const r = spawnSync('kill', [`-${signo}`, String(process.pid)]);
  if (r.status !== 0) throw new Error(`kill -${signo}: ${r.stderr}`);
}

test('held until the process is known, then forwarded as they come; nothing after the stop; old actions back at release', async () => {
  const nat = native();
  const [usr2, tstp] = nat.signalNumbers(['SIGUSR2', 'SIGTSTP']) as [number, number];
  const rt3 = nat.realtimeSignals()[0] + 3;
  const { child, output } = listener();
  try {
    await waitFor(() => output().includes('ready\n'), 'the listener');
    expect(caughtMask() & bit(rt3)).toBe(0n);
    nat.catchSignals([usr2, rt3]);
    expect(caughtMask() & bit(rt3)).toBe(bit(rt3));
    // Two of a kind before the target is known: one is held (as the kernel does).
    signalFromOutside(usr2);
    signalFromOutside(usr2);
    signalFromOutside(rt3);
    // Handled (held) before the target is named, not still pending in the kernel.
    await waitFor(() => (statusMask('ShdPnd') & (bit(usr2) | bit(rt3))) === 0n, 'the signals to be handled');
    expect(nat.forwardSignalsTo(child.pid as number, undefined, [tstp])).toBe(true);
    await waitFor(() => /USR2\n/.test(output()) && /RTMIN\+3\n/.test(output()), 'the held signals');
    // From now on each one goes on when it comes, the job-control ones too.
    signalFromOutside(tstp);
    await waitFor(() => /TSTP\n/.test(output()), 'SIGTSTP');
    // One this process sends itself is its own (abort's SIGABRT): not passed on.
    process.kill(process.pid, rt3);
    signalFromOutside(usr2);
    await waitFor(() => output().split('USR2\n').length === 3, 'the second SIGUSR2');
    nat.stopForwardingSignals();
    // Stopped: SIGTSTP has its old action back (it would stop this process: not sent),
    // the others are still caught, and what comes now is dropped.
    expect(caughtMask() & bit(tstp)).toBe(0n);
    signalFromOutside(rt3);
    nat.releaseSignals();
    expect(caughtMask() & bit(rt3)).toBe(0n);
    // A last signal sent directly marks the end of what the listener got.
    child.kill('SIGUSR2');
    await waitFor(() => output().split('USR2\n').length === 4, 'the direct SIGUSR2');
    expect(output().split('\n').filter((l) => l !== '' && l !== 'ready')).toEqual(['USR2', 'RTMIN+3', 'TSTP', 'USR2', 'USR2']);
  } finally {
    nat.releaseSignals();
    child.kill('SIGKILL');
  }
});

test('no forwarding to a process that is gone or whose pid another process has taken', async () => {
  const nat = native();
  const { child, output } = listener();
  try {
    await waitFor(() => output().includes('ready\n'), 'the listener');
    nat.catchSignals(nat.signalNumbers(['SIGUSR2']));
    expect(nat.forwardSignalsTo(child.pid as number, '1', [])).toBe(false);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(nat.forwardSignalsTo(child.pid as number, undefined, [])).toBe(false);
  } finally {
    nat.releaseSignals();
    child.kill('SIGKILL');
  }
});

test('one set of caught signals at a time, and only signal numbers', () => {
  const nat = native();
  expect(() => nat.signalNumbers(['SIGNOPE'])).toThrow(/unknown signal SIGNOPE/);
  expect(() => nat.catchSignals([0])).toThrow(/not a signal number/);
  nat.catchSignals(nat.signalNumbers(['SIGUSR2']));
  try {
    expect(() => nat.catchSignals(nat.signalNumbers(['SIGUSR2']))).toThrow(/already being caught/);
  } finally {
    nat.releaseSignals();
  }
  expect(() => nat.forwardSignalsTo(process.pid, undefined, [])).toThrow(/no signals are being caught/);
});
