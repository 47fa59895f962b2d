// OCI hooks run by the runtime itself (prestart, createRuntime, poststart,
// poststop), in the runtime's namespaces, each with the container's state JSON
// on stdin. createContainer and startContainer hooks run inside the container's
// namespaces and are executed by the init (see the planner).
import { spawnSync } from 'child_process';
import type { Hook, Hooks } from '../config/types';
import { TsrunError } from '../errors';
import type { OciState } from '../state/types';

export type HookKind = keyof Hooks;

export class HookError extends TsrunError {
  constructor(readonly kind: HookKind, readonly index: number, reason: string) {
    super(`${kind} hook #${index} ${reason}`);
  }
}

/** Runs the hooks of one kind in order; the first failure stops and is thrown. */
export function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: OciState): void {
  (hooks ?? []).forEach((hook, index) => {
    const [argv0, ...rest] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    // The environment is exactly the hook's own: nothing of tsrun's leaks into it.
    const env: Record<string, string> = {};
    for (const entry of hook.env ?? []) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const result = spawnSync(hook.path, rest, {
      argv0,
      env,
      input: JSON.stringify(state),
      stdio: ['pipe', 'inherit', 'pipe'],
      timeout: hook.timeout ? hook.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
    });
    const where = `(${hook.path})`;
    if (result.error) {
      const code = (result.error as NodeJS.ErrnoException).code;
      if (code === 'ETIMEDOUT') throw new HookError(kind, index, `${where} timed out after ${hook.timeout}s`);
      throw new HookError(kind, index, `${where} could not run: ${code ?? result.error.message}`);
    }
    const stderr = result.stderr?.toString().trim();
    const detail = stderr ? `: ${stderr.split('\n').at(-1)}` : '';
    if (result.signal) throw new HookError(kind, index, `${where} killed by ${result.signal}${detail}`);
    if (result.status !== 0) throw new HookError(kind, index, `${where} failed with exit status ${result.status}${detail}`);
  });
}
