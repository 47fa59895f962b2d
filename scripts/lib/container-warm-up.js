'use strict';
// Part of the build (scripts/bundle.js): one real `tsrun run` of a container,
// through the bundled CLI in the process that then writes the code caches, so that
// they hold the functions a container start compiles. V8 caches only what was
// compiled when the cache was made; everything else is parsed and compiled again by
// every command that runs it (3-4% of a `run`, measured).
//
// The shared caches hold `run` only: warming more commands (exec, pause, events...)
// into them made `run` about 2% slower again, measured. create, exec, start, kill,
// delete and the cgroup commands (pause, resume, ps, events, update) read caches of
// their own, each made by a process that ran nothing else: the container it acts on
// is created and deleted by other processes (warmUpAlone).
//
// It needs what a container needs: root, namespaces, cgroups, and the static
// tsrun-demo program (built with the addon) as the container's process. Where any of that is missing the caches are less complete:
// the warm-up says why and the build goes on.
//
// The build process owns the scope (a temp dir for the bundle and the state root,
// one cgroup parent) and removes it after the child that runs the container,
// whatever became of that child (scopeForWarmUp / removeWarmUpScope).

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { cgroupDirsOf, killUntilGone, processesInScope, removeCgroupDir, thawCgroups } = require('./host-scope');

/**
 * @typedef {{ main(argv: string[]): Promise<number> }} Cli
 * @typedef {{ divertOutput(to: ((fd: number, text: string) => void) | undefined): void }} Output
 * @typedef {{ work: string, cgroupParent: string }} WarmUpScope
 */

/** @returns {WarmUpScope} */
function scopeForWarmUp() {
  return { work: fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bundle-container-')), cgroupParent: `tsrun-build-${process.pid}` };
}

/**
 * `tsrun spec`, then `tsrun run` of tsrun-demo, inside `scope`. The container's own
 * output goes to this process's stdout; tsrun's goes nowhere.
 * @param {Cli} cli
 * @param {Output} output
 * @param {string} demoBinary
 * @param {WarmUpScope} scope
 * @returns {Promise<string | undefined>} why it was not done, or undefined
 */
async function warmUpWithContainer(cli, output, demoBinary, scope) {
  const missing = missingForContainer(demoBinary);
  if (missing) return missing;
  return withTsrun(cli, output, scope, async (tsrun) => {
    await writeDemoBundle(scope, demoBinary, tsrun);
    await tsrun('run', '--bundle', bundleDir(scope), 'warm-up');
  });
}

/**
 * What each command that warmUpAlone runs does to its created container (create and
 * run: make it), and what other processes do to it first.
 * @type {Record<string, { here: (id: string, scope: WarmUpScope) => string[], makes?: true, before?: (id: string) => string[][] }>}
 */
const ALONE = {
  create: { here: (id, scope) => ['create', '--bundle', bundleDir(scope), id], makes: true },
  run: { here: (id, scope) => ['run', '--bundle', bundleDir(scope), id], makes: true },
  exec: { here: (id) => ['exec', id, '/demo'] },
  start: { here: (id) => ['start', id] },
  kill: { here: (id) => ['kill', id, 'KILL'] },
  delete: { here: (id) => ['delete', '--force', id] },
  pause: { here: (id) => ['pause', id] },
  resume: { before: (id) => [['pause', id]], here: (id) => ['resume', id] },
  ps: { here: (id) => ['ps', id] },
  events: { here: (id) => ['events', '--stats', id] },
  // As containerd's runc shim sends it (there on stdin): the resources as JSON.
  update: { here: (id, scope) => ['update', '--resources', resourcesFile(scope), id] },
};

/**
 * `command` (ALONE) on a created container of tsrun-demo, or the `create` of it, the
 * only command this process runs: `launcher` (bin/tsrun, in processes of its own)
 * writes the bundle, creates the container (unless that is the command) and deletes it.
 * @param {Cli} cli
 * @param {Output} output
 * @param {string} demoBinary
 * @param {WarmUpScope} scope
 * @param {string} launcher
 * @param {string} command
 * @returns {Promise<string | undefined>} why it was not done, or undefined
 */
async function warmUpAlone(cli, output, demoBinary, scope, launcher, command) {
  if (!Object.prototype.hasOwnProperty.call(ALONE, command)) return `no warm-up for ${command} alone`;
  const missing = missingForContainer(demoBinary);
  if (missing) return missing;
  const elsewhere = async (...args) => {
    // stderr to a file: a created container keeps what it inherited open, and a pipe
    // would hold spawnSync until its timeout.
    const errFile = path.join(scope.work, 'elsewhere.stderr');
    const errFd = fs.openSync(errFile, 'w');
    let r;
    try {
      r = spawnSync(process.execPath, [launcher, '--root', stateRoot(scope), ...args], { stdio: ['ignore', 'ignore', errFd], timeout: 60000 });
    } finally {
      fs.closeSync(errFd);
    }
    if (r.status !== 0 || r.error) throw new Error(`tsrun ${args.join(' ')} (another process) ended with ${r.error?.message ?? r.signal ?? r.status}: ${fs.readFileSync(errFile, 'utf8').trim()}`);
  };
  return withTsrun(cli, output, scope, async (tsrun) => {
    await writeDemoBundle(scope, demoBinary, elsewhere);
    fs.writeFileSync(resourcesFile(scope), JSON.stringify({ pids: { limit: 100 }, cpu: { shares: 512 } }));
    const id = `warm-up-${command}`;
    const { here, makes, before } = ALONE[command];
    if (!makes) await elsewhere('create', '--bundle', bundleDir(scope), id);
    try {
      for (const args of before?.(id) ?? []) await elsewhere(...args);
      await tsrun(...here(id, scope));
    } finally {
      // Gone already after `delete` or `run`: a forced delete of it succeeds.
      await elsewhere('delete', '--force', id);
    }
  });
}

/** Why this host cannot run the warm-up container, or undefined. */
function missingForContainer(demoBinary) {
  if (process.getuid?.() !== 0) return 'not root';
  if (!fs.existsSync(demoBinary)) return `${demoBinary} is not built`;
  return undefined;
}

const bundleDir = (scope) => path.join(scope.work, 'bundle');
const stateRoot = (scope) => path.join(scope.work, 'state');
const resourcesFile = (scope) => path.join(scope.work, 'resources.json');

/** The bundle of the warm-up container: tsrun-demo as its process, its cgroup under the scope's parent. */
async function writeDemoBundle(scope, demoBinary, tsrun) {
  const bundle = bundleDir(scope);
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  fs.copyFileSync(demoBinary, path.join(bundle, 'rootfs', 'demo'));
  fs.chmodSync(path.join(bundle, 'rootfs', 'demo'), 0o755);
  await tsrun('spec', '--bundle', bundle);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/demo'];
  config.linux.cgroupsPath = `/${scope.cgroupParent}/warm-up`;
  fs.writeFileSync(file, JSON.stringify(config));
}

/**
 * Runs `steps` with a `tsrun(...args)` that calls the CLI as bin/tsrun would (state
 * under the scope), tsrun's own output diverted; a command that fails stops it.
 * @param {Cli} cli
 * @param {Output} output
 * @param {WarmUpScope} scope
 * @param {(tsrun: (...args: string[]) => Promise<void>) => Promise<void>} steps
 * @returns {Promise<string | undefined>} why it failed, or undefined
 */
async function withTsrun(cli, output, scope, steps) {
  const root = stateRoot(scope);
  let stderr = '';
  output.divertOutput((fd, text) => {
    if (fd === 2) stderr = (stderr + text).slice(-2000);
  });
  const tsrun = async (...args) => {
    process.exitCode = undefined;
    const code = await cli.main(['--root', root, ...args]);
    process.exitCode = undefined;
    if (code !== 0) throw new Error(`tsrun ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
  };
  try {
    await steps(tsrun);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    output.divertOutput(undefined);
  }
}

/**
 * Removes whatever the warm-up left in its scope: processes (by PID, only those in
 * its cgroup parent or rooted in its temp dir), cgroups, the temp dir.
 * @param {WarmUpScope} scope
 * @returns {string[]} what could not be removed
 */
function removeWarmUpScope(scope) {
  const problems = [];
  const left = killUntilGone(() => processesInScope(scope.cgroupParent, [path.join(scope.work, 'bundle', 'rootfs')]), () => thawCgroups(scope.cgroupParent));
  if (left.length) problems.push(`processes still alive: ${left.join(' ')}`);
  // Deepest first: the parent's own dir last.
  for (const { dir } of cgroupDirsOf(scope.cgroupParent).reverse()) {
    const problem = removeCgroupDir(dir);
    if (problem) problems.push(problem);
  }
  fs.rmSync(scope.work, { recursive: true, force: true });
  return problems;
}

module.exports = { scopeForWarmUp, missingForContainer, warmUpWithContainer, warmUpAlone, aloneCommands: Object.keys(ALONE), removeWarmUpScope };
