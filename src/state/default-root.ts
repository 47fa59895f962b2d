// The default --root. Like runc (/run/runc, or $XDG_RUNTIME_DIR/runc for a non-root
// user who has one): an unprivileged user cannot write /run, and its containers
// belong in its own runtime dir.
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env, euid: number = process.geteuid?.() ?? 0): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (euid !== 0 && xdg && xdg.startsWith('/')) return `${xdg.replace(/\/+$/, '')}/tsrun`;
  return '/run/tsrun';
}
