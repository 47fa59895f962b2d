// process.user where a config.json or an exec process.json leaves it out. The spec
// calls it required on Linux, but its schema does not require it, and runc reads a
// missing one as Go's zero value: root. tsrun did neither, and failed reading uid.
import type { User } from './types';

export function rootUser(): User {
  return { uid: 0, gid: 0 };
}

/**
 * process.user with a missing uid or gid read as 0, for the same reason (runc's
 * bats configs give `{"uid": 0}` alone); a missing user is root.
 */
export function completeUser(user: Partial<User> | undefined): User {
  if (!user) return rootUser();
  if (user.uid !== undefined && user.gid !== undefined) return user as User;
  return { ...user, uid: user.uid ?? 0, gid: user.gid ?? 0 };
}
