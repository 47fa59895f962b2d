// Reads a bundle: config.json parsed, validated against spec/, checked for fields
// tsrun does not implement, and the rootfs located. Nothing is created here.
import * as fs from 'fs';
import { fileKind, readText, type FileKind } from '../host-files';
import * as path from 'path';
import { ConfigError } from '../errors';
import { log } from '../log';
import { checkSupported } from './support';
import type { Spec } from './types';
import { completeUser } from './process-user';
import { validateConfig } from './validate';
import { parseSpecJson } from './json';
import { CONFIG_UINT64_FIELDS, takeExactUint64 } from './exact-uint64';
import { containerMountDestinations } from './mount-destinations';
import { deviceAccessAsRuncReadsIt } from './device-access';

export interface Bundle {
  dir: string;
  spec: Spec;
  rootfs: string;
}

export function loadBundle(bundleDir: string): Bundle {
  const dir = physicalPath(path.resolve(bundleDir));
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = readText(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError('', code === 'ENOENT' ? `${file}: no such file (is ${dir} a bundle?)` : `${file}: ${code}`);
  }
  const raw = parseSpecJson(text, file);
  validateConfig(raw);
  // After the schema, which checks shapes and ranges on the doubles JSON.parse made.
  takeExactUint64(raw, text, CONFIG_UINT64_FIELDS);
  const spec = raw as Spec;
  if (spec.process) spec.process.user = completeUser(spec.process.user);
  // The spec's extensibility rule: ignored, not refused; said, since a limit of a newer
  // spec's that this runtime does not know is not applied.
  for (const field of checkSupported(spec)) log.warn(`${field}: unknown to this runtime, ignored`);
  if (!spec.root?.path) throw new ConfigError('root.path', 'is required');
  const rootfs = path.resolve(dir, spec.root.path);
  let kind: FileKind | null;
  try {
    kind = fileKind(rootfs, true);
  } catch (e) {
    // Only a missing rootfs is one that "does not exist": a rootless caller meets
    // EACCES on a dir it cannot search, and must be told that instead.
    throw new ConfigError('root.path', `rootfs (${rootfs}): stat: ${(e as NodeJS.ErrnoException).code}`);
  }
  if (kind === null) throw new ConfigError('root.path', `rootfs (${rootfs}) does not exist`);
  if (kind !== 'dir') throw new ConfigError('root.path', `rootfs (${rootfs}) is not a directory`);
  // As runc: the state names the rootfs by its own path, and a root.path that is, or
  // lies under, a symlink is refused rather than followed.
  const real = physicalPath(rootfs);
  if (real !== rootfs) throw new ConfigError('root.path', `rootfs (${rootfs}) is a symlink or lies under one (it resolves to ${real})`);
  containerMountDestinations(spec, rootfs);
  deviceAccessAsRuncReadsIt(spec, (m) => log.warn(m));
  return { dir, spec, rootfs };
}

/**
 * The path without symlinks, as runc's bundle is (it chdirs there and takes the
 * working directory). One that cannot be resolved is kept: reading config.json or
 * the rootfs from it then fails with the reason.
 */
function physicalPath(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return p;
  }
}
