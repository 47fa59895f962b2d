#!/usr/bin/env node
// Bundles tsc's CommonJS output (dist/src/**) into dist/tsrun.js and a few parts,
// and writes a V8 code cache next to each. Node then reads and compiles a file or
// three instead of resolving and compiling ~90 modules on every command: a runtime is started for
// every container, so this is start-up time every user pays. Modules still run
// lazily, when first required.
// The ahead-of-time schema validators (40% of the code) are parts of their own,
// dist/tsrun.<name>.js with their own caches, read only by the commands that
// validate a document: state, start, kill, delete never pay for them. So are the
// modules that only delete and the commands acting on a container's cgroups (pause,
// resume, ps, events, update) load: dist/tsrun.cgroups.js; and those none of them
// loads (planning, the init's plan, exec): dist/tsrun.create.js. V8 reads a code cache whole, so each
// command pays for the size of the caches it reads (2 ms of `state` when all was one).
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

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
/** Module id -> the part file that defines it. */
const validatorParts = {};
for (const extra of ['config-validator.js', 'process-validator.js']) {
  if (fs.existsSync(path.join(dist, extra))) validatorParts[extra] = `tsrun.${extra}`;
}
const knownIds = new Set([...ids, ...Object.keys(validatorParts)]);
const CREATE_PART = 'tsrun.create.js';
const CGROUPS_PART = 'tsrun.cgroups.js';
/** The static program the warm-up containers run (built with the addon). */
const DEMO = path.resolve(__dirname, '..', 'build', 'Release', 'tsrun-demo');
// Commands that read caches of their own, of the bundle and of each part they load,
// made by a process that ran nothing but that command: state here, the others on a
// container other processes made (container-warm-up.js, ALONE). The shared caches
// gave exec's create part a run's functions too (232 KB against 121 KB: exec 0.953
// with its own, 60 pairs). bin/tsrun picks them by the command (writeLauncher).
const CACHE_FLAVORS = ['state', ...require('./lib/container-warm-up').aloneCommands];
// In tiers: what the first loads is the bundle itself, what the second adds (the
// cgroup drivers of delete) is a part of its own (see build()). Ids as warmUpCommands
// records them.
const STATE_COMMAND_TIERS = [
  [
    ['state', 'x'], ['state', 'w'], ['list'], ['list', '--format', 'json'], ['kill', 'x', 'KILL'], ['start', 'x'],
    ['delete', 'x'], ['delete', '--force', 'x'], ['kill', 'w2', 'CONT'],
  ],
  // The commands that only act on a container's cgroups: what they load joins
  // delete's part, so that none of them reads the create part (1-3 ms).
  [
    ['pause', 'w2'], ['resume', 'w2'], ['ps', 'w2'], ['events', '--stats', 'w2'], ['update', '--pids-limit', '10', 'w2'],
    ['delete', '--force', 'w2'],
  ],
];

const bundle = path.join(dist, 'tsrun.js');

/** The bundled module a relative request from module `fromId` names, or null. */
function resolveBundled(fromId, request) {
  if (!(request.startsWith('./') || request.startsWith('../'))) return null;
  const segments = fromId.split('/');
  segments.pop();
  for (const segment of request.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  const rel = segments.join('/');
  return [rel, `${rel}.js`, `${rel}/index.js`].find((c) => knownIds.has(c)) ?? null;
}

// Every literal require() between bundled modules is resolved here, once: at run
// time a module's requests are looked up in its table (the string work per request
// cost every command about half a millisecond).
function factory(id) {
  const source = fs.readFileSync(path.join(dist, id), 'utf8').replace(/^#!.*\n/, '');
  const deps = {};
  for (const m of source.matchAll(/\brequire\((["'])([^"']+)\1\)/g)) {
    const target = resolveBundled(id, m[2]);
    if (target !== null) deps[m[2]] = target;
  }
  return `__deps[${JSON.stringify(id)}] = ${JSON.stringify(deps)};\n` +
    `__factories[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${asciiOnly(source)}\n};`;
}

// Every file written here is pure ASCII, read back as latin1: a single non-ASCII
// character would make V8 hold the whole source as a two-byte string, which costs
// the read its fast path (0.5 ms measured on the bundle). A \uXXXX escape means the
// same character in every place tsc's output can hold one: string, template and
// regular expression literals, identifiers and comments.
function asciiOnly(source) {
  return source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// The commit `tsrun --version` prints (runc prints its own); "unknown" outside git.
let commit = 'unknown';
try {
  commit = require('child_process').execFileSync('git', ['rev-parse', 'HEAD'], { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || commit;
} catch {
  // not a git checkout
}

/**
 * Writes dist/tsrun.js with the modules `mainIds`, and each part file with its
 * modules (`parts`: module id -> part file). A part is a function of the factory
 * and dependency tables that adds its modules to them.
 */
function writeBundle(mainIds, parts) {
  const byFile = new Map();
  for (const [id, file] of Object.entries(parts)) byFile.set(file, [...(byFile.get(file) ?? []), id]);
  for (const [file, partIds] of byFile) {
    writeAtomic(path.join(dist, file), `(function (__factories, __deps) {\n${partIds.map(factory).join('\n')}\n})`);
  }
  const chunks = [
    "'use strict';",
    `const TSRUN_COMMIT = ${JSON.stringify(commit)};`,
    'const __path = require("path");',
    'const __root = __dirname;',
    'const __factories = Object.create(null);',
    'const __deps = Object.create(null);',
    `const __parts = ${JSON.stringify(parts)};`,
    'const __partScripts = Object.create(null);',
  ];
  for (const id of mainIds) chunks.push(factory(id));
  chunks.push(`
const __cache = Object.create(null);
// A builtin or a package resolves the same from every module here: through Node's
// require once (tens of microseconds each time, and modules ask for fs and path ~50 times).
const __externals = Object.create(null);
function __external(request) {
  return __externals[request] || (__externals[request] = require(request));
}
function __fromAbsolute(request) {
  if (!request.startsWith('/')) return null;
  const rel = __path.relative(__root, request);
  return __factories[rel] || __parts[rel] ? rel : null;
}
// A part is compiled with its own code cache, like the bundle in bin/tsrun; a
// missing or stale cache only costs the compile. Where bin/tsrun set
// globalThis.__tsrunCacheFlavor for its command, <part>.<flavor>.cache is read if the
// build made one: what that command compiles, and nothing other commands do.
function __loadPart(file) {
  const fs = __external('fs');
  const filename = __path.join(__root, file);
  const flavor = globalThis.__tsrunCacheFlavor;
  // bin/tsrun's addon reads both outside V8's heap (addon/native/external-source.cpp).
  const addon = globalThis.__tsrunAddon;
  const native = addon && typeof addon.readLatin1 === 'function' && typeof addon.readBytes === 'function';
  let cachedData;
  for (const name of flavor ? [filename + '.' + flavor + '.cache', filename + '.cache'] : [filename + '.cache']) {
    try {
      cachedData = native ? addon.readBytes(name) : fs.readFileSync(name);
      break;
    } catch {
      cachedData = undefined;
    }
  }
  const source = native ? addon.readLatin1(filename) : fs.readFileSync(filename, 'latin1');
  const script = new (__external('vm').Script)(source, { filename, cachedData });
  __partScripts[file] = script;
  script.runInThisContext()(__factories, __deps);
}
function __load(id) {
  const cached = __cache[id];
  if (cached) return cached.exports;
  if (!__factories[id]) {
    if (!__parts[id]) throw new Error('bundle: no module ' + id);
    __loadPart(__parts[id]);
  }
  const module = { exports: {}, id };
  __cache[id] = module;
  // Ids are normalized relative paths: no path.join needed.
  const filename = __root + '/' + id;
  const dirname = filename.slice(0, filename.lastIndexOf('/'));
  const deps = __deps[id];
  const localRequire = (request) => {
    const known = deps !== undefined && Object.prototype.hasOwnProperty.call(deps, request) ? deps[request] : undefined;
    if (known !== undefined) return __load(known);
    // Not a literal between bundled modules (scripts/bundle.js resolved those): an
    // absolute path into dist (the validators), a builtin or a package.
    const target = __fromAbsolute(request);
    if (target !== null) return __load(target);
    if (request.startsWith('.')) return require(__path.resolve(dirname, request));
    return __external(request);
  };
  __factories[id].call(module.exports, module.exports, localRequire, module, filename, dirname);
  return module.exports;
}
module.exports = __load(${JSON.stringify(entry)});
Object.defineProperty(module.exports, '__bundleLoad', { value: __load });
Object.defineProperty(module.exports, '__bundleParts', { value: __partScripts });
Object.defineProperty(module.exports, '__bundleLoaded', { value: () => Object.keys(__cache) });
`);
  // Written as the function expression CommonJS would wrap it in, so that bin/tsrun
  // compiles the file as it is: Module.wrap would cost it require('module') (0.25 ms).
  writeAtomic(bundle, `(function (exports, require, module, __filename, __dirname) {\n${chunks.join('\n')}\n})`);
  // Every cache of the files written here goes, also of a flavour an earlier build made
  // and this one does not.
  const written = new Set([path.basename(bundle), ...byFile.keys()]);
  for (const name of fs.readdirSync(dist)) {
    if (name.endsWith('.cache') && written.has(name.slice(0, name.indexOf('.js.') + 3))) fs.rmSync(path.join(dist, name), { force: true });
  }
}

/**
 * dist/build-id: a hash of the code in the bundle and its parts. What tsrun keeps
 * between commands and made with its own code (the seccomp cache: planned profiles)
 * is taken again only by the same code (src/lifecycle/build-identity.ts).
 */
function writeBuildId(files) {
  const hash = require('crypto').createHash('sha256');
  for (const file of files) hash.update(`${file}\0`).update(fs.readFileSync(path.join(dist, file)));
  writeAtomic(path.join(dist, 'build-id'), `${hash.digest('hex')}\n`);
}

/** A tsrun started during a rebuild reads an old file or a new one, never half of one. */
function writeAtomic(file, data) {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}

/** Compiles the bundle the way bin/tsrun does and evaluates its entry (which loads every command module). */
function evaluateBundle() {
  const script = new vm.Script(fs.readFileSync(bundle, 'latin1'), { filename: bundle });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, bundle, dist);
  return { script, cli: mod.exports };
}

if (process.argv[2] === '--probe') {
  // Child of the build below: which modules do the state-reading commands load?
  const { cli } = evaluateBundle();
  const loaded = [];
  warmUpCommands(cli, cli.__bundleLoad, () => loaded.push(cli.__bundleLoaded())).then(() => {
    fs.writeSync(1, JSON.stringify(loaded));
  });
} else if (process.argv[2] === '--flavor-cache') {
  // Child of the build below, with stdout to /dev/null: one command, then its cache.
  const { flavor, scope } = JSON.parse(process.argv[3]);
  writeFlavorCache(flavor, scope).catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  });
} else if (process.argv[2] === '--caches') {
  // Child of the build below, with stdout to /dev/null (the containers write there).
  const { files, scope } = JSON.parse(process.argv[3]);
  writeCaches(files, scope).catch((e) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  });
} else {
  build();
}

function build() {
  // First everything in one file, to learn (in a fresh process: the probes are real
  // commands) what state, list, start and kill load (the bundle), what delete adds
  // (the cgroups part); the rest is the create part.
  writeBundle(ids, validatorParts);
  const [probedCore, probedDelete] = JSON.parse(require('child_process').execFileSync(process.execPath, [__filename, '--probe'], { encoding: 'utf8' }));
  const core = new Set(probedCore.filter((id) => ids.includes(id)));
  const forDelete = new Set(probedDelete.filter((id) => ids.includes(id) && !core.has(id)));
  if (!core.has(entry)) throw new Error(`bundle: the probes never loaded ${entry}`);
  if (!forDelete.has('src/cgroups/index.js')) throw new Error('bundle: the delete probe never loaded the cgroup drivers');
  const parts = { ...validatorParts };
  for (const id of ids) if (!core.has(id)) parts[id] = forDelete.has(id) ? CGROUPS_PART : CREATE_PART;
  writeBundle(ids.filter((id) => core.has(id)), parts);
  writeBuildId([path.basename(bundle), ...new Set(Object.values(parts))]);
  const { INIT_AHEAD_COMMANDS } = require(path.join(dist, 'src', 'launcher-options.js'));
  writeLauncher(CACHE_FLAVORS, globalOptionsWithValue(), INIT_AHEAD_COMMANDS);

  // The code caches, made in children (runCacheChild): the flavours first, as their
  // children must compile the parts afresh (the caches made next would give them every
  // function the other commands compile too). Should the child of the shared caches
  // fail, those are made here without a container.
  const files = [...new Set(Object.values(parts))];
  // All flavours but state's need a container; where this host cannot run one
  // (container-warm-up.js), their commands read the shared caches. Said once.
  const noContainer = require('./lib/container-warm-up').missingForContainer(DEMO);
  const flavors = noContainer ? ['state'] : CACHE_FLAVORS;
  if (noContainer) process.stderr.write(`bundle: no cache flavours for ${CACHE_FLAVORS.filter((f) => !flavors.includes(f)).join(', ')} (${noContainer})\n`);
  for (const flavor of flavors) makeFlavorCache(flavor);
  // Now that the flavours' part caches exist: the launcher has its thread read them
  // ahead, with their parts, for the commands that spawn an init.
  writeLauncher(CACHE_FLAVORS, globalOptionsWithValue(), INIT_AHEAD_COMMANDS, partsReadBy(INIT_AHEAD_COMMANDS, files));
  const failure = runCacheChild('--caches', (scope) => ({ files, scope }), 'the warm-up container');
  let done = Promise.resolve();
  if (failure) {
    process.stderr.write(`bundle: the code cache child failed (${failure}); caching without containers\n`);
    done = writeCaches(files, undefined);
  }
  done.then(() => {
    console.log(`bundled ${ids.length} modules into ${path.relative(process.cwd(), bundle)} (${core.size} modules) and ${files.length} lazily loaded parts (+ code caches)`);
  });
}

/**
 * Evaluates the split bundle the way bin/tsrun does, runs the warm-ups, and saves
 * what V8 compiled as each file's code cache. With a `scope`, a real `tsrun run` in
 * it is part of the warm-up where this host can do one
 * (scripts/lib/container-warm-up.js). dist/cache-warm-up.json says whether it was
 * (test/integration/code-cache.test.ts reads it).
 */
async function writeCaches(files, scope) {
  const { script, cli } = evaluateBundle();
  warmUp(cli.__bundleLoad);
  await warmUpCommands(cli, cli.__bundleLoad);
  // Without a scope this is the build's fallback after its child failed.
  let skipped = 'the code cache child failed';
  const output = cli.__bundleLoad('src/output.js');
  const { warmUpWithContainer } = require('./lib/container-warm-up');
  if (scope) {
    skipped = await warmUpWithContainer(cli, output, DEMO, scope);
    if (skipped) process.stderr.write(`bundle: code caches made without a container run: ${skipped}\n`);
  }
  writeAtomic(bundle + '.cache', script.createCachedData());
  // The warm-up loads every module, so every part (validation of a config and of a process too).
  for (const file of files) {
    const part = cli.__bundleParts[file];
    if (!part) throw new Error(`bundle: the warm-up never loaded ${file}`);
    writeAtomic(path.join(dist, `${file}.cache`), part.createCachedData());
  }
  const outcome = skipped ? { containerRun: false, reason: skipped } : { containerRun: true };
  writeAtomic(path.join(dist, 'cache-warm-up.json'), `${JSON.stringify(outcome)}\n`);
}

/**
 * dist/tsrun.js.<flavor>.cache, and for a parts flavour dist/<part>.<flavor>.cache of
 * each part it loads, made in a child that runs only that command (on a container,
 * for all but state, in a scope of its own); none when the child fails (bin/tsrun
 * then reads the shared caches).
 */
function makeFlavorCache(flavor) {
  const failure = runCacheChild('--flavor-cache', (scope) => ({ flavor, scope }), `the ${flavor} warm-up`);
  if (failure) process.stderr.write(`bundle: no ${flavor} cache (${failure})\n`);
}

/**
 * For each command, the parts its flavour's warm-up loaded (those it made a cache of)
 * and those caches: what __loadPart reads for it, the create part first and then the
 * cgroup drivers, as a run loads them (the validators come last). Caches of parts
 * this build does not have (an older build's) are left out.
 */
function partsReadBy(commands, parts) {
  const first = [CREATE_PART, CGROUPS_PART];
  const rank = (part) => (first.includes(part) ? first.indexOf(part) : first.length);
  const table = {};
  for (const command of commands) {
    const read = [...parts].sort((a, b) => rank(a) - rank(b)).filter((part) => fs.existsSync(path.join(dist, `${part}.${command}.cache`)));
    table[command] = read.flatMap((part) => [`${part}.${command}.cache`, part]);
  }
  return table;
}

/**
 * Runs this script as a child in `mode` with a warm-up scope of its own, its stdout
 * to /dev/null (the warm-up container writes there); what the child leaves in the
 * scope is removed here, whatever became of it (SIGKILL on timeout: during `run` a
 * SIGTERM is caught). Returns why it failed, or undefined.
 */
function runCacheChild(mode, argument, what) {
  const { scopeForWarmUp, removeWarmUpScope } = require('./lib/container-warm-up');
  const scope = scopeForWarmUp();
  const child = require('child_process').spawnSync(process.execPath, [__filename, mode, JSON.stringify(argument(scope))], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 120000,
    killSignal: 'SIGKILL',
  });
  process.stderr.write(child.stderr ?? '');
  for (const problem of removeWarmUpScope(scope)) process.stderr.write(`bundle: after ${what}: ${problem}\n`);
  return child.status === 0 ? undefined : (child.error?.message ?? child.signal ?? `exit ${child.status}`);
}

async function writeFlavorCache(flavor, scope) {
  const { script, cli } = evaluateBundle();
  if (flavor === 'state') {
    await warmUpCommands(cli, cli.__bundleLoad, undefined, [[['state', 'w']]]);
  } else {
    const { warmUpAlone } = require('./lib/container-warm-up');
    const launcher = path.resolve(__dirname, '..', 'bin', 'tsrun');
    const skipped = await warmUpAlone(cli, cli.__bundleLoad('src/output.js'), DEMO, scope, launcher, flavor);
    if (skipped) throw new Error(`the ${flavor} warm-up was not done: ${skipped}`);
  }
  writeAtomic(`${bundle}.${flavor}.cache`, script.createCachedData());
  for (const [file, part] of Object.entries(cli.__bundleParts)) writeAtomic(path.join(dist, `${file}.${flavor}.cache`), part.createCachedData());
}

/** The global options that take a value, as bin/tsrun may see them before the command. */
function globalOptionsWithValue() {
  const { cli } = evaluateBundle();
  const { recordBuilder } = cli.__bundleLoad('src/cli/fast-parse.js');
  const { globalOptions } = cli.__bundleLoad('src/cli/global-options.js');
  return recordBuilder((y) => globalOptions(y))
    .filter((flag) => flag.type !== 'boolean')
    .flatMap((flag) => [flag.name, ...flag.aliases].map((name) => (name.length === 1 ? `-${name}` : `--${name}`)));
}

/**
 * Commands that only read state, run for real against a temporary root, so that the
 * code of every command's first steps (argument parsing, state lookup, error
 * reporting) is in the cache too: on a container that does not exist; `state` and
 * `list` on one recorded there whose "init" is this build process; `kill` and
 * `delete --force` on one whose "init" is a sleeping child of ours (no cgroup:
 * nothing else is signalled). Their output is swallowed. (`start` has no such
 * stand-in: a created container's init must be tsrun-init itself.)
 */
async function warmUpCommands(cli, load, onTier, tiers = STATE_COMMAND_TIERS) {
  const os = require('os');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bundle-warmup-'));
  const write = { out: process.stdout.write, err: process.stderr.write };
  const children = [];
  let output;
  try {
    process.stdout.write = process.stderr.write = () => true;
    output = load('src/output.js');
    output.divertOutput(() => undefined);
    const { StateStore } = load('src/state/store.js');
    const { processStartTime } = load('src/state/status.js');
    const store = new StateStore(root);
    const record = (id, pid) => {
      const unlock = store.reserveLocked(id);
      store.write(id, {
        ociVersion: '1.2.0', id, pid, startTime: processStartTime(pid) ?? '', bundle: root, rootfs: path.join(root, 'rootfs'),
        created: new Date().toISOString(), owner: '', annotations: {}, cgroupPaths: {}, cgroupCreated: [], config: {},
      });
      unlock();
    };
    // A node that only waits: every build host has one, and the split depends on
    // these probes finding a live process.
    const sleeper = require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60000)'], { stdio: 'ignore' });
    children.push(sleeper);
    record('w', process.pid);
    if (sleeper.pid) record('w2', sleeper.pid);
    for (const probes of tiers) {
      for (const args of probes) await cli.main(['--root', root, '--log-format', 'json', ...args]);
      onTier?.();
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    output?.divertOutput(undefined);
    process.stdout.write = write.out;
    process.stderr.write = write.err;
    process.exitCode = 0;
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/**
 * V8 compiles functions lazily, and the cache holds only what was compiled when it
 * was made: run the pure work every create does (argv parsing, schema validation,
 * planning, plan encoding) so that it is cached too. Nothing here touches the host.
 */
function warmUp(load) {
  // Every module's top level only declares; evaluating them all puts their code in the cache.
  for (const id of ids) load(id);
  const { defaultSpec } = load('src/config/default-spec.js');
  const spec = defaultSpec();
  spec.process.terminal = false;
  const validate = load('src/config/validate.js');
  validate.validateConfig(spec);
  validate.validateProcess(spec.process);
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
  const status = load('src/state/status.js');
  status.parseProcStat('1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0');
  const state = { ociVersion: '1.2.0', id: 'w', pid: 1, startTime: '5', bundle: '/b', rootfs: '/b/r', created: 'x', owner: '', annotations: {}, cgroupPaths: {}, config: {} };
  status.formatOciState(status.toOciState(state, status.deriveStatus(state, { alive: true, fifoExists: true, frozen: false })));
  load('src/cgroups/detect.js').detectLayout(
    '30 25 0:26 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,freezer\n' +
      '31 25 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:11 - cgroup2 cgroup2 rw\n',
    '/sys/fs/cgroup',
  );
  for (const cmd of ['state', 'start', 'delete', 'kill']) {
    const spec = parse.commandSpec(commands.find((c) => parse.commandSpec(c).name === cmd));
    const out = { _: [cmd], $0: 'tsrun' };
    parse.assignPositionals(spec, parse.parseFlags(['id'], spec.flags, out, { stopAtPositional: false }), out);
  }
}

/**
 * bin/tsrun: scripts/launcher.js behind a #! line naming this node by an absolute
 * path. `#!/usr/bin/env node` would cost every command an exec of env (1.5 ms
 * measured here). The name is the first `node` on PATH that is this very binary (a
 * stable link such as /usr/bin/node survives an upgrade behind it), else this
 * node's own path; env where neither fits a #! line (whitespace, or longer than
 * the kernel takes). A node removed or moved elsewhere needs a rebuild. The
 * launcher's tables (the commands with cache flavours, the global options that take a
 * value, the commands that spawn their init ahead and the files they read ahead) are
 * filled in here.
 */
function writeLauncher(flavors, optionsWithValue, initAheadCommands, partsAhead = {}) {
  const launcher = path.resolve(__dirname, '..', 'bin', 'tsrun');
  fs.mkdirSync(path.dirname(launcher), { recursive: true });
  let source = fs.readFileSync(path.join(__dirname, 'launcher.js'), 'utf8');
  const tables = [
    ['const cacheFlavors = [];', flavors],
    ['const globalOptionsWithValue = [];', optionsWithValue],
    ['const initAheadCommands = [];', initAheadCommands],
    ['const partsAhead = {};', partsAhead],
  ];
  for (const [declared, value] of tables) {
    if (!source.includes(declared)) throw new Error(`bundle: scripts/launcher.js lacks "${declared}"`);
    source = source.replace(declared, `${declared.slice(0, declared.indexOf('=') + 1)} ${JSON.stringify(value)};`);
  }
  const text = `#!${launcherInterpreter()}\n${source}`;
  fs.writeFileSync(`${launcher}.tmp`, text, { mode: 0o755 });
  fs.chmodSync(`${launcher}.tmp`, 0o755);
  fs.renameSync(`${launcher}.tmp`, launcher);
}

function launcherInterpreter() {
  const { LAUNCHER_NODE_OPTION } = require(path.join(dist, 'src', 'launcher-options.js'));
  const self = fs.realpathSync(process.execPath);
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => path.isAbsolute(dir))
    .map((dir) => path.join(dir, 'node'))
    .find((candidate) => {
      try {
        return fs.realpathSync(candidate) === self;
      } catch {
        return false;
      }
    });
  const node = onPath ?? process.execPath;
  // BINPRM_BUF_SIZE is 256 bytes for the whole line on the kernels tsrun supports.
  // With the node named, the line also carries the one option scripts/launcher.js
  // expects (why there); under env, Node resolves the launcher's path itself.
  return /\s/.test(node) || node.length > 200 ? '/usr/bin/env node' : `${node} ${LAUNCHER_NODE_OPTION}`;
}
