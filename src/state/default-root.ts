// The default --root. Like runc (/run/runc, or $XDG_RUNTIME_DIR/runc for a non-root
// user who has one, or for the root of a user namespace not called USER=root:
// rootless podman runs the runtime so): an unprivileged user cannot write /run, and
// its containers belong in its own runtime dir.
import { inUserNamespace } from '../lifecycle/host-facts';

export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env, euid: number = process.geteuid?.() ?? 0, inUserNs: () => boolean = inUserNamespace): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/') && (euid !== 0 || (env.USER !== 'root' && inUserNs()))) return `${xdg.replace(/\/+$/, '')}/tsrun`;
  return '/run/tsrun';
}

/**
 * The XDG spec: what has the sticky bit in $XDG_RUNTIME_DIR is spared by its periodic
 * clean-up. runc sets it on its default root there too.
 */
export function wantsStickyRoot(root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return root !== '/run/tsrun' && root === defaultStateRoot(env);
}
