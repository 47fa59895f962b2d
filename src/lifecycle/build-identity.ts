// Which build of tsrun is running, for what it keeps between commands that its own
// code made: an entry of the seccomp cache holds a profile as this code planned it
// (src/lifecycle/seccomp-cache.ts), and an upgrade may plan, or refuse, a profile
// differently. The build writes dist/build-id, a hash of the bundle's code
// (scripts/bundle.js); the addon, built on its own, is named by its file.
import * as path from 'path';
import { readText, statPath } from '../host-files';

/** dist/, from dist/src/lifecycle (this module's directory, bundled or not). */
const DIST = path.join(__dirname, '..', '..');

/** The build's identity; undefined where it cannot be told (a build without a bundle, no addon file), and nothing is to be kept then. */
export function buildIdentity(buildIdFile = path.join(DIST, 'build-id'), addon = path.join(DIST, '..', 'build', 'Release', 'tsrun_native.node')): string | undefined {
  try {
    const id = readText(buildIdFile).trim();
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    const st = statPath(addon, true);
    return st === null ? undefined : `${id} addon ${st.id}:${st.size}:${st.mtimeNs}`;
  } catch {
    return undefined;
  }
}
