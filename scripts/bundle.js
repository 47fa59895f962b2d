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
fs.writeFileSync(bundle + '.cache', script.createCachedData());
console.log(`bundled ${ids.length} modules into ${path.relative(process.cwd(), bundle)} (+ code cache)`);
