// Exact uint64 fields. JSON.parse turns a number past 2^53 into the nearest double,
// so `"value": 9223372036854775809` would reach the seccomp filter as
// 9223372036854775808, and 18446744073709551615 (an all-ones mask, or -1 as a
// uint64) as 2^64, which fits no 64-bit field. For the fields where every bit means
// something (seccomp's argument values and masks; rlimits, whose RLIM_INFINITY is
// 2^64-1 and which Docker writes for an unlimited `--ulimit`), the value is taken
// again from the document's text, exactly, as a BigInt (safe values stay numbers).
//
// Speed: every `create` loads a config, so the text is scanned only when one of
// these fields holds a number at or above 2^53 after JSON.parse: the usual config
// pays for a look at a few fields, never for a walk over its text.
//
// Other 64-bit fields stay doubles on purpose: memory, hugepage and pids limits,
// CPU quotas, block I/O rates and time offsets are sizes and counts that a double
// holds exactly below 2^53 (8 PiB); past that only "unlimited" is meant, and the
// kernel takes a memory limit of 9223372036854775807, written as the double's
// 9223372036854775808 (src/cgroups/resources.ts, byteCount), as unlimited all the
// same; hugepage limits and block I/O rates are written the same way, and uint64's
// largest value (2^64 as a double) as itself.
import { ConfigError, TsrunError } from '../errors';

/** A field of a JSON document: object keys, and '*' for every element of an array. */
export type FieldPattern = readonly string[];

const RLIMIT_FIELDS: readonly FieldPattern[] = [
  ['rlimits', '*', 'soft'],
  ['rlimits', '*', 'hard'],
];

/** config.json's uint64 fields that keep all their bits. */
export const CONFIG_UINT64_FIELDS: readonly FieldPattern[] = [
  ['linux', 'seccomp', 'syscalls', '*', 'args', '*', 'value'],
  ['linux', 'seccomp', 'syscalls', '*', 'args', '*', 'valueTwo'],
  ...RLIMIT_FIELDS.map((p) => ['process', ...p]),
];

/** The same fields in exec's process.json (a spec `process` object). */
export const PROCESS_UINT64_FIELDS: readonly FieldPattern[] = RLIMIT_FIELDS;

const UINT64_MAX = 0xffffffffffffffffn;
const TWO_TO_53 = 2 ** 53;

type Holder = Record<string, unknown> | unknown[];

/**
 * Calls `fn` for every value the patterns reach in `doc` (`label` names it as the
 * errors do: `linux.seccomp.syscalls[0].args[1].value`, after `root` when given).
 */
function visit(doc: unknown, patterns: readonly FieldPattern[], root: string, fn: (holder: Holder, key: string | number, label: string) => void): void {
  const walk = (node: unknown, pattern: FieldPattern, depth: number, label: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const step = pattern[depth]!;
    const last = depth === pattern.length - 1;
    if (step === '*') {
      if (!Array.isArray(node)) return;
      for (let i = 0; i < node.length; i++) {
        if (last) fn(node, i, `${label}[${i}]`);
        else walk(node[i], pattern, depth + 1, `${label}[${i}]`);
      }
      return;
    }
    if (Array.isArray(node) || !Object.prototype.hasOwnProperty.call(node, step)) return;
    const child = label ? `${label}.${step}` : step;
    if (last) fn(node as Record<string, unknown>, step, child);
    else walk((node as Record<string, unknown>)[step], pattern, depth + 1, child);
  };
  for (const pattern of patterns) walk(doc, pattern, 0, root);
}

function get(holder: Holder, key: string | number): unknown {
  return (holder as Record<string | number, unknown>)[key];
}

function set(holder: Holder, key: string | number, value: unknown): void {
  (holder as Record<string | number, unknown>)[key] = value;
}

/**
 * Replaces, in `doc` (JSON.parse of `text`, already validated), every number at
 * `fields` that a double may have rounded (2^53 and above) with the exact BigInt of
 * its literal in `text`. Throws ConfigError naming the field for a literal that is
 * not an integer or does not fit 64 bits (the schema saw only the rounded double).
 * `root` prefixes the field names in errors ("process" for process.json).
 */
export function takeExactUint64(doc: unknown, text: string, fields: readonly FieldPattern[], root = ''): void {
  const inexact: { holder: Holder; key: string | number; label: string }[] = [];
  visit(doc, fields, root, (holder, key, label) => {
    const v = get(holder, key);
    if (typeof v === 'number' && !(Math.abs(v) < TWO_TO_53)) inexact.push({ holder, key, label });
  });
  if (inexact.length === 0) return;
  const literals = numberLiterals(text, fields, root);
  for (const { holder, key, label } of inexact) {
    const literal = literals.get(label);
    // The scanner follows JSON.parse (the last of duplicate keys wins), so the literal
    // is there and rounds to the parsed number; anything else is a bug here.
    if (literal === undefined || Number(literal) !== get(holder, key)) {
      throw new TsrunError(`internal: ${label}: the number in the text (${literal ?? 'none'}) is not the one JSON.parse read`);
    }
    const exact = integerOf(literal);
    if (exact === undefined) throw new ConfigError(label, `${literal} is not an integer`);
    if (exact < 0n || exact > UINT64_MAX) throw new ConfigError(label, `${literal} is not a 64-bit unsigned value`);
    set(holder, key, exact);
  }
}

/**
 * The exact integer a JSON number literal denotes (1e19, 18446744073709551615,
 * 1.5e1), or undefined when it has a fraction. Values far past 64 bits come back
 * as 2^64 so that range checks refuse them without building huge numbers.
 */
export function integerOf(literal: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  let digits = (m[2]! + fraction).replace(/^0+(?=\d)/, '');
  let exponent = Number(m[4] ?? '0') - fraction.length;
  while (exponent < 0 && digits.length > 1 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  if (digits === '0') return 0n;
  if (exponent < 0) return undefined;
  const sign = m[1] === '-' ? -1n : 1n;
  if (digits.length + exponent > 21) return sign * (UINT64_MAX + 1n);
  return sign * BigInt(digits) * 10n ** BigInt(exponent);
}

// Character codes the scanner looks at.
const QUOTE = 34;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const COMMA = 44;
const COLON = 58;
const MINUS = 45;

/**
 * The literals of the numbers at `fields` in JSON text, by field label. The text is
 * valid JSON (JSON.parse took it), so this only follows its structure: it descends
 * only where a pattern may still match and skips everything else without recursion,
 * so a deeply nested document cannot exhaust the stack. A key that repeats replaces
 * what its earlier value recorded, as with JSON.parse.
 */
export function numberLiterals(text: string, fields: readonly FieldPattern[], root = ''): Map<string, string> {
  const found = new Map<string, string>();
  let i = 0;

  const space = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else return;
    }
  };
  const skipString = (): void => {
    i++; // the opening quote
    for (;;) {
      const c = text.charCodeAt(i++);
      if (c === QUOTE) return;
      if (c === BACKSLASH) i++;
      if (Number.isNaN(c)) throw new TsrunError('internal: unterminated string in JSON text');
    }
  };
  const skipScalar = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c === COMMA || c === RBRACE || c === RBRACKET || c === 32 || c === 9 || c === 10 || c === 13) return;
      i++;
    }
  };
  const skipValue = (): void => {
    let depth = 0;
    do {
      space();
      const c = text.charCodeAt(i);
      if (c === QUOTE) skipString();
      else if (c === LBRACE || c === LBRACKET) {
        depth++;
        i++;
      } else if (c === RBRACE || c === RBRACKET) {
        depth--;
        i++;
      } else if (c === COMMA || c === COLON) i++;
      else skipScalar();
    } while (depth > 0);
  };
  const forget = (label: string): void => {
    for (const key of found.keys()) {
      if (key === label || key.startsWith(`${label}.`) || key.startsWith(`${label}[`)) found.delete(key);
    }
  };
  const value = (alive: readonly FieldPattern[], depth: number, label: string): void => {
    space();
    if (alive.length === 0) return skipValue();
    const c = text.charCodeAt(i);
    if (c === LBRACE) {
      i++;
      space();
      if (text.charCodeAt(i) === RBRACE) {
        i++;
        return;
      }
      for (;;) {
        space();
        const start = i;
        skipString();
        const raw = text.slice(start, i);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        space();
        i++; // the colon
        const next = alive.filter((p) => p.length > depth && p[depth] === key);
        const child = label ? `${label}.${key}` : key;
        if (next.length > 0 && found.size > 0) forget(child);
        value(next, depth + 1, child);
        space();
        if (text.charCodeAt(i++) === RBRACE) return;
      }
    }
    if (c === LBRACKET) {
      i++;
      space();
      if (text.charCodeAt(i) === RBRACKET) {
        i++;
        return;
      }
      const next = alive.filter((p) => p.length > depth && p[depth] === '*');
      for (let index = 0; ; index++) {
        value(next, depth + 1, `${label}[${index}]`);
        space();
        if (text.charCodeAt(i++) === RBRACKET) return;
      }
    }
    const start = i;
    if (c === QUOTE) return skipString();
    skipScalar();
    const isNumber = c === MINUS || (c >= 48 && c <= 57);
    if (isNumber && alive.some((p) => p.length === depth)) found.set(label, text.slice(start, i));
  };

  value(fields, 0, root);
  return found;
}

/**
 * `node` with `fn` applied at the end of `pattern`, copied along the way only where
 * something changed (the same object back when nothing did).
 */
function mapAt(node: unknown, pattern: FieldPattern, depth: number, fn: (v: unknown) => unknown): unknown {
  if (depth === pattern.length) return fn(node);
  if (typeof node !== 'object' || node === null) return node;
  const step = pattern[depth]!;
  if (step === '*') {
    if (!Array.isArray(node)) return node;
    let out: unknown[] | undefined;
    node.forEach((child, i) => {
      const mapped = mapAt(child, pattern, depth + 1, fn);
      if (mapped !== child) (out ??= [...node])[i] = mapped;
    });
    return out ?? node;
  }
  if (Array.isArray(node) || !Object.prototype.hasOwnProperty.call(node, step)) return node;
  const child = (node as Record<string, unknown>)[step];
  const mapped = mapAt(child, pattern, depth + 1, fn);
  return mapped === child ? node : { ...node, [step]: mapped };
}

/**
 * state.json keeps the config as loaded, but JSON has no BigInt: the exact values
 * are stored there as decimal strings (state.json is tsrun's own file). Returns
 * `config` itself when it holds none.
 */
export function exactUint64ToState(config: Record<string, unknown>): Record<string, unknown> {
  let out: unknown = config;
  for (const pattern of CONFIG_UINT64_FIELDS) out = mapAt(out, pattern, 0, (v) => (typeof v === 'bigint' ? v.toString() : v));
  return out as Record<string, unknown>;
}

/** The inverse of exactUint64ToState, in place on a config read from state.json; false when a stored value is not a decimal. */
export function exactUint64FromState(config: Record<string, unknown>): boolean {
  let ok = true;
  visit(config, CONFIG_UINT64_FIELDS, '', (holder, key) => {
    const v = get(holder, key);
    if (typeof v !== 'string') return;
    if (/^\d+$/.test(v)) set(holder, key, BigInt(v));
    else ok = false;
  });
  return ok;
}
