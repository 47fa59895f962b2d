import { logLine, logrusValue, terminalLine } from '../../src/logrus';

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

describe('terminalLine (logrus on a terminal)', () => {
  test('coloured four-letter level, whole seconds since start, the message padded to 44', () => {
    expect(terminalLine('error', 'container does not exist', 0.4)).toBe(`\x1b[31mERRO\x1b[0m[0000] ${'container does not exist'.padEnd(44)} \n`);
    expect(terminalLine('warning', 'w', 12.9)).toBe(`\x1b[33mWARN\x1b[0m[0012] ${'w'.padEnd(44)} \n`);
    expect(terminalLine('debug', 'd', 0).startsWith('\x1b[37mDEBU\x1b[0m[0000] d')).toBe(true);
  });

  test('the message is escaped, not quoted: no raw control or escape sequence reaches the terminal', () => {
    const line = terminalLine('error', 'path "a\\b"\n\x1b[2Jx\u202e', 0);
    expect(line).toContain('path "a\\b"\\n\\x1b[2Jx\\u202e');
    expect(line.slice(line.indexOf(']'), -1)).not.toMatch(/[\x00-\x1f\x7f\u202e]/u);
  });
});

describe('logLine', () => {
  test('text: time, level, msg as logrus writes them; json: the same three keys', () => {
    expect(logLine('text', 'error', 'boom now')).toMatch(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=error msg="boom now"\n$/);
    expect(Object.keys(JSON.parse(logLine('json', 'warning', 'x')))).toEqual(['level', 'msg', 'time']);
  });
});
