// A path flag whose bytes are not UTF-8 is refused, never taken for the name Node decoded (src/cli/raw-paths.ts).
import { pathFlagNotUtf8 } from '../../src/cli/raw-paths';

const raw = (...words: (string | Buffer)[]): Buffer[] => words.map((w) => (typeof w === 'string' ? Buffer.from(w, 'utf8') : w));

describe('pathFlagNotUtf8', () => {
  test('a --pid-file or --root given with a byte that is not UTF-8 is named', () => {
    const pid = Buffer.concat([Buffer.from('/run/p/pid'), Buffer.from([0xff])]);
    expect(pathFlagNotUtf8({ 'pid-file': '/run/p/pid\uFFFD' }, raw('create', '--pid-file', pid, 'c1'))).toBe('pid-file');
    const root = Buffer.concat([Buffer.from('--root=/r/'), Buffer.from([0xfe])]);
    expect(pathFlagNotUtf8({ root: '/r/\uFFFD' }, raw(root, 'list'))).toBe('root');
  });
  test('a path that holds U+FFFD itself (valid UTF-8), or an argument of the container\'s process, is not refused', () => {
    expect(pathFlagNotUtf8({ 'pid-file': '/run/p/pid\uFFFD' }, raw('create', '--pid-file', '/run/p/pid\uFFFD', 'c1'))).toBeUndefined();
    const arg = Buffer.from([0x61, 0xff]);
    expect(pathFlagNotUtf8({ 'pid-file': '/run/p/pid' }, raw('exec', '--pid-file', '/run/p/pid', 'c1', 'echo', arg))).toBeUndefined();
  });
});
