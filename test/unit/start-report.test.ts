import { parseStartReport } from '../../src/lifecycle/start-report';

describe('what a released init reports on the exec FIFO', () => {
  test.each([
    ['0x', { kind: 'started' }],
    ['0estartContainer hook #0 (/bin/sh) failed: exit status 4', { kind: 'failed', message: 'startContainer hook #0 (/bin/sh) failed: exit status 4' }],
    ['0xeexec /bin/x: execve: ENOENT (No such file or directory)', { kind: 'failed', message: 'exec /bin/x: execve: ENOENT (No such file or directory)' }],
    ['0', { kind: 'died' }],
    ['', { kind: 'notReleased' }],
    ['x', { kind: 'notReleased' }],
    ['0?', { kind: 'failed', message: 'unexpected report from the container\'s init: "0?"' }],
    ['0xx', { kind: 'failed', message: 'unexpected report from the container\'s init: "0xx"' }],
  ])('%j', (report, outcome) => {
    expect(parseStartReport(report)).toEqual(outcome);
  });
});
