// The bundled CLI loaded the way bin/tsrun loads it (scripts/launcher.js): the
// bundle with its code cache, parts with theirs as commands need them.

import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
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
