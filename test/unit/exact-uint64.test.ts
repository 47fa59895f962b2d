import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runcSpec } from '../helpers/bundle';
import { loadBundle } from '../../src/config/load';
import {
  CONFIG_UINT64_FIELDS,
  exactUint64FromState,
  exactUint64ToState,
  integerOf,
  numberLiterals,
  takeExactUint64,
} from '../../src/config/exact-uint64';
import { parseProcessFile, processFromFlags } from '../../src/config/exec-process';
import type { Process } from '../../src/config/types';
import { ConfigError } from '../../src/errors';
import { planProcessOps } from '../../src/linux/process-ops';
import { planSeccomp } from '../../src/linux/seccomp';

/** JSON text with `"<n>"` placeholders turned into bare number literals (JSON.stringify cannot write them). */
function withLiterals(doc: unknown): string {
  return JSON.stringify(doc, null, 1).replace(/"#(-?[0-9][0-9.eE+-]*)"/g, '$1');
}

function seccompConfig(args: unknown[]): unknown {
  return { linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', args }] } } };
}

function load(text: string): unknown {
  const doc = JSON.parse(text) as unknown;
  takeExactUint64(doc, text, CONFIG_UINT64_FIELDS);
  return doc;
}

const argsOf = (doc: unknown) => (doc as { linux: { seccomp: { syscalls: { args: Record<string, unknown>[] }[] } } }).linux.seccomp.syscalls[0]!.args;

describe('seccomp argument values keep all 64 bits', () => {
  test('values past 2^53 become the exact BigInt of their literal; safe ones stay numbers', () => {
    const doc = load(withLiterals(seccompConfig([
      { index: 0, value: '#9223372036854775809', op: 'SCMP_CMP_EQ' },
      { index: 1, value: '#18446744073709551615', valueTwo: '#18446744073709551615', op: 'SCMP_CMP_MASKED_EQ' },
      { index: 2, value: 7, op: 'SCMP_CMP_EQ' },
      { index: 3, value: '#9007199254740993', op: 'SCMP_CMP_EQ' },
    ])));
    expect(argsOf(doc)).toEqual([
      { index: 0, value: 9223372036854775809n, op: 'SCMP_CMP_EQ' },
      { index: 1, value: 18446744073709551615n, valueTwo: 18446744073709551615n, op: 'SCMP_CMP_MASKED_EQ' },
      { index: 2, value: 7, op: 'SCMP_CMP_EQ' },
      { index: 3, value: 9007199254740993n, op: 'SCMP_CMP_EQ' },
    ]);
    // The rounded doubles would have been 2^63, 2^64 (refused) and 2^53.
    expect(planSeccomp((doc as { linux: { seccomp: unknown } }).linux.seccomp, () => undefined)!.filter.rules.map((r) => r.conditions.map((c) => [c.a, c.b]))).toEqual([
      [[9223372036854775809n, 0n], [18446744073709551615n, 18446744073709551615n], [7n, 0n], [9007199254740993n, 0n]],
    ]);
  });

  test('exponent and fraction forms are taken exactly when they are integers', () => {
    const doc = load(withLiterals(seccompConfig([
      { index: 0, value: '#1.8446744073709551615e19', op: 'SCMP_CMP_EQ' },
      { index: 1, value: '#92233720368547758090e-1', op: 'SCMP_CMP_EQ' },
      { index: 2, value: '#9223372036854775808.000', op: 'SCMP_CMP_EQ' },
    ])));
    expect(argsOf(doc).map((a) => a['value'])).toEqual([18446744073709551615n, 9223372036854775809n, 9223372036854775808n]);
  });

  test.each([
    ['a value past 64 bits', '#18446744073709551616', /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.value: 18446744073709551616 is not a 64-bit unsigned value$/],
    ['a huge exponent', '#1e30', /args\[0\]\.value: 1e30 is not a 64-bit unsigned value$/],
    ['a fraction', '#9007199254740993.5', /args\[0\]\.value: 9007199254740993\.5 is not an integer$/],
  ])('%s is refused naming the field', (_what, literal, message) => {
    const text = withLiterals(seccompConfig([{ index: 0, value: literal, op: 'SCMP_CMP_EQ' }]));
    expect(() => load(text)).toThrow(ConfigError);
    expect(() => load(text)).toThrow(message);
  });

  test('a config without such values is not scanned (its text is not even looked at)', () => {
    const doc = seccompConfig([{ index: 0, value: 9007199254740991, valueTwo: 1, op: 'SCMP_CMP_EQ' }]);
    expect(() => takeExactUint64(doc, '{not json', CONFIG_UINT64_FIELDS)).not.toThrow();
    expect(argsOf(doc)[0]).toEqual({ index: 0, value: 9007199254740991, valueTwo: 1, op: 'SCMP_CMP_EQ' });
  });

  test('the text is followed as JSON.parse reads it: strings, escapes, other fields, duplicate keys', () => {
    const text = `{
      "annotations": {"linux": "{\\"seccomp\\": [9223372036854775809]}", "q\\"": [[[{"value": 1}]]]},
      "process": {"rlimits": [{"type": "RLIMIT_CORE", "soft": 12345678901234567890, "hard": 12345678901234567890}]},
      "linux": {"seccomp": {"syscalls": [{"args": [{"value": 1}]}]}},
      "linux" : { "seccomp" : { "syscalls" : [ { "names": ["x"], "args" : [ { "\\u0076alue" : 1 , "value":9223372036854775807 } , {"valueTwo": -0, "value": 18446744073709551615} ] } , {} ] } }
    }`;
    const doc = load(text);
    expect(argsOf(doc)).toEqual([{ value: 9223372036854775807n }, { valueTwo: -0, value: 18446744073709551615n }]);
    // Only the fields asked for are recorded; a later key replaces an earlier one's.
    expect([...numberLiterals(text, CONFIG_UINT64_FIELDS)]).toEqual([
      ['process.rlimits[0].soft', '12345678901234567890'],
      ['process.rlimits[0].hard', '12345678901234567890'],
      ['linux.seccomp.syscalls[0].args[0].value', '9223372036854775807'],
      ['linux.seccomp.syscalls[0].args[1].valueTwo', '-0'],
      ['linux.seccomp.syscalls[0].args[1].value', '18446744073709551615'],
    ]);
    const replaced = '{"linux": {"seccomp": {"syscalls": [{"args": [{"value": 9223372036854775809}]}]}}, "linux": {"seccomp": {}}}';
    expect([...numberLiterals(replaced, CONFIG_UINT64_FIELDS)]).toEqual([]);
  });

  test('deep nesting elsewhere is skipped without recursion', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const text = `{"annotations": {"a": "b"}, "x": ${deep}, "linux": {"seccomp": {"syscalls": [{"args": [{"value": 9223372036854775809}]}]}}}`;
    expect([...numberLiterals(text, CONFIG_UINT64_FIELDS)]).toEqual([['linux.seccomp.syscalls[0].args[0].value', '9223372036854775809']]);
  });

  test('integerOf: exact integers of JSON number literals', () => {
    expect(integerOf('0')).toBe(0n);
    expect(integerOf('-0.0e5')).toBe(0n);
    expect(integerOf('1e19')).toBe(10000000000000000000n);
    expect(integerOf('12.50e1')).toBe(125n);
    expect(integerOf('1.25e1')).toBeUndefined();
    expect(integerOf('0.1')).toBeUndefined();
    expect(integerOf('-18446744073709551615')).toBe(-18446744073709551615n);
    expect(integerOf('1e400')).toBe(2n ** 64n);
    expect(integerOf('1e-400')).toBeUndefined();
  });

  test('config.json: the schema accepts them and the bundle carries the exact values', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-exact-'));
    try {
      fs.mkdirSync(path.join(dir, 'rootfs'));
      const spec = runcSpec();
      spec.linux.seccomp = (seccompConfig([{ index: 0, value: '#18446744073709551615', valueTwo: '#9223372036854775809', op: 'SCMP_CMP_MASKED_EQ' }]) as { linux: { seccomp: unknown } }).linux.seccomp;
      fs.writeFileSync(path.join(dir, 'config.json'), withLiterals(spec));
      const bundle = loadBundle(dir);
      expect(argsOf(bundle.spec)[0]).toMatchObject({ value: 18446744073709551615n, valueTwo: 9223372036854775809n });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rlimits keep all 64 bits (RLIM_INFINITY is 2^64-1)', () => {
  const INFINITY = '#18446744073709551615';
  const proc = (soft: string | number | bigint, hard: string | number | bigint) => ({ cwd: '/', args: ['true'], user: { uid: 0, gid: 0 }, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }, { type: 'RLIMIT_CORE', soft, hard }] });
  const rlimitOps = (p: Process) => planProcessOps(p, { lastCap: 40, warn: () => undefined }).filter((o) => o.op === 'rlimit').map((o) => o.args.map(String));

  test('config.json: unlimited reaches the plan as 2^64-1, not 2^64', () => {
    const doc = load(withLiterals({ process: proc(INFINITY, INFINITY) })) as { process: Process };
    expect(doc.process.rlimits![1]).toEqual({ type: 'RLIMIT_CORE', soft: 18446744073709551615n, hard: 18446744073709551615n });
    expect(rlimitOps(doc.process)).toEqual([['7', '1024', '1024'], ['4', '18446744073709551615', '18446744073709551615']]);
  });

  test('process.json (exec --process): the same, and errors name the field under process.', () => {
    const p = parseProcessFile(withLiterals(proc(4096, INFINITY)), 'process.json');
    expect(p.rlimits![1]).toEqual({ type: 'RLIMIT_CORE', soft: 4096, hard: 18446744073709551615n });
    expect(() => parseProcessFile(withLiterals(proc('#18446744073709551616', INFINITY)), 'process.json')).toThrow(
      /^process\.rlimits\[1\]\.soft: 18446744073709551616 is not a 64-bit unsigned value$/,
    );
  });

  test("exec without --process copies the container's process, BigInts included", () => {
    const base = { ...proc(4096, 18446744073709551615n), env: ['A=1'] } as unknown as Process;
    const p = processFromFlags(base, { args: ['sh'], env: [], additionalGids: [], caps: [] });
    expect(p.rlimits).toEqual(base.rlimits);
    expect(p.rlimits).not.toBe(base.rlimits);
  });
});

describe('state.json keeps them as decimal strings', () => {
  test('round trip; a config without them is passed through as the same object', () => {
    const plain = seccompConfig([{ index: 0, value: 5, op: 'SCMP_CMP_EQ' }]) as Record<string, unknown>;
    expect(exactUint64ToState(plain)).toBe(plain);

    const config = { other: { keep: 1 }, ...(seccompConfig([{ index: 0, value: 5, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9223372036854775809n, valueTwo: 18446744073709551615n, op: 'SCMP_CMP_MASKED_EQ' }]) as Record<string, unknown>) };
    const stored = exactUint64ToState(config);
    expect(stored).not.toBe(config);
    expect(stored['other']).toBe(config.other);
    expect(argsOf(config)[1]!['value']).toBe(9223372036854775809n); // the original is not changed
    const text = JSON.stringify(stored);
    expect(text).toContain('"value":"9223372036854775809","valueTwo":"18446744073709551615"');
    const read = JSON.parse(text) as Record<string, unknown>;
    expect(exactUint64FromState(read)).toBe(true);
    expect(read).toEqual(config);
  });

  test('a stored value that is not a decimal is reported', () => {
    const read = seccompConfig([{ index: 0, value: '12x', op: 'SCMP_CMP_EQ' }]) as Record<string, unknown>;
    expect(exactUint64FromState(read)).toBe(false);
  });
});
