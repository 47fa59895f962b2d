import { pidNamespaceMembers } from '../../src/lifecycle/pid-namespace';
import { processStartTime } from '../../src/state/status';

describe('pid namespace members', () => {
  test('the processes of the namespace of the process started at the time given, this one among them', () => {
    const startTime = processStartTime(process.pid)!;
    expect(pidNamespaceMembers(process.pid, startTime)).toContainEqual({ pid: process.pid, startTime });
  });

  test('none when the pid is another process now (reused): not the members of whatever namespace that one is in', () => {
    const startTime = processStartTime(process.pid)!;
    expect(pidNamespaceMembers(process.pid, `${startTime}0`)).toEqual([]);
  });
});
