#!/usr/bin/env node
// Bundles tsc's CommonJS output (dist/src/**, the ahead-of-time schema validators)
// into one file, dist/tsrun.js, and writes a V8 code cache next to it. Node then
// reads and compiles one file instead of resolving and compiling ~50 modules on
// every command: a runtime is started for every container, so this is start-up
// time every user pays. Modules still run lazily, when first required.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const dist = path.resolve(__dirname, '..', 'dist');
const entry = 'src/cli/main.js';

function collect(dir, out) {
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) collect(full, out);
    else if (name.endsWith('.js')) out.push(path.relative(dist, full));
  }
  return out;
}

const ids = collect(path.join(dist, 'src'), []);
for (const extra of ['config-validator.js', 'process-validator.js']) {
  if (fs.existsSync(path.join(dist, extra))) ids.push(extra);
}

const parts = [
  "'use strict';",
  'const __path = require("path");',
  'const __root = __dirname;',
  'const __factories = Object.create(null);',
];
for (const id of ids) {
  const source = fs.readFileSync(path.join(dist, id), 'utf8').replace(/^#!.*\n/, '');
  parts.push(`__factories[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${source}\n};`);
}
parts.push(`
const __cache = Object.create(null);
function __resolve(fromDir, request) {
  if (!(request.startsWith('./') || request.startsWith('../') || request.startsWith('/'))) return null;
  const abs = __path.resolve(fromDir, request);
  const rel = __path.relative(__root, abs);
  for (const candidate of [rel, rel + '.js', rel + '/index.js']) {
    if (__factories[candidate]) return candidate;
  }
  return null;
}
function __load(id) {
  const cached = __cache[id];
  if (cached) return cached.exports;
  const module = { exports: {}, id };
  __cache[id] = module;
  const filename = __path.join(__root, id);
  const dirname = __path.dirname(filename);
  const localRequire = (request) => {
    const target = __resolve(dirname, request);
    return target === null ? require(request.startsWith('.') ? __path.resolve(dirname, request) : request) : __load(target);
  };
  __factories[id].call(module.exports, module.exports, localRequire, module, filename, dirname);
  return module.exports;
}
module.exports = __load(${JSON.stringify(entry)});
Object.defineProperty(module.exports, '__bundleLoad', { value: __load });
`);
const bundle = path.join(dist, 'tsrun.js');
fs.writeFileSync(bundle, parts.join('\n'));

// The code cache: compile the bundle the way bin/tsrun does, evaluate its entry
// (which loads every command module), and save what V8 compiled.
const source = fs.readFileSync(bundle, 'utf8');
const script = new vm.Script(Module.wrap(source), { filename: bundle });
const fn = script.runInThisContext();
const mod = { exports: {} };
fn.call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, dist);
warmUp(mod.exports.__bundleLoad);
fs.writeFileSync(bundle + '.cache', script.createCachedData());

/**
 * V8 compiles functions lazily, and the cache holds only what was compiled when it
 * was made: run the pure work every create does (argv parsing, schema validation,
 * planning, plan encoding) so that it is cached too. Nothing here touches the host.
 */
function warmUp(load) {
  const { defaultSpec } = load('src/config/default-spec.js');
  const spec = defaultSpec();
  spec.process.terminal = false;
  load('src/config/validate.js').validateConfig(spec);
  load('src/config/support.js').checkSupported(spec);
  const plan = load('src/linux/plan.js').buildCreatePlan({
    spec, bundle: '/b', rootfs: '/b/rootfs', noPivot: false, preserveFds: 0, extraFds: 1, fifoFd: 5,
    host: { lastCap: 40, cgroupDirs: { cpu: '/c' }, cgroupV2: false }, warn: () => undefined,
  });
  load('src/linux/plan-encoding.js').encodePlan(plan);
  const parse = load('src/cli/fast-parse.js');
  const { commands } = load('src/cli/commands/index.js');
  for (const c of commands) parse.commandSpec(c);
  const { normalizeArgv } = load('src/cli/argv.js');
  normalizeArgv(['--root', '/r', '--log', '/l', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/p', 'id']);
  load('src/state/status.js').parseProcStat('1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0');
}
console.log(`bundled ${ids.length} modules into ${path.relative(process.cwd(), bundle)} (+ code cache)`);
