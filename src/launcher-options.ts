// The Node option bin/tsrun's #! line carries (scripts/bundle.js writes the line;
// scripts/launcher.js says why). It changes nothing a command does: a node started
// with it alone is not a node run "with flags" (native.ts exitProcess).
export const LAUNCHER_NODE_OPTION = '--preserve-symlinks-main';

// The commands for which bin/tsrun has the addon spawn tsrun-init ahead of its plan,
// while their JavaScript loads (addon/native/init-spawned-ahead.cpp): the ones that
// spawn an init on their way to success.
export const INIT_AHEAD_COMMANDS: readonly string[] = ['create', 'run', 'exec'];
