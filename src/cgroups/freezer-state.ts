// Whether a container's cgroup is frozen, read from its recorded dirs. The managers
// answer with these; `state`, `start` and `kill` ask on every call, and reading two
// small files is all it takes, without detecting the layout from mountinfo first.
import { readCgroupFile, sleepMs } from './manager';

/**
 * v1: frozen by us, not merely through a frozen ancestor (freezer.self_freezing); a
 * FREEZING state is waited out briefly, as runc does, to report a stable answer.
 * null: dir is not in the freezer hierarchy.
 */
export function v1Frozen(dir: string): boolean | null {
  for (let i = 0; i < 1000; i++) {
    const state = readCgroupFile(dir, 'freezer.state');
    if (state === null) return null;
    if (state === 'FREEZING') {
      sleepMs(1);
      continue;
    }
    if (state !== 'FROZEN') return false;
    const self = readCgroupFile(dir, 'freezer.self_freezing');
    return self === null || self === '1';
  }
  return true;
}

/** v2: the cgroup's own cgroup.freeze. */
export function v2Frozen(dir: string): boolean {
  return readCgroupFile(dir, 'cgroup.freeze') === '1';
}

/**
 * From the dirs state.json recorded (hierarchy key -> dir): the v1 freezer where one
 * is mounted (the hybrid layout freezes there), else the unified hierarchy's
 * cgroup.freeze. Only the freezer hierarchy's dir has a freezer.state file.
 */
export function frozenAt(dirs: Readonly<Record<string, string>>): boolean {
  // The hierarchy is normally mounted under its controller's name: that dir first, so
  // that the others' missing files (each a thrown ENOENT) are read only when it is not.
  const entries = Object.entries(dirs).sort(([a], [b]) => Number(b.split(',').includes('freezer')) - Number(a.split(',').includes('freezer')));
  for (const [key, dir] of entries) {
    if (key === 'unified') continue;
    let frozen: boolean | null;
    try {
      frozen = v1Frozen(dir);
    } catch {
      frozen = null; // unreadable: not the freezer's dir as far as we can tell; look on
    }
    if (frozen !== null) return frozen;
  }
  const unified = dirs['unified'];
  return unified !== undefined && v2Frozen(unified);
}
