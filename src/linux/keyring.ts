// The session keyring of a container (runc's default; `--no-new-keyring` keeps the
// caller's): a process that shared the caller's would see every key in it.
import { op, type PlanOp } from './plan-encoding';

/** Key permission bits (linux/key.h). */
const KEY_USR_SEARCH = 0x00080000;
const KEY_OTH_SEARCH = 0x00000008;

/** runc's name for it; exec joins the container's keyring by this name. */
export function sessionKeyringName(id: string): string {
  return `_ses.${id}`;
}

/**
 * The container's init makes the named keyring and makes it searchable, so that a
 * process exec'd later finds it by name: by its owner's uid, and in a user namespace
 * also by others (runc's choice), since an exec'd process there may or may not be
 * the keyring's owner (host root joining it is "other"; a rootless caller is its owner).
 */
export function sessionKeyringOp(name: string, inUserNs: boolean): PlanOp {
  return op('sessionKeyring', name, inUserNs ? KEY_USR_SEARCH | KEY_OTH_SEARCH : KEY_USR_SEARCH);
}

/** An exec'd process joins it and leaves its permissions alone: it need not own it (runc). */
export function joinSessionKeyringOp(name: string): PlanOp {
  return op('sessionKeyring', name, 0);
}
