import { OCI_VERSION, TSRUN_VERSION } from '../../version';

declare const TSRUN_COMMIT: string | undefined;

/** runc's three-line shape: engines parse the first and last lines. */
export function versionText(): string {
  const commit = typeof TSRUN_COMMIT === 'string' ? TSRUN_COMMIT : process.env['TSRUN_BUILD_COMMIT'] ?? 'unknown';
  return `tsrun version ${TSRUN_VERSION}\ncommit: ${commit}\nspec: ${OCI_VERSION}\n`;
}
