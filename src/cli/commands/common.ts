import type { Arguments } from 'yargs';
import { TsrunError } from '../../errors';

export interface GlobalOptions {
  root: string;
  log?: string;
  'log-format': string;
  debug: boolean;
  'systemd-cgroup': boolean;
  rootless: string;
}

/** runc's wording for an id given as "". */
export const EMPTY_ID = 'container id cannot be empty';

/** runc's wording when the container id is missing, empty, or extra words are given. */
export function containerId(argv: Arguments, command: string): string {
  const words = (argv._ as (string | number)[]).slice(1).map(String);
  const id = argv['container-id'];
  const all = id === undefined ? words : [String(id), ...words];
  if (all.length !== 1) throw new TsrunError(`"${command}" requires exactly 1 argument(s)`);
  if (all[0] === '') throw new TsrunError(EMPTY_ID);
  return all[0] as string;
}

/** runc's wording for words given to a command that takes none (list, spec, features). */
export function noArguments(argv: Arguments, command: string): void {
  if ((argv._ as unknown[]).length > 1) throw new TsrunError(`"${command}" requires exactly 0 argument(s)`);
}
