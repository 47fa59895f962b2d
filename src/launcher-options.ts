// The Node option bin/tsrun's #! line carries (scripts/bundle.js writes the line;
// scripts/launcher.js says why). It changes nothing a command does: a node started
// with it alone is not a node run "with flags" (native.ts exitProcess).
export const LAUNCHER_NODE_OPTION = '--preserve-symlinks-main';
