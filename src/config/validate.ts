// Validates config.json (and exec's process.json) against the runtime-spec schema in
// spec/, using validators that scripts/compile-schema.js generated ahead of time, so
// no schema compiler is loaded at run time. The first violation becomes a
// ConfigError naming the field (`linux.namespaces[2].type`) and a reason a person
// can act on (`must be one of pid, network, ...`).
//
// Unknown properties are accepted on purpose: the spec's Extensibility section says
// runtimes MAY log them but MUST otherwise ignore them.

import * as path from 'path';
import { ConfigError } from '../errors';

/** The subset of an ajv error object that the generated validators produce (messages: false). */
interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  propertyName?: string;
}

interface CompiledValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

// Loaded on first use: `state`, `kill` and friends never read a config, and `create`
// has no use for the process-only validator.
let configValidator: CompiledValidator | undefined;
let processValidator: CompiledValidator | undefined;

function loadValidator(file: string): CompiledValidator {
  // dist/src/config/validate.js -> dist/<file>, written by scripts/compile-schema.js.
  return require(path.join(__dirname, '..', '..', file)) as CompiledValidator;
}

/** Throws ConfigError unless `config` is a valid OCI config.json document. */
export function validateConfig(config: unknown): void {
  configValidator ??= loadValidator('config-validator.js');
  if (!configValidator(config)) {
    throw toConfigError(configValidator.errors ?? [], config, '');
  }
  const c = config as { process?: { rlimits?: unknown[]; env?: string[] }; linux?: { namespaces?: unknown[] } };
  checkUniqueTypes(c.linux?.namespaces, 'linux.namespaces');
  checkUniqueTypes(c.process?.rlimits, 'process.rlimits');
  checkEnv(c.process?.env);
  checkNoNul(config, CONFIG_C_STRINGS, '');
}

/**
 * Throws ConfigError unless `proc` is a valid spec `process` object, as read by
 * `exec --process`. Fields are reported under `process.` so the message reads the
 * same as for the equivalent mistake in config.json.
 */
export function validateProcess(proc: unknown): void {
  processValidator ??= loadValidator('process-validator.js');
  if (!processValidator(proc)) {
    throw toConfigError(processValidator.errors ?? [], proc, 'process');
  }
  checkUniqueTypes((proc as { rlimits?: unknown[] }).rlimits, 'process.rlimits');
  checkEnv((proc as { env?: string[] }).env);
  checkNoNul(proc, PROCESS_C_STRINGS, 'process');
}

// Strings that reach the kernel or the init as C strings, where a NUL byte would cut
// them short: refused naming the field (the plan encoder would refuse them later,
// naming only its op). '*' is every element of an array, '**' every member of an
// object and '@' every member's name. Annotations and the fields of other platforms
// are left alone: they are never handed on so. So are hooks: as with runc, one that
// cannot be started fails when its turn comes (a poststop one with a warning, and
// the next one runs).
type Pattern = readonly string[];
const PROCESS_FIELDS: readonly Pattern[] = [
  ['args', '*'], ['cwd'], ['apparmorProfile'], ['selinuxLabel'],
];
const CONFIG_C_STRINGS: readonly Pattern[] = [
  ['root', 'path'],
  ['hostname'], ['domainname'],
  ...PROCESS_FIELDS.map((p) => ['process', ...p]),
  ['mounts', '*', 'destination'], ['mounts', '*', 'source'], ['mounts', '*', 'type'], ['mounts', '*', 'options', '*'],
  ['linux', 'namespaces', '*', 'path'],
  ['linux', 'devices', '*', 'path'],
  ['linux', 'cgroupsPath'],
  ['linux', 'sysctl', '@'], ['linux', 'sysctl', '**'],
  ['linux', 'maskedPaths', '*'], ['linux', 'readonlyPaths', '*'],
  ['linux', 'mountLabel'],
];
const PROCESS_C_STRINGS: readonly Pattern[] = PROCESS_FIELDS;

function checkNoNul(doc: unknown, patterns: readonly Pattern[], root: string): void {
  // The way down, named only once a NUL is found: a config with hundreds of mounts
  // makes no label strings (what a create leaves in the young generation costs).
  const way: Array<string | number | { key: string }> = [];
  const label = (): string => way.reduce<string>((text, step) =>
    typeof step === 'number' ? `${text}[${step}]` : typeof step === 'string' ? (text ? `${text}.${step}` : step) : `${text}[${JSON.stringify(step.key)}]`, root);
  const walk = (node: unknown, pattern: Pattern, depth: number): void => {
    if (depth === pattern.length) {
      if (typeof node === 'string' && node.includes('\0')) throw new ConfigError(label(), `${JSON.stringify(node)} holds a NUL byte`);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const step = pattern[depth]!;
    if (step === '*') {
      if (!Array.isArray(node)) return;
      for (let i = 0; i < node.length; i++) {
        way.push(i);
        walk(node[i], pattern, depth + 1);
        way.pop();
      }
      return;
    }
    if (Array.isArray(node)) return;
    const members = node as Record<string, unknown>;
    if (step === '@' || step === '**') {
      for (const key of Object.keys(members)) {
        way.push({ key });
        walk(step === '@' ? key : members[key], pattern, depth + 1);
        way.pop();
      }
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(members, step)) return;
    way.push(step);
    walk(members[step], pattern, depth + 1);
    way.pop();
  };
  for (const pattern of patterns) walk(doc, pattern, 0);
}

/**
 * Why `kv` cannot be an environment entry (runc refuses it as its init starts), or
 * undefined: it needs a name and "=", else it would reach the process as it is.
 */
export function envEntryProblem(kv: string): string | undefined {
  if (kv.indexOf('=') <= 0) return `invalid environment variable: ${JSON.stringify(kv)}`;
  // execve(2) would cut it there.
  if (kv.includes('\0')) return `invalid environment variable: ${JSON.stringify(kv)} holds a NUL byte`;
  return undefined;
}

function checkEnv(env: string[] | undefined): void {
  env?.forEach((kv, i) => {
    const problem = envEntryProblem(kv);
    if (problem) throw new ConfigError(`process.env[${i}]`, problem);
  });
}

// The spec requires an error for a repeated namespace type or rlimit type; JSON
// Schema cannot say "unique by one property", so it is checked here.
function checkUniqueTypes(list: unknown[] | undefined, field: string): void {
  if (!list) return;
  const seen = new Map<string, number>();
  list.forEach((entry, i) => {
    const type = (entry as { type: string }).type;
    const first = seen.get(type);
    if (first !== undefined) {
      throw new ConfigError(`${field}[${i}].type`, `duplicates ${field}[${first}].type (${JSON.stringify(type)})`);
    }
    seen.set(type, i);
  });
}

// ---------------------------------------------------------------------------
// Turning a schema error into a field path and a reason

function toConfigError(errors: SchemaError[], data: unknown, root: string): ConfigError {
  const err = pickError(errors);
  if (!err) return new ConfigError(root, 'is invalid');
  const at = formatPath(err.instancePath, data, root);

  switch (err.keyword) {
    case 'required':
      return new ConfigError(joinField(at, err.params.missingProperty), 'is required');
    case 'dependencies':
    case 'dependentRequired':
      return new ConfigError(
        joinField(at, err.params.missingProperty),
        `is required when ${err.params.property} is set`,
      );
    case 'anyOf': {
      // Our only anyOf use is "at least one of these properties" (blockIO
      // weightDevice, rdma entries); the branch errors name the properties.
      const names = errors
        .filter((e) => e.keyword === 'required' && e.instancePath === err.instancePath &&
          e.schemaPath.startsWith(err.schemaPath + '/'))
        .map((e) => e.params.missingProperty as string);
      return new ConfigError(at || rootLabel(root),
        names.length ? `must set at least one of ${names.join(', ')}` : 'matches none of the allowed forms');
    }
    case 'propertyNames': {
      // The error for the key itself comes first; the propertyNames error names the key.
      const key = err.params.propertyName as string;
      const inner = errors.find((e) => e !== err && e.instancePath === err.instancePath && e.keyword !== 'propertyNames');
      return new ConfigError(at || rootLabel(root), `key ${JSON.stringify(key)} ${inner ? reasonFor(inner) : 'is not allowed'}`);
    }
    default:
      return new ConfigError(at || rootLabel(root), reasonFor(err));
  }
}

// With allErrors off ajv stops at the first failure, but a failed anyOf or
// propertyNames also leaves the errors of its branches in the list, in front of
// its own; the combined error is the one that explains the problem.
function pickError(errors: SchemaError[]): SchemaError | undefined {
  return errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'propertyNames') ?? errors[0];
}

function rootLabel(root: string): string {
  return root || 'config.json';
}

const TYPE_PHRASE: Record<string, string> = {
  string: 'must be a string',
  integer: 'must be an integer',
  number: 'must be a number',
  boolean: 'must be a boolean',
  array: 'must be an array',
  object: 'must be an object',
  null: 'must be null',
};

// Patterns are spelled in spec/*.json; these are the words for them. A pattern not
// listed here still produces a correct, if terse, "must match" message.
const PATTERN_PHRASE: Record<string, string> = {
  '^/': 'must be an absolute path',
  '^(/|$)': 'must be an absolute path (or empty, for none)',
  '^[\\s\\S]': 'must not be empty',
  '^[0-9]+[KMGTPE]?B$': 'must be a page size such as 64KB, 2MB or 1GB',
  '^MB:[^\\n]*$': 'must start with "MB:" and be a single line',
  '^[^\\n]*$': 'must not contain a newline',
};
const SEMVER_PATTERN_PREFIX = '^(0|[1-9][0-9]*)\\.';

// JSON numbers are doubles: the 64-bit bounds in the schema come back rounded
// (2^63 - 1 prints as 9223372036854776000). Say what the spec says instead.
function formatLimit(limit: number): string {
  if (limit === 2 ** 63) return '9223372036854775807';
  if (limit === -(2 ** 63)) return '-9223372036854775808';
  if (limit === 2 ** 64) return '18446744073709551615';
  return String(limit);
}

function reasonFor(err: SchemaError): string {
  const p = err.params;
  switch (err.keyword) {
    case 'type':
      return TYPE_PHRASE[String(p.type)] ?? `must be of type ${String(p.type).split(',').join(' or ')}`;
    case 'enum':
      // An empty value allowed (unset, as runc reads it) is left out of the words.
      return `must be one of ${(p.allowedValues as unknown[]).filter((v) => v !== '').map(String).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'minimum':
      return `must be >= ${formatLimit(p.limit)}`;
    case 'maximum':
      return `must be <= ${formatLimit(p.limit)}`;
    case 'exclusiveMinimum':
      return `must be > ${formatLimit(p.limit)}`;
    case 'exclusiveMaximum':
      return `must be < ${formatLimit(p.limit)}`;
    case 'minItems':
      return p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} entries`;
    case 'maxItems':
      return `must have at most ${p.limit} entries`;
    case 'pattern': {
      const phrase = PATTERN_PHRASE[p.pattern];
      if (phrase) return phrase;
      if (String(p.pattern).startsWith(SEMVER_PATTERN_PREFIX)) return 'must be a SemVer 2.0.0 version such as 1.0.2';
      return `must match ${p.pattern}`;
    }
    case 'required':
      return `must set ${p.missingProperty}`;
    default:
      return `is invalid (${err.keyword})`;
  }
}

function joinField(base: string, key: string): string {
  return base ? base + segment(key) : key;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function segment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// JSON pointer (/linux/namespaces/2/type) -> linux.namespaces[2].type. Walks the
// data alongside so that an array index prints as [2] while an object key that
// happens to be numeric (a sysctl or annotation name) prints as ["2"]. Keys that
// are not identifiers (net.ipv4.ip_forward) are quoted the same way.
function formatPath(pointer: string, data: unknown, root: string): string {
  let out = root;
  if (!pointer) return out;
  let node: any = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out += `[${key}]`;
      node = node[Number(key)];
    } else {
      out = out ? out + segment(key) : IDENTIFIER.test(key) ? key : segment(key);
      node = node != null && typeof node === 'object' ? node[key] : undefined;
    }
  }
  return out;
}
