// OCI hooks run by the runtime itself (prestart, createRuntime, poststart,
// poststop), in the runtime's namespaces, each with the container's state JSON
// on stdin. createContainer and startContainer hooks run inside the container's
// namespaces and are executed by the init (see the planner).
import * as fs from 'fs';
import type { Hook, Hooks } from '../config/types';
import { TsrunError } from '../errors';
import { log } from '../log';
import { native, type HookOutput } from '../native';
import type { ContainerState, ContainerStatus } from '../state/types';

export type HookKind = keyof Hooks;

/** The state of the runtime spec ("State"), as hooks get it on stdin. */
export interface HookState {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** Absent once stopped: the spec requires it only while created or running, and runc leaves it out. */
  pid?: number;
  bundle: string;
  /** Absent when there are none, as in runc (Go's omitempty); the spec makes it optional. */
  annotations?: Record<string, string>;
}

/** `pid` is left out for a stopped container (poststop): there is no process any more. */
export function hookState(state: ContainerState, status: ContainerStatus, pid = state.pid): HookState {
  const { ociVersion, id, bundle } = state;
  const base: HookState = status === 'stopped' ? { ociVersion, id, status, bundle } : { ociVersion, id, status, pid, bundle };
  return withAnnotations(base, state.annotations);
}

export function withAnnotations(state: HookState, annotations: Record<string, string> | undefined): HookState {
  return annotations && Object.keys(annotations).length > 0 ? { ...state, annotations } : state;
}

/**
 * A pid as the container's pid namespace sees it (last NSpid entry): the spec gives
 * hooks run in the container's namespaces that pid, as runc does (getpid in the init).
 */
export function pidInContainer(hostPid: number): number {
  const line = fs.readFileSync(`/proc/${hostPid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
  const last = line?.split(/\s+/).filter(Boolean).at(-1);
  return last && /^\d+$/.test(last) ? Number(last) : hostPid;
}

/** The hooks recorded with a container (its config.json as loaded at create). */
export function hooksOf(state: ContainerState): Hooks {
  return ((state.config as { hooks?: Hooks }).hooks ?? {});
}

/**
 * poststart and poststop: the spec says a failing hook is logged as a warning and the
 * remaining hooks and the lifecycle go on as if it had succeeded (runc 1.1.5 skips
 * the remaining hooks).
 */
export function runHooksWarnOnly(kind: 'poststart' | 'poststop', hooks: readonly Hook[] | undefined, state: HookState): void {
  (hooks ?? []).forEach((hook, index) => {
    try {
      runHook(kind, hook, index, state);
    } catch (e) {
      if (!(e instanceof HookError)) throw e;
      log.warn(e.message);
    }
  });
}

/** runc's words ("error running <kind> hook #<n>:"), which callers' tests look for; then the hook's path. */
export class HookError extends TsrunError {
  constructor(readonly kind: HookKind, readonly index: number, path: string, reason: string) {
    super(`error running ${kind} hook #${index}: ${path}: ${reason}`);
  }
}

/**
 * What a failing hook's error keeps of each stream: its last 16 KiB (runc keeps all; a
 * log line is no place for more, and tsrun keeps no more in memory either). The init
 * keeps less: its message travels in 4 KiB.
 */
const OUTPUT_KEPT = 16384;

/** runc's tail of a hook's error: ", stdout: ..., stderr: ...", each whole up to OUTPUT_KEPT. */
function hookSaid(stdout: HookOutput, stderr: HookOutput): string {
  const kept = (o: HookOutput): string => (o.bytes > o.tail.length ? `[...]${o.tail.toString()}` : o.tail.toString());
  return `, stdout: ${kept(stdout)}, stderr: ${kept(stderr)}`;
}

/**
 * A hook's `env`, when present, is its whole environment (`[]`: an empty one); when
 * absent the hook inherits tsrun's, as runc's hooks inherit runc's (Go's exec.Cmd with
 * a nil Env): hooks such as podman's, CDI's or nvidia's count on PATH and the like.
 * As Go's exec.Cmd passes it: a name given twice is there once, where it came last;
 * an entry without "=" is kept as it is (an empty one dropped).
 */
function hookEnv(hook: Hook): string[] {
  const given = hook.env ?? Object.entries(process.env).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${value}`]));
  const seen = new Set<string>();
  const kept: string[] = [];
  for (let i = given.length - 1; i >= 0; i--) {
    const entry = given[i] as string;
    // A leading "=" belongs to the name (Go's rule, for Windows' "=C:" variables).
    const eq = entry.indexOf('=', 1);
    if (eq < 0 && !entry.startsWith('=')) {
      if (entry !== '') kept.push(entry);
      continue;
    }
    const name = entry.slice(0, eq < 0 ? 0 : eq);
    if (seen.has(name)) continue;
    seen.add(name);
    kept.push(entry);
  }
  return kept.reverse();
}

/**
 * The bundle, where runc's hooks run (runc chdirs there for create and run); a
 * bundle removed since (a poststop at delete) leaves the caller's directory.
 */
function hookCwd(bundle: string): string | undefined {
  try {
    return fs.statSync(bundle).isDirectory() ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the hooks of one kind in order; the first failure stops and is thrown. */
export function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: HookState): void {
  (hooks ?? []).forEach((hook, index) => runHook(kind, hook, index, state));
}

/** Runs hook #index of its kind; a failure is thrown as a HookError. */
function runHook(kind: HookKind, hook: Hook, index: number, state: HookState): void {
  const [argv0, ...rest] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  let result;
  try {
    // Its output captured, like runc's: tsrun's stdout belongs to the caller (under
    // containerd it is the container's log), and a hook must not write into it. Read
    // to its end, as runc reads it (a hook's output is not limited); its last 16 KiB
    // are kept for the error.
    result = native().runHookProcess({
      path: hook.path,
      argv: [argv0 ?? hook.path, ...rest],
      env: hookEnv(hook),
      cwd: hookCwd(state.bundle),
      input: Buffer.from(JSON.stringify(state)),
      ...(hook.timeout ? { timeoutMs: hook.timeout * 1000 } : {}),
      keep: OUTPUT_KEPT,
    });
  } catch (e) {
    // "posix_spawn <path>: ENOENT (no such file or directory)": the errno's part; any
    // other refusal (a NUL byte in an argument) as it is: a hook's failure either way,
    // which poststart and poststop only warn of.
    const message = (e as Error).message;
    const errno = (e as NodeJS.ErrnoException).code !== undefined ? /[A-Z][A-Z0-9]* \([^()]*\)$/.exec(message)?.[0] : undefined;
    throw new HookError(kind, index, hook.path, `could not run: ${errno ?? message}`);
  }
  const said = hookSaid(result.stdout, result.stderr);
  if (result.timedOut) throw new HookError(kind, index, hook.path, `timed out after ${hook.timeout}s${said}`);
  // Go's words for a wait status, as runc's error has them.
  if (result.signal) throw new HookError(kind, index, hook.path, `signal: ${result.signal.text}${said}`);
  if (result.status !== 0) throw new HookError(kind, index, hook.path, `exit status ${result.status}${said}`);
}
