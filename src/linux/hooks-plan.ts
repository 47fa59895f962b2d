// Where the create plan hands control to hooks (addon/PROTOCOL.md, `hook` op): the
// runtime's own hooks (prestart, createRuntime) run at a `sync createRuntime`, the
// container's (createContainer, startContainer) are `hook` ops the init executes.
import type { Hook, Hooks, Spec } from '../config/types';
import { op, type PlanOp } from './plan-encoding';

const has = (hooks: Hook[] | undefined): boolean => (hooks ?? []).length > 0;

/**
 * Ops right before pivot_root: a sync where the parent runs prestart and createRuntime
 * hooks and answers with the state JSON, then the createContainer hooks (in the
 * container's mount namespace, paths still resolved against the host's root).
 */
export function beforePivotHookOps(spec: Spec): PlanOp[] {
  const hooks = spec.hooks;
  if (!hooks || !(has(hooks.prestart) || has(hooks.createRuntime) || has(hooks.createContainer))) return [];
  // The process's environment exactly as config.json gives it: the `env` op comes after
  // the pivot, and runc's init has it (without a default HOME yet) when these run.
  const processEnv: HookEnv = { from: 'hook', env: spec.process?.env ?? [] };
  return [op('sync', 'createRuntime'), ...hookOps('createContainer', hooks.createContainer, processEnv)];
}

/** Before `notify ready`: the init fetches the state JSON (status created) for startContainer. */
export function startStateSyncOps(hooks: Hooks | undefined): PlanOp[] {
  return has(hooks?.startContainer) ? [op('sync', 'startContainer')] : [];
}

/**
 * After `start` released the init, before the user's process: startContainer hooks.
 * One without `env` gets what the process will get, a HOME from the container's
 * /etc/passwd included, which only the init knows (its `env` and `defaultHome` ops).
 */
export function startContainerHookOps(spec: Spec): PlanOp[] {
  return hookOps('startContainer', spec.hooks?.startContainer, { from: 'process' });
}

/** Where a hook's environment comes from (PROTOCOL.md, `hook` op: envFrom). */
type HookEnv = { from: 'hook'; env: readonly string[] } | { from: 'process' };

/**
 * A hook's `env`, when present, is its whole environment (`[]`: an empty one). When
 * absent the hook inherits its runner's environment, as runc's hooks do (Go's exec.Cmd
 * with a nil Env): inside the container that is the container process's environment.
 */
function hookOps(kind: 'createContainer' | 'startContainer', hooks: Hook[] | undefined, inherited: HookEnv): PlanOp[] {
  return (hooks ?? []).map((hook, index) => {
    const args = hook.args ?? [];
    const env: HookEnv = hook.env !== undefined ? { from: 'hook', env: hook.env } : inherited;
    const envFields = env.from === 'hook' ? env.env : [];
    return op('hook', kind, index, hook.timeout ?? 0, hook.path, env.from, args.length, ...args, ...envFields);
  });
}
