import { parseStartReport } from '../../src/lifecycle/start-report';

describe('what a released init reports on the exec FIFO', () => {
  test.each([
    ['0x', { kind: 'started' }],
    ['0eerror running startContainer hook #0: /bin/sh: exit status 4, stdout: , stderr: ', { kind: 'failed', message: 'error running startContainer hook #0: /bin/sh: exit status 4, stdout: , stderr: ' }],
    ['0xeexec /bin/x: no such file or directory', { kind: 'failed', message: 'exec /bin/x: no such file or directory' }],
    ['', { kind: 'notReleased' }],
    ['x', { kind: 'notReleased' }],
    ['0?', { kind: 'failed', message: 'unexpected report from the container\'s init: "0?"' }],
    ['0xx', { kind: 'failed', message: 'unexpected report from the container\'s init: "0xx"' }],
  ])('%j', (report, outcome) => {
    expect(parseStartReport(report, () => false)).toEqual(outcome);
  });

  test('0 then EOF: a start when the init still runs (the init of an older tsrun closes its end after the handshake), else it died', () => {
    let asked = 0;
    const runs = (answer: boolean) => () => {
      asked++;
      return answer;
    };
    expect(parseStartReport('0', runs(true))).toEqual({ kind: 'started' });
    expect(parseStartReport('0', runs(false))).toEqual({ kind: 'died' });
    expect(asked).toBe(2);
    // Only that case asks: a report that says what happened is believed.
    parseStartReport('0x', runs(false));
    parseStartReport('0ehook failed', runs(true));
    expect(asked).toBe(2);
  });

  test('0 then EOF from the init of a state that records no fifoProtocol (an older tsrun\'s): a start even when the init is gone (its process may have run and ended already)', () => {
    let asked = 0;
    const runs = (answer: boolean) => () => {
      asked++;
      return answer;
    };
    expect(parseStartReport('0', runs(false), true)).toEqual({ kind: 'started' });
    expect(parseStartReport('0', runs(true), true)).toEqual({ kind: 'started' });
    expect(asked).toBe(2);
    // What such an init reports in words still counts.
    expect(parseStartReport('0ehook failed', runs(false), true)).toEqual({ kind: 'failed', message: 'hook failed' });
    expect(parseStartReport('', runs(false), true)).toEqual({ kind: 'notReleased' });
    // A state of today's (fifoProtocol 2): the init gone without x is one that died.
    expect(parseStartReport('0', runs(false), false)).toEqual({ kind: 'died' });
  });
});
