// Container ids become directory names under --root (and cgroup names by default),
// so they are checked before any path is built from them.
import { InvalidContainerIdError } from '../errors';

/** runc's limit (libcontainer's maxIdLen). */
export const MAX_ID_LENGTH = 1024;

// runc's idRegex is `^[\w+-\.]+$`. Inside a Go character class `+-\.` is the range
// '+'..'.', which also admits ','. We accept exactly the same set so that every id
// runc accepts works here too, and nothing else (in particular no '/' and no NUL).
// Checked character by character rather than with a RegExp: every command checks its
// id, and V8 compiles a RegExp at its first uses in each process.
function hasOnlyIdCharacters(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39;
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!digit && !letter && c !== 0x5f /* _ */ && !(c >= 0x2b && c <= 0x2e) /* + , - . */) return false;
  }
  return true;
}

/** Throws InvalidContainerIdError unless `id` is safe to use as a single path component. */
export function validateContainerId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidContainerIdError(String(id ?? ''), 'must not be empty');
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new InvalidContainerIdError(`${id.slice(0, 32)}...`, `longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!hasOnlyIdCharacters(id)) {
    throw new InvalidContainerIdError(id, 'only letters, digits and the characters _ + , - . are allowed');
  }
  // '.' and '..' pass that check but name the root itself or its parent.
  if (id === '.' || id === '..') {
    throw new InvalidContainerIdError(id, 'must not be "." or ".."');
  }
}

/** Non-throwing form, for filtering directory listings. */
export function isValidContainerId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && hasOnlyIdCharacters(id) && id !== '.' && id !== '..';
}
