// runc's `exec --cgroup`: which cgroup dir of each hierarchy an exec'd process
// joins. `--cgroup sub` names a sub-cgroup of the container's in every hierarchy;
// `--cgroup ctrl[,ctrl...]:sub` one in the hierarchies of those controllers, by the
// names runc gives them (a v1 controller, or `name=systemd` for a named hierarchy;
// the unified hierarchy has none), and an unknown name is an error, as in runc.
import * as path from 'path';
import type * as Detect from '../cgroups/detect';
import { isOnCgroupFs } from '../cgroups/manager';
import { CgroupError, ConfigError } from '../errors';
import { exists } from '../host-files';

/** Parses runc's --cgroup values: controller -> sub-path ('' for "every hierarchy"). */
export function parseSubCgroups(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const value of values) {
    const parts = value.split(':');
    // runc splits at most in three and refuses a third part: no colon in a path.
    if (parts.length > 2) throw new ConfigError('--cgroup', `invalid --cgroup argument: ${value}`);
    if (parts.length === 1) {
      if (values.length !== 1) throw new ConfigError('--cgroup', `invalid --cgroup argument: ${value} (missing <controller>: prefix)`);
      out.set('', value);
      continue;
    }
    const [controllers, sub] = parts as [string, string];
    for (const ctrl of controllers.split(',')) {
      if (ctrl === '') throw new ConfigError('--cgroup', `invalid --cgroup argument: ${value} (empty <controller> prefix)`);
      if (out.has(ctrl)) throw new ConfigError('--cgroup', `invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      out.set(ctrl, sub);
    }
  }
  return out;
}

/**
 * The sub-path each hierarchy gets (absent: the container's own cgroup there).
 * keys: the hierarchy keys state.json records; controllersOf: the names --cgroup
 * may give a hierarchy ('cpu', 'name=systemd'; none for the unified one). Pure.
 */
export function subCgroupsByHierarchy(keys: readonly string[], controllersOf: (key: string) => readonly string[], subs: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const every = subs.get('');
  if (every !== undefined) {
    for (const key of keys) out.set(key, every);
    return out;
  }
  const named = new Map<string, string>();
  for (const key of keys) for (const ctrl of controllersOf(key)) named.set(ctrl, key);
  for (const [ctrl, sub] of subs) {
    const key = named.get(ctrl);
    if (key === undefined) {
      const known = [...named.keys()].sort().join(', ') || 'none';
      throw new ConfigError('--cgroup', `unknown controller ${ctrl} (the container's cgroup hierarchies have: ${known})`);
    }
    const earlier = out.get(key);
    // runc would take either, as its map iteration falls: say so instead.
    if (earlier !== undefined && earlier !== sub) {
      throw new ConfigError('--cgroup', `controller ${ctrl} shares its hierarchy with another one given sub-cgroup ${earlier}, not ${sub}`);
    }
    out.set(key, sub);
  }
  return out;
}

/** The names --cgroup may give each hierarchy mounted now, by key (mountinfo: only read when a controller is named). */
function mountedControllers(): (key: string) => readonly string[] {
  const { detectCgroupLayout, hostCgroupRoot } = require('../cgroups/detect') as typeof Detect;
  const byKey = new Map(detectCgroupLayout(hostCgroupRoot()).hierarchies.map((h) => [h.key, h.controllers]));
  return (key) => byKey.get(key) ?? [];
}

/**
 * The cgroup dir per hierarchy an exec'd process joins: the container's, or the named
 * sub-cgroup of it. From the dirs state.json recorded (building a cgroup manager
 * would read mountinfo and load the drivers for nothing: the init checks each dir is
 * on a cgroup filesystem before it joins, and a dir tsrun writes into itself is
 * checked the same way). A hierarchy gone since create (unmounted) is skipped; a dir
 * of a hierarchy still mounted that is gone is an error, as with runc: the process
 * would run outside the limits there without a word.
 */
export function execCgroupDirs(cgroupPaths: Readonly<Record<string, string>>, cgroupArgs: readonly string[]): Record<string, string> {
  const subs = parseSubCgroups(cgroupArgs);
  const present = Object.entries(cgroupPaths).filter(([, dir]) => {
    if (exists(dir)) return true;
    if (isOnCgroupFs(nearestExistingAncestor(dir))) throw new CgroupError(dir, `the container's cgroup ${dir} no longer exists`);
    return false;
  });
  const named = subs.size > 0 && !subs.has('');
  const subOf = subCgroupsByHierarchy(present.map(([key]) => key), named ? mountedControllers() : () => [], subs);
  const dirs: Record<string, string> = {};
  for (const [key, dir] of present) {
    const sub = subOf.get(key);
    if (sub === undefined) {
      dirs[key] = dir;
      continue;
    }
    const target = path.resolve(dir, sub.replace(/^\/+/, ''));
    // Worded with runc's phrases (1.1's and 1.2's), which scripts and its own tests match.
    if (target !== dir && !target.startsWith(dir + '/')) throw new CgroupError(target, `--cgroup ${sub}: bad sub cgroup path: ${sub} is not a sub cgroup path (outside the container's cgroup)`);
    if (!exists(target)) throw new CgroupError(target, `--cgroup ${sub}: error adding pid to cgroups: ${target}: no such file or directory`);
    dirs[key] = target;
  }
  return dirs;
}

function nearestExistingAncestor(dir: string): string {
  let d = path.dirname(dir);
  while (d !== '/' && !exists(d)) d = path.dirname(d);
  return d;
}
