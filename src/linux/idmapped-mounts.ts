// Id-mapped bind mounts (runc 1.2; config.md: mounts[].uidMappings/gidMappings, the
// `idmap` and `ridmap` options): the files of the source appear with their ids
// shifted by the mount's mappings, so a volume owned by host root shows as the
// container's root without a chown. The init makes the user namespace of the
// mappings while it is still the host's root, and the mapped tree right before the
// mount, in the container's mount namespace (by the bind source helper when the
// container has a user namespace: the kernel asks for privilege over the source
// filesystem).
import type { Linux, Mount } from '../config/types';
import { ConfigError } from '../errors';
import { checkMappings, mapFileText } from './id-mappings';
import { op, type PlanOp } from './plan-encoding';

export interface IdmappedMount {
  /** Makes the mappings' user namespace; planned before the init leaves the host's namespaces. */
  userns: PlanOp;
  /** Makes the mapped tree; planned right before the mount op (viaHelper: the bind source helper makes it). */
  tree: (viaHelper: boolean) => PlanOp;
  /** The mount op's extension that attaches that tree. */
  extension: string;
}

export interface IdmapContext {
  linux: Linux | undefined;
  /** The user namespace the container joins by path, if any: its mappings are the container's. */
  joinedUserns: string | undefined;
  /** The container joins a mount namespace by path: its sources are not the host's. */
  joinedMountns: boolean;
  unprivileged: boolean;
}

/**
 * The id-mapped mount a config entry asks for, or undefined. Mappings without an
 * option map the mount itself (as runc); an option without mappings takes the
 * container's own (from its mappings, or from the user namespace it joins).
 */
export function planIdmappedMount(
  mount: Mount,
  index: number,
  source: string,
  option: 'flat' | 'recursive' | undefined,
  bind: { is: boolean; recursive: boolean },
  ctx: IdmapContext,
): IdmappedMount | undefined {
  const field = `mounts[${index}]`;
  const own = mount.uidMappings !== undefined || mount.gidMappings !== undefined;
  if (!own && option === undefined) return undefined;
  if (!bind.is) throw new ConfigError(field, 'id-mapped mounts are only supported for bind mounts');
  if (ctx.unprivileged) throw new ConfigError(field, 'id-mapped mounts are not supported for rootless containers');
  // A joined mount namespace has no source of the host's to map (runc refuses it too).
  if (ctx.joinedMountns) throw new ConfigError(field, 'id-mapped mounts are not supported with a joined mount namespace');
  const prepare = (usernsPath: string, uidMap: string, gidMap: string): IdmappedMount => ({
    userns: op('idmapUserns', index, source, usernsPath, uidMap, gidMap),
    tree: (viaHelper) => op('idmapTree', index, source, bind.recursive ? 1 : 0, option === 'recursive' ? 1 : 0, viaHelper ? 1 : 0),
    extension: `idmap=${index}`,
  });
  if (own) {
    const uids = checkMappings(mount.uidMappings, `${field}.uidMappings`, 'must have at least one mapping');
    const gids = checkMappings(mount.gidMappings, `${field}.gidMappings`, 'must have at least one mapping');
    return prepare('', mapFileText(uids), mapFileText(gids));
  }
  if (ctx.joinedUserns !== undefined) return prepare(ctx.joinedUserns, '', '');
  const missing = 'is required: the container has no user namespace mappings for idmap to use';
  const uids = checkMappings(ctx.linux?.uidMappings, 'linux.uidMappings', missing);
  const gids = checkMappings(ctx.linux?.gidMappings, 'linux.gidMappings', missing);
  return prepare('', mapFileText(uids), mapFileText(gids));
}
