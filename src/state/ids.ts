// Container ids become directory names under --root (and cgroup names by default),
// so they are checked before any path is built from them.
import { InvalidContainerIdError } from '../errors';

/** runc's limit (libcontainer's maxIdLen). */
export const MAX_ID_LENGTH = 1024;

// runc's idRegex is `^[\w+-\.]+$`. Inside a Go character class `+-\.` is the range
// '+'..'.', which also admits ','. We accept exactly the same set so that every id
// runc accepts works here too, and nothing else (in particular no '/' and no NUL).
const ID_PATTERN = /^[A-Za-z0-9_+,.-]+$/;

/** Throws InvalidContainerIdError unless `id` is safe to use as a single path component. */
export function validateContainerId(id: string): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new InvalidContainerIdError(String(id ?? ''), 'must not be empty');
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new InvalidContainerIdError(`${id.slice(0, 32)}...`, `longer than ${MAX_ID_LENGTH} characters`);
  }
  if (!ID_PATTERN.test(id)) {
    throw new InvalidContainerIdError(id, 'only letters, digits and the characters _ + , - . are allowed');
  }
  // '.' and '..' match the pattern but name the root itself or its parent.
  if (id === '.' || id === '..') {
    throw new InvalidContainerIdError(id, 'must not be "." or ".."');
  }
}

/** Non-throwing form, for filtering directory listings. */
export function isValidContainerId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id) && id !== '.' && id !== '..';
}
