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
export function beforePivotHookOps(hooks: Hooks | undefined): PlanOp[] {
  if (!hooks || !(has(hooks.prestart) || has(hooks.createRuntime) || has(hooks.createContainer))) return [];
  return [op('sync', 'createRuntime'), ...hookOps('createContainer', hooks.createContainer)];
}

/** Before `notify ready`: the init fetches the state JSON (status created) for startContainer. */
export function startStateSyncOps(hooks: Hooks | undefined): PlanOp[] {
  return has(hooks?.startContainer) ? [op('sync', 'startContainer')] : [];
}

/** After `start` released the init, before the user's process: startContainer hooks. */
export function startContainerHookOps(spec: Spec): PlanOp[] {
  return hookOps('startContainer', spec.hooks?.startContainer);
}

function hookOps(kind: 'createContainer' | 'startContainer', hooks: Hook[] | undefined): PlanOp[] {
  return (hooks ?? []).map((hook, index) => {
    const args = hook.args ?? [];
    return op('hook', kind, index, hook.timeout ?? 0, hook.path, args.length, ...args, ...(hook.env ?? []));
  });
}
