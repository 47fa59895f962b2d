import { logrusValue } from '../../src/log';

describe('logrusValue (logrus text format)', () => {
  test('a value of only [A-Za-z0-9-._/@^+] stays bare, as logrus writes it', () => {
    expect(logrusValue('error')).toBe('error');
    expect(logrusValue('/run/tsrun/c1@x^y+z-1.2_3')).toBe('/run/tsrun/c1@x^y+z-1.2_3');
    expect(logrusValue('')).toBe('');
  });

  test('anything else is quoted as Go\'s %q quotes it', () => {
    expect(logrusValue('container does not exist')).toBe('"container does not exist"');
    expect(logrusValue('2026-11-26T05:32:02Z')).toBe('"2026-11-26T05:32:02Z"');
    expect(logrusValue('say "hi" \\ there')).toBe('"say \\"hi\\" \\\\ there"');
    expect(logrusValue('a\nb\tc\rd\x07\b\f\v')).toBe('"a\\nb\\tc\\rd\\a\\b\\f\\v"');
    expect(logrusValue('nul\x00 esc\x1b del\x7f')).toBe('"nul\\x00 esc\\x1b del\\x7f"');
    expect(logrusValue('c1 \u0085 kept: é ≤ 漢 😀')).toBe('"c1 \\u0085 kept: é ≤ 漢 😀"');
    // Not printable for Go: other spaces, zero-width and bidi controls, tags.
    expect(logrusValue('a\u00a0b\u200bc\u2028d\u202ee\ufefff\u{e0001}')).toBe('"a\\u00a0b\\u200bc\\u2028d\\u202ee\\ufefff\\U000e0001"');
  });
});
