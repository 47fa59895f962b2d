// The addon's signal watch (addon/native/signals.cpp): a sigaction handler writes
// each signal into a pipe that a thread reads. The pipe lives as long as the
// process: a handler preempted while a watch stops must never write into a file
// that reused the number of a closed write end.
import * as fs from 'fs';
import { native } from '../../src/native';
import { waitFor } from '../helpers/runtime';

/** This process's open fds that are pipes, with what they name. */
function pipes(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('pipe:')) out.set(fd, target);
    } catch {
      // the fd of the readdir itself, closed meanwhile
    }
  }
  return out;
}

test('the signal pipe is made once and never closed: a later watch reuses it and still gets its signals', async () => {
  const nat = native();
  const [rtmin] = nat.realtimeSignals();
  const got: number[] = [];
  nat.watchSignals([rtmin + 3], (signo) => got.push(signo));
  // The pipe is made by the first watch of this process, which may have been an
  // earlier test file's in the same jest worker: it is among these either way.
  const during = [...pipes()];
  try {
    process.kill(process.pid, rtmin + 3);
    await waitFor(() => got.length === 1, 'the first signal');
  } finally {
    nat.unwatchSignals();
  }
  // Still open after unwatch, as they were.
  const after = pipes();
  expect(during.filter(([fd, target]) => after.get(fd) !== target)).toEqual([]);
  // A second watch makes no new pipe and gets its signal through the same one.
  nat.watchSignals([rtmin + 4], (signo) => got.push(signo));
  try {
    expect([...pipes()].filter(([fd, target]) => after.get(fd) !== target)).toEqual([]);
    process.kill(process.pid, rtmin + 4);
    await waitFor(() => got.length === 2, 'the second signal');
  } finally {
    nat.unwatchSignals();
  }
  expect(got).toEqual([rtmin + 3, rtmin + 4]);
});
