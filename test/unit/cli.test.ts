import { normalizeArgv } from '../../src/cli/argv';
import { parseSignal } from '../../src/lifecycle/signals';

describe('Go-style flags', () => {
  test('single-dash long flags that tsrun knows become double-dash', () => {
    expect(normalizeArgv(['-root', '/r', '-log=/l', 'run', '-no-subreaper', '-d', 'id'])).toEqual([
      '--root', '/r', '--log=/l', 'run', '--no-subreaper', '-d', 'id',
    ]);
  });
  test('unknown words and everything after -- are left alone', () => {
    expect(normalizeArgv(['kill', 'my-id', 'KILL', '-x', '--', '-root'])).toEqual(['kill', 'my-id', 'KILL', '-x', '--', '-root']);
  });
});

describe('signals', () => {
  test.each([
    ['KILL', 9], ['SIGKILL', 9], ['kill', 9], ['9', 9], ['TERM', 15], ['SIGUSR1', 10], ['RTMIN+2', 36], ['SIGRTMAX', 64],
  ])('%s -> %d', (name, n) => expect(parseSignal(name)).toBe(n));
  test('default is SIGTERM', () => expect(parseSignal(undefined)).toBe(15));
  test('bad names are errors', () => {
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal "NOPE"/);
    expect(() => parseSignal('99')).toThrow(/invalid signal/);
  });
});
