// How the parent writes a new user namespace's uid_map and gid_map. Pure: the caller
// passes its effective ids. runc's rules (libcontainer, nsexec):
//   - as root, both maps are written directly and /proc/<pid>/setgroups is left alone;
//   - unprivileged, a map of exactly the caller's own id (one line, size 1) is written
//     directly; the kernel then requires "deny" in setgroups before gid_map;
//   - unprivileged, any other map needs the setuid helpers newuidmap/newgidmap (the
//     uidmap package), which check /etc/subuid and /etc/subgid; setgroups stays "allow".
import type { IdMapping } from '../config/types';
import { ConfigError } from '../errors';

export type MapWriter = 'direct' | 'helper';

export interface IdMapPlan {
  uid: { writer: MapWriter; mappings: IdMapping[] };
  gid: { writer: MapWriter; mappings: IdMapping[] };
  /** Write "deny" to /proc/<pid>/setgroups before gid_map. */
  denySetgroups: boolean;
}

const MAX_ID = 2 ** 32 - 1;

/** The mappings, checked as the kernel will take them; `missing` says why none is an error. */
export function checkMappings(maps: IdMapping[] | undefined, field: string, missing = 'is required with a new user namespace'): IdMapping[] {
  if (!maps || maps.length === 0) throw new ConfigError(field, missing);
  // The kernel takes at most 340 lines (5 before Linux 4.15); refuse early with the field named.
  if (maps.length > 340) throw new ConfigError(field, `has ${maps.length} entries; the kernel accepts at most 340`);
  maps.forEach((m, i) => {
    for (const key of ['containerID', 'hostID', 'size'] as const) {
      const v = m[key];
      if (!Number.isInteger(v) || v < 0 || v > MAX_ID) throw new ConfigError(`${field}[${i}].${key}`, `${JSON.stringify(v)} is not an id (0..${MAX_ID})`);
    }
    if (m.size === 0) throw new ConfigError(`${field}[${i}].size`, 'must be at least 1');
    if (m.containerID + m.size - 1 > MAX_ID || m.hostID + m.size - 1 > MAX_ID) throw new ConfigError(`${field}[${i}]`, 'range runs past the largest id');
  });
  return maps;
}

function onlySelf(maps: IdMapping[], self: number): boolean {
  return maps.length === 1 && maps[0]?.hostID === self && maps[0]?.size === 1;
}

export function planIdMappings(uidMappings: IdMapping[] | undefined, gidMappings: IdMapping[] | undefined, euid: number, egid: number): IdMapPlan {
  const uids = checkMappings(uidMappings, 'linux.uidMappings');
  const gids = checkMappings(gidMappings, 'linux.gidMappings');
  // The init sets the container up as its root (becomeRoot), as runc's does: an
  // unmapped root fails there with a bare setresgid EINVAL.
  for (const [maps, field, id] of [[uids, 'linux.uidMappings', 'uid'], [gids, 'linux.gidMappings', 'gid']] as const) {
    if (hostIdOf(maps, 0) === undefined) throw new ConfigError(field, `maps no host id to the container's root (${id} 0), which the container is set up as`);
  }
  if (euid === 0) return { uid: { writer: 'direct', mappings: uids }, gid: { writer: 'direct', mappings: gids }, denySetgroups: false };
  const gidDirect = onlySelf(gids, egid);
  return {
    uid: { writer: onlySelf(uids, euid) ? 'direct' : 'helper', mappings: uids },
    gid: { writer: gidDirect ? 'direct' : 'helper', mappings: gids },
    denySetgroups: gidDirect,
  };
}

/** The map file's text: one "inside outside count" line per mapping. */
export function mapFileText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** newuidmap/newgidmap arguments after the pid: the triples, flattened. */
export function mapHelperArgs(maps: readonly IdMapping[]): string[] {
  return maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)]);
}

/** The host id that container id `id` maps to, or undefined when it is not mapped. */
export function hostIdOf(maps: readonly IdMapping[] | undefined, id: number): number | undefined {
  for (const m of maps ?? []) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return undefined;
}
