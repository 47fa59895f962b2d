import { ConfigError } from '../errors';

/** JSON.parse whose error names the file it came from (config.json, process.json). */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError('', `${file}: invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * config.json or a process.json, read as runc's Go decoder reads it: a member whose
 * value is null is as good as absent (`"rlimits": null`; Go itself writes
 * `"names": null` for a syscall rule's empty list, which has no omitempty). Array
 * elements stay as they are.
 */
export function parseSpecJson(text: string, file: string): unknown {
  const doc = parseJsonFile(text, file);
  if (text.includes('null')) dropNullMembers(doc);
  return doc;
}

/** Removes, in place and at every depth, the members whose value is null (Go's decoder leaves those fields as they were). */
export function dropNullMembers(value: unknown): void {
  if (Array.isArray(value)) {
    for (const element of value) dropNullMembers(element);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const members = value as Record<string, unknown>;
  for (const key of Object.keys(members)) {
    if (members[key] === null) delete members[key];
    else dropNullMembers(members[key]);
  }
}
