'use strict';
// The source of bin/tsrun, which scripts/bundle.js writes behind a #! line naming
// the node that built it. Loads the bundled CLI with V8's code cache (see
// scripts/bundle.js): start-up time is paid by every container start, so nothing is
// compiled that V8 already compiled.
// Without a listener, SIGUSR1 makes Node open its inspector on 127.0.0.1:9229 — a
// root debugger. No tsrun process may ever do that; run and exec forward it instead.
process.on('SIGUSR1', () => undefined);
const fs = require('fs');
const path = require('path');
const vm = require('vm');
// The #! line (scripts/bundle.js) passes --preserve-symlinks-main: without it Node
// finds this file's real path with its JavaScript realpath, one lstat and a cache
// per path component, before any of this runs (0.5-2 ms of every command here). The
// real path is still what finds dist/ and build/, as bin/tsrun may be reached
// through a link (npm's bin links): one realpath(3), in C.
const self = fs.realpathSync.native(__filename);
const here = path.dirname(self);

// The addon first: every command ends through it (src/native.ts exitProcess), and it
// reads the bundle and its parts into strings outside V8's heap, and their code
// caches into Buffers over memory of its own, without the first fs.readFileSync's
// ~0.3 ms (see addon/native/external-source.cpp); the bundle takes it from
// globalThis.__tsrunAddon. Without a built addon, plain reads (scripts/bundle.js
// writes only ASCII: latin1 is the cheapest exact read).
let readSource = (name) => fs.readFileSync(name, 'latin1');
let readCache = (name) => fs.readFileSync(name);
try {
  const addon = { exports: {} };
  process.dlopen(addon, path.join(here, '..', 'build', 'Release', 'tsrun_native.node'));
  // Each function made when first asked for, as src/native.ts's addonFunctions does.
  const made = Object.create(null);
  const named = addon.exports.functionNamed;
  if (typeof named !== 'function') throw new Error('an addon of another build');
  const functions = new Proxy(made, { get: (t, name) => (typeof name !== 'string' ? undefined : name in t ? t[name] : (t[name] = named(name))) });
  globalThis.__tsrunAddon = functions;
  if (typeof functions.readLatin1 === 'function') readSource = functions.readLatin1;
  if (typeof functions.readBytes === 'function') readCache = functions.readBytes;
} catch {
  // src/native.ts reports what is wrong with the addon when a command needs it
}
const file = path.join(here, '..', 'dist', 'tsrun.js');
// V8 reads a code cache whole, and the bundle's holds what every command compiles: a
// command the build ran alone in a fresh process reads that smaller cache instead, of
// the bundle and of the parts it loads (scripts/bundle.js writes these two tables: the
// commands that have such caches, the options that take a value). The command is the
// first word after the global options; a wrong guess would only cost time (any cache
// of the file fits).
const cacheFlavors = [];
const globalOptionsWithValue = [];
function commandOf(args) {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-')) return arg;
    if (!arg.includes('=') && globalOptionsWithValue.includes(arg)) i++;
  }
  return undefined;
}
const args = process.argv.slice(2);
const command = commandOf(args);
// A command that spawns an init has the addon start it now, on a thread of its own,
// while this thread loads and plans (addon/native/init-spawned-ahead.cpp); it waits
// for its fds, and src/native.ts's exitProcess ends it if it was never used. That
// thread first reads the bundle parts the command loads, with the caches its build
// made for them (scripts/bundle.js fills in this table).
const initAheadCommands = [];
const partsAhead = {};
if (initAheadCommands.includes(command) && globalThis.__tsrunAddon !== undefined) {
  try {
    globalThis.__tsrunAddon.spawnInitAhead((partsAhead[command] ?? []).map((name) => path.join(here, '..', 'dist', name)));
    globalThis.__tsrunInitAhead = true;
  } catch {
    // an addon without it: the init is spawned when its plan is ready
  }
}
const flavor = cacheFlavors.includes(command) ? command : undefined;
// For the bundle's __loadPart (scripts/bundle.js).
if (flavor !== undefined) globalThis.__tsrunCacheFlavor = flavor;
let cachedData;
for (const name of flavor !== undefined ? [`${file}.${flavor}.cache`, `${file}.cache`] : [`${file}.cache`]) {
  try {
    cachedData = readCache(name);
    break;
  } catch {
    cachedData = undefined; // no cache: compile normally
  }
}
// The file is one function expression (scripts/bundle.js). Its own modules resolve
// among themselves; what reaches this require is a builtin, an absolute path or a
// package (yargs, for --help), found from bin/ in the same node_modules.
const script = new vm.Script(readSource(file), { filename: file, cachedData });
const mod = { exports: {} };
// Packages resolve from the real bin/, not from a link's directory.
const requireHere = self === __filename ? require : require('module').createRequire(self);
script.runInThisContext().call(mod.exports, mod.exports, requireHere, mod, file, path.dirname(file));
mod.exports.main(args).then((code) => mod.exports.exitProcess(code));
