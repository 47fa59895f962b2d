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
  const interpreter = fs.readFileSync(path.join(repoRoot(), 'bin', 'tsrun'), 'utf8').split('\n')[0].slice(2).trim();
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
