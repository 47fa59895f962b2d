// process.user where a config.json or an exec process.json leaves it out. The spec
// calls it required on Linux, but its schema does not require it, and runc reads a
// missing one as Go's zero value: root. tsrun did neither, and failed reading uid.
import type { User } from './types';

export function rootUser(): User {
  return { uid: 0, gid: 0 };
}
