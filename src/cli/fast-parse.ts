// A small argv parser for the hot path. yargs costs ~30 ms to load here, more than
// the whole of runc's `state`; so the command modules (yargs CommandModules, the one
// place flags are declared) are read by recording what their builders declare, and
// argv is parsed against that record. yargs itself is loaded only for --help.
import type { Argv, CommandModule, Options, PositionalOptions } from 'yargs';
import { TsrunError } from '../errors';
import { parseGoBool } from '../config/go-bool';

export interface FlagSpec {
  name: string;
  aliases: string[];
  type: 'boolean' | 'string' | 'number' | 'array';
  default?: unknown;
  choices?: readonly unknown[];
}

export interface CommandSpec {
  name: string;
  aliases: string[];
  positionals: { name: string; variadic: boolean }[];
  flags: FlagSpec[];
}

export type ParsedArgv = Record<string, unknown> & { _: string[]; $0: string };

/** Runs a builder against a stand-in that records options and positionals. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function recordBuilder(builder: CommandModule<any, any>['builder'] | undefined): FlagSpec[] {
  const flags: FlagSpec[] = [];
  const record = (name: string, opts: Options | PositionalOptions): void => {
    const alias = opts.alias === undefined ? [] : Array.isArray(opts.alias) ? opts.alias : [opts.alias];
    const type: FlagSpec['type'] = (opts as Options).array ? 'array' : ((opts.type as FlagSpec['type'] | undefined) ?? 'string');
    flags.push({ name, aliases: alias, type, default: opts.default, choices: opts.choices as readonly unknown[] | undefined });
  };
  const recorder: Argv = new Proxy({} as Argv, {
    get(_target, prop) {
      if (prop === 'option' || prop === 'options') {
        return (name: string | Record<string, Options>, opts?: Options) => {
          if (typeof name === 'string') record(name, opts ?? {});
          else for (const [k, v] of Object.entries(name)) record(k, v);
          return recorder;
        };
      }
      // positionals are described by the command string; other builder calls
      // (usage, example, check...) do not change parsing.
      return () => recorder;
    },
  });
  if (typeof builder === 'function') builder(recorder);
  else if (builder) for (const [k, v] of Object.entries(builder)) record(k, v);
  return flags;
}

/** A command's name and aliases, without running its builder (finding the command to run). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function commandNames(module: CommandModule<any, any>): string[] {
  const name = String(module.command).trim().split(' ', 1)[0] ?? '';
  const aliases = module.aliases === undefined ? [] : Array.isArray(module.aliases) ? module.aliases : [module.aliases];
  return [name, ...aliases];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function commandSpec(module: CommandModule<any, any>): CommandSpec {
  const [name = '', ...aliases] = commandNames(module);
  // `<name>`, `[name]`, `[name..]` after the command word (the modules' own strings).
  const positionals = String(module.command)
    .split(' ')
    .slice(1)
    .filter((w) => (w.startsWith('[') || w.startsWith('<')) && (w.endsWith(']') || w.endsWith('>')))
    .map((w) => w.slice(1, -1))
    .map((w) => (w.endsWith('..') ? { name: w.slice(0, -2), variadic: true } : { name: w, variadic: false }));
  return { name, aliases, positionals, flags: recordBuilder(module.builder) };
}

/** `log-format` -> `logFormat`, as yargs names a flag's second key (see argv.ts on RegExps). */
function camel(s: string): string {
  const words = s.split('-');
  return words.map((w, i) => (i > 0 && w !== '' ? w.charAt(0).toUpperCase() + w.slice(1) : w)).join('');
}

/** `-name`, `--name`, `--name=value`: [name, value]; undefined for a word that is no flag. */
function splitFlag(arg: string): [string, string | undefined] | undefined {
  if (!arg.startsWith('-') || arg === '-') return undefined;
  // `-9`, `-1`: a negative number or a signal, a positional.
  const second = arg.charCodeAt(1);
  if (second >= 48 && second <= 57) return undefined;
  const body = arg.slice(arg.startsWith('--') ? 2 : 1);
  const eq = body.indexOf('=');
  const name = eq < 0 ? body : body.slice(0, eq);
  return name === '' ? undefined : [name, eq < 0 ? undefined : body.slice(eq + 1)];
}

function setValue(out: ParsedArgv, flag: FlagSpec, value: unknown, given: Set<string>): void {
  // As in runc (Go's flag package): a list flag (exec -e, -g, --cap, --cgroup) collects
  // one value per use; any other flag given twice keeps the last value (a wrapper's
  // --root before the user's own, as podman's --runtime-flag makes).
  const repeated = given.has(flag.name);
  given.add(flag.name);
  for (const key of new Set([flag.name, camel(flag.name), ...flag.aliases])) {
    const prev = out[key];
    out[key] = flag.type === 'array' ? [...(Array.isArray(prev) && repeated ? prev : []), value] : value;
  }
}

function convert(flag: FlagSpec, raw: string, shown: string): unknown {
  if (flag.type === 'number') {
    if (!/^-?\d+$/.test(raw)) throw new TsrunError(`invalid value "${raw}" for flag ${shown}: parse error`);
    return Number(raw);
  }
  if (flag.type === 'boolean') {
    const value = parseGoBool(raw);
    if (value !== undefined) return value;
    throw new TsrunError(`invalid boolean value "${raw}" for ${shown}: parse error`);
  }
  if (flag.choices && !flag.choices.includes(raw)) {
    throw new TsrunError(`invalid value "${raw}" for flag ${shown}: must be one of ${flag.choices.join(', ')}`);
  }
  return raw;
}

/**
 * Parses flags (GNU and Go spellings: --f v, --f=v, -f v, -flag v, --bool=false) and
 * positionals. `stopAtPositional` ends flag parsing at the first positional, as
 * runc's exec needs (what follows is the process's own argv).
 */
export function parseFlags(
  args: readonly string[],
  flags: readonly FlagSpec[],
  out: ParsedArgv,
  opts: { stopAtPositional: boolean; stopAtUnknownWord?: boolean },
): string[] {
  const byName = new Map<string, FlagSpec>();
  for (const f of flags) for (const n of [f.name, ...f.aliases]) byName.set(n, f);
  const positionals: string[] = [];
  const given = new Set<string>();
  for (const f of flags) if (f.default !== undefined) for (const key of new Set([f.name, camel(f.name), ...f.aliases])) out[key] = f.default;
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      return positionals;
    }
    const m = splitFlag(arg);
    if (!m) {
      positionals.push(arg);
      if (opts.stopAtPositional || opts.stopAtUnknownWord) return positionals.concat(args.slice(i + 1));
      continue;
    }
    const [name, value] = m;
    const flag = byName.get(name);
    if (!flag) {
      if (opts.stopAtUnknownWord) return positionals.concat(args.slice(i));
      throw new TsrunError(`flag provided but not defined: -${name}`);
    }
    if (flag.type === 'boolean') {
      setValue(out, flag, value === undefined ? true : convert(flag, value, arg), given);
      continue;
    }
    let raw = value;
    if (raw === undefined) {
      if (i + 1 >= args.length) throw new TsrunError(`flag needs an argument: ${arg}`);
      raw = args[++i] as string;
    }
    setValue(out, flag, convert(flag, raw, `-${name}`), given);
  }
  return positionals;
}

export function assignPositionals(spec: CommandSpec, words: string[], out: ParsedArgv): void {
  let at = 0;
  for (const p of spec.positionals) {
    if (p.variadic) {
      out[p.name] = words.slice(at);
      out[camel(p.name)] = out[p.name];
      at = words.length;
      break;
    }
    if (at < words.length) {
      out[p.name] = words[at];
      out[camel(p.name)] = words[at];
      at++;
    }
  }
  out._.push(...words.slice(at));
}
