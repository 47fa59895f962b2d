// The bundled CLI loaded the way bin/tsrun loads it (scripts/launcher.js): the
// bundle with its code cache, parts with theirs as commands need them.

import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { spawnSync } from 'child_process';
import { repoRoot } from './runtime';

export interface BundledCli {
  main(argv: string[]): Promise<number>;
  __bundleLoad(id: string): Record<string, unknown>;
  __bundleParts: Record<string, vm.Script>;
}

export const distDir = path.join(repoRoot(), 'dist');
export const bundleFile = path.join(distDir, 'tsrun.js');

/**
 * A cache is checked against the node that runs it: only when this is the node
 * bin/tsrun names (the one that built it) does "rejected" here mean rejected there.
 */
export function sameNodeAsLauncher(): boolean {
  // The #! line: the node, then the option the launcher takes (scripts/bundle.js).
  const interpreter = fs.readFileSync(path.join(repoRoot(), 'bin', 'tsrun'), 'utf8').split('\n')[0].slice(2).trim().split(/\s+/)[0];
  try {
    return fs.realpathSync(interpreter) === fs.realpathSync(process.execPath);
  } catch {
    return false; // `/usr/bin/env node`
  }
}

/** A fresh copy of the bundle (its own module table), compiled with its cache (or the cache of a command's flavor). */
export function loadBundle(flavor?: string): { cli: BundledCli; script: vm.Script } {
  const cache = flavor ? `${bundleFile}.${flavor}.cache` : `${bundleFile}.cache`;
  const script = new vm.Script(fs.readFileSync(bundleFile, 'latin1'), { filename: bundleFile, cachedData: fs.readFileSync(cache) });
  const mod = { exports: {} as BundledCli };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, bundleFile, distDir);
  return { cli: mod.exports, script };
}

/** What runBundleFresh reports: the command's exit code and, per script (bundle and parts), its cache's fate and size now. */
export interface FreshRun {
  code: number;
  rejected: Record<string, boolean>;
  cacheSizes: Record<string, number>;
}

// The child of runBundleFresh: loadBundle's steps with the real require, then the
// command, then a report. argv: bundle file, cache file, report file, JSON argv.
const FRESH_RUNNER = `
  const fs = require('fs'), path = require('path'), vm = require('vm');
  const [bundle, cache, report, argv] = process.argv.slice(1);
  const script = new vm.Script(fs.readFileSync(bundle, 'latin1'), { filename: bundle, cachedData: fs.readFileSync(cache) });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, bundle, path.dirname(bundle));
  mod.exports.main(JSON.parse(argv)).then((code) => {
    const scripts = { 'tsrun.js': script, ...mod.exports.__bundleParts };
    const out = { code, rejected: {}, cacheSizes: {} };
    for (const [file, s] of Object.entries(scripts)) {
      out.rejected[file] = s.cachedDataRejected === true;
      out.cacheSizes[file] = s.createCachedData().length;
    }
    fs.writeFileSync(report, JSON.stringify(out));
    process.exit(0);
  });`;

/**
 * loadBundle's load in a node process of its own, running one command: what the
 * caches would hold after it. Measured in the test's own process this is not to be
 * trusted: V8's compilation cache (one per process, keyed by source and file name)
 * hands a second load of a script the functions an earlier load compiled while that
 * one is still alive, so its cache grows by them or not as the GC has decided.
 * Output goes to `tmp` (a created container's init keeps the command's stdio open).
 */
export function runBundleFresh(argv: string[], flavor: string | undefined, tmp: string): FreshRun {
  const cache = flavor ? `${bundleFile}.${flavor}.cache` : `${bundleFile}.cache`;
  const report = path.join(tmp, 'fresh-run.json');
  fs.rmSync(report, { force: true });
  const outFd = fs.openSync(path.join(tmp, 'fresh-run.out'), 'w');
  let r: ReturnType<typeof spawnSync>;
  try {
    r = spawnSync(process.execPath, ['-e', FRESH_RUNNER, bundleFile, cache, report, JSON.stringify(argv)], { stdio: ['ignore', outFd, outFd], timeout: 30_000 });
  } finally {
    fs.closeSync(outFd);
  }
  if (r.status !== 0 || !fs.existsSync(report)) {
    throw new Error(`bundle run ${argv.join(' ')}: status ${r.status} ${r.signal ?? ''}: ${fs.readFileSync(path.join(tmp, 'fresh-run.out'), 'utf8')}`);
  }
  return JSON.parse(fs.readFileSync(report, 'utf8')) as FreshRun;
}

/**
 * bin/tsrun and the build's files copied into `dir`, laid out as an install would be,
 * to run tsrun from another path or take files away without touching this build:
 * dist's bundle, parts and caches and, with `addon`, the addon, the init and the
 * init's empty overlay layer (addon/native/spawn.cpp). Returns the copy's bin/tsrun.
 */
export function installCopy(dir: string, addon: boolean): string {
  const dist = path.join(dir, 'dist');
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(dist);
  fs.copyFileSync(path.join(repoRoot(), 'bin', 'tsrun'), path.join(dir, 'bin', 'tsrun'));
  for (const file of fs.readdirSync(distDir)) if (file.startsWith('tsrun.')) fs.copyFileSync(path.join(distDir, file), path.join(dist, file));
  if (addon) {
    const release = path.join(dir, 'build', 'Release');
    fs.mkdirSync(release, { recursive: true });
    for (const file of ['tsrun_native.node', 'tsrun-init']) fs.copyFileSync(path.join(repoRoot(), 'build', 'Release', file), path.join(release, file));
    fs.mkdirSync(path.join(dir, 'build', 'tsrun-init-floor'));
  }
  return path.join(dir, 'bin', 'tsrun');
}
