// Id-mapped bind mounts (runc 1.2; config.md: mounts[].uidMappings/gidMappings, the
// `idmap` and `ridmap` options): the files of the source appear with their ids
// shifted by the mount's mappings, so a volume owned by host root shows as the
// container's root without a chown. The init builds each such mount while it is
// still in the host's user namespace (the kernel asks for privilege over the source
// filesystem), and attaches it in the container's mount namespace later.
import type { Linux, Mount } from '../config/types';
import { ConfigError } from '../errors';
import { checkMappings, mapFileText } from './id-mappings';
import { op, type PlanOp } from './plan-encoding';

export interface IdmappedMount {
  /** Builds the mapped tree; planned before the init leaves the host's user namespace. */
  prepare: PlanOp;
  /** The mount op's extension that attaches that tree. */
  extension: string;
}

/**
 * The id-mapped mount a config entry asks for, or undefined. Mappings without an
 * option map the mount itself (as runc); an option without mappings takes the
 * container's own (its user namespace must have them).
 */
export function planIdmappedMount(
  mount: Mount,
  index: number,
  source: string,
  option: 'flat' | 'recursive' | undefined,
  isBind: boolean,
  /** rbind: the clone takes the mounts below the source too (mapped only with ridmap). */
  recursiveBind: boolean,
  linux: Linux | undefined,
  unprivileged: boolean,
): IdmappedMount | undefined {
  const field = `mounts[${index}]`;
  const own = mount.uidMappings !== undefined || mount.gidMappings !== undefined;
  if (!own && option === undefined) return undefined;
  if (!isBind) throw new ConfigError(field, 'id-mapped mounts are only supported for bind mounts');
  if (unprivileged) throw new ConfigError(field, 'id-mapped mounts are not supported for rootless containers');
  const fromContainer = 'is required: the container has no user namespace mappings for idmap to use';
  const uids = checkMappings(own ? mount.uidMappings : linux?.uidMappings, own ? `${field}.uidMappings` : 'linux.uidMappings', own ? 'must have at least one mapping' : fromContainer);
  const gids = checkMappings(own ? mount.gidMappings : linux?.gidMappings, own ? `${field}.gidMappings` : 'linux.gidMappings', own ? 'must have at least one mapping' : fromContainer);
  return {
    prepare: op('idmapTree', index, source, recursiveBind ? 1 : 0, option === 'recursive' ? 1 : 0, mapFileText(uids), mapFileText(gids)),
    extension: `idmap=${index}`,
  };
}
