// Turns a mount's option strings into mount(2) flags, propagation flags and the
// filesystem-specific data string, the way runc and mount(8) read them, plus runc's
// recursive options (mount_setattr attributes) and extensions (tmpcopyup, idmap).

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  IVERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** option -> [flag, set (true) or clear (false)] */
const FLAG_OPTIONS: Record<string, [number, boolean]> = {
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  nosuid: [MS.NOSUID, true],
  suid: [MS.NOSUID, false],
  nodev: [MS.NODEV, true],
  dev: [MS.NODEV, false],
  noexec: [MS.NOEXEC, true],
  exec: [MS.NOEXEC, false],
  sync: [MS.SYNCHRONOUS, true],
  async: [MS.SYNCHRONOUS, false],
  dirsync: [MS.DIRSYNC, true],
  mand: [MS.MANDLOCK, true],
  nomand: [MS.MANDLOCK, false],
  noatime: [MS.NOATIME, true],
  atime: [MS.NOATIME, false],
  nodiratime: [MS.NODIRATIME, true],
  diratime: [MS.NODIRATIME, false],
  relatime: [MS.RELATIME, true],
  norelatime: [MS.RELATIME, false],
  strictatime: [MS.STRICTATIME, true],
  nostrictatime: [MS.STRICTATIME, false],
  lazytime: [MS.LAZYTIME, true],
  nolazytime: [MS.LAZYTIME, false],
  iversion: [MS.IVERSION, true],
  noiversion: [MS.IVERSION, false],
  silent: [MS.SILENT, true],
  loud: [MS.SILENT, false],
  nosymfollow: [MS.NOSYMFOLLOW, true],
  symfollow: [MS.NOSYMFOLLOW, false],
  acl: [MS.POSIXACL, true],
  noacl: [MS.POSIXACL, false],
  bind: [MS.BIND, true],
  rbind: [MS.BIND | MS.REC, true],
  remount: [MS.REMOUNT, true],
  defaults: [0, true],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** mount_setattr(2) MOUNT_ATTR_* */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME: 0x70, // MOUNT_ATTR__ATIME: the access-time field
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/**
 * runc's recursive options: option -> [attribute, set (true) or clear (false)],
 * applied with mount_setattr(AT_RECURSIVE) to the mount and every mount below it.
 */
const RECURSIVE_OPTIONS: Record<string, [number, boolean]> = {
  rro: [MOUNT_ATTR.RDONLY, true],
  rrw: [MOUNT_ATTR.RDONLY, false],
  rnosuid: [MOUNT_ATTR.NOSUID, true],
  rsuid: [MOUNT_ATTR.NOSUID, false],
  rnodev: [MOUNT_ATTR.NODEV, true],
  rdev: [MOUNT_ATTR.NODEV, false],
  rnoexec: [MOUNT_ATTR.NOEXEC, true],
  rexec: [MOUNT_ATTR.NOEXEC, false],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, true],
  rdiratime: [MOUNT_ATTR.NODIRATIME, false],
  rrelatime: [MOUNT_ATTR.RELATIME, true],
  rnorelatime: [MOUNT_ATTR.RELATIME, false],
  rnoatime: [MOUNT_ATTR.NOATIME, true],
  ratime: [MOUNT_ATTR.NOATIME, false],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, true],
  rnostrictatime: [MOUNT_ATTR.STRICTATIME, false],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, true],
  rsymfollow: [MOUNT_ATTR.NOSYMFOLLOW, false],
};

/** Id-mapped mounts (runc 1.2): `idmap` maps the mount itself, `ridmap` every mount below too. */
const IDMAP_OPTIONS: Record<string, 'flat' | 'recursive'> = { idmap: 'flat', ridmap: 'recursive' };

/** runc's extension: a tmpfs starts with a copy of the directory it covers. */
const COPY_UP = 'tmpcopyup';

/** Every option word parseMountOptions turns into flags or an extension (what `features` reports). */
export function knownMountOptions(): string[] {
  return [...Object.keys(FLAG_OPTIONS), ...Object.keys(PROPAGATION_OPTIONS), ...Object.keys(RECURSIVE_OPTIONS), ...Object.keys(IDMAP_OPTIONS), COPY_UP].sort();
}

export interface ParsedMountOptions {
  flags: number;
  /**
   * The propagation words' flags, in the order given: each is applied in turn, as
   * runc does ("rprivate", "rshared" gives a peer group of the mount's own; the last
   * word alone would leave it a peer of the host's source).
   */
  propagation: number[];
  data: string;
  /** tmpcopyup; like runc, only a tmpfs acts on it. */
  copyUp: boolean;
  /** mount_setattr attributes the recursive options set and clear (both 0: none given). */
  recursive: { set: number; clear: number };
  /** idmap / ridmap, if given. */
  idmap?: 'flat' | 'recursive';
  /** The per-mount flags an option clears by name (`rw`, `suid`, `dev`, `exec`...), the last word for a flag deciding. */
  cleared: number;
}

/**
 * The source's flags a bind mount keeps when it is remounted because an option sets
 * a flag: nosuid, nodev and noexec, unless an option clears one by name (`suid`,
 * `dev`, `exec`). runc's remount takes only the flags asked for, so `["rbind","ro"]`
 * of a nosuid, nodev, noexec directory gave setuid programs and device nodes there;
 * mount(8) with the new mount API keeps what it is not told to change. (Not read-only:
 * the kernel reports a read-only superblock as if the mount were, and a bind made
 * read-only for that would stay so after the host remounts the filesystem rw.)
 */
export const BIND_KEPT_SOURCE_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let cleared = 0;
  const propagation: number[] = [];
  let copyUp = false;
  let idmap: 'flat' | 'recursive' | undefined;
  const recursive = { set: 0, clear: 0 };
  const data: string[] = [];
  for (const option of options) {
    if (option === COPY_UP) {
      copyUp = true;
      continue;
    }
    if (IDMAP_OPTIONS[option]) {
      idmap = IDMAP_OPTIONS[option];
      continue;
    }
    const rec = RECURSIVE_OPTIONS[option];
    if (rec) {
      const [attr, set] = rec;
      // An access-time value is a field, not a bit: setting one clears the field
      // first (mount_setattr(2)); rnorelatime & co. clear it too.
      const atime = attr === MOUNT_ATTR.RELATIME || (attr & MOUNT_ATTR.ATIME) !== 0 ? MOUNT_ATTR.ATIME : 0;
      if (set) {
        recursive.set = (recursive.set & ~(atime || attr)) | attr;
        recursive.clear = atime ? recursive.clear | atime : recursive.clear & ~attr;
      } else {
        recursive.set &= ~(atime || attr);
        recursive.clear |= atime || attr;
      }
      continue;
    }
    const flag = FLAG_OPTIONS[option];
    if (flag) {
      flags = flag[1] ? flags | flag[0] : flags & ~flag[0];
      cleared = flag[1] ? cleared & ~flag[0] : cleared | flag[0];
      continue;
    }
    const prop = PROPAGATION_OPTIONS[option];
    if (prop !== undefined) {
      propagation.push(prop);
      continue;
    }
    data.push(option);
  }
  return { flags, propagation, data: data.join(','), copyUp, recursive, ...(idmap ? { idmap } : {}), cleared };
}

/** The `mount` op's propagation argument (PROTOCOL.md): 0 for none, else the flags in order, comma-separated. */
export function propagationArg(propagation: readonly number[]): string | number {
  return propagation.length === 0 ? 0 : propagation.length === 1 ? (propagation[0] as number) : propagation.join(',');
}

/**
 * linux.rootfsPropagation -> flags for "/" before the rootfs is prepared (runc's
 * default is rslave). An unbindable "/" would refuse the rootfs's own bind mount
 * (EINVAL): that one waits for the pivot, behind the default.
 */
export function rootPropagationFlags(value: string | undefined): number {
  if (!value) return MS.SLAVE | MS.REC;
  const flags = PROPAGATION_OPTIONS[value];
  if (flags === undefined) throw new Error(`unknown propagation ${value}`);
  return flags & MS.UNBINDABLE ? MS.SLAVE | MS.REC : flags;
}

/**
 * The propagation the container's root mount gets once it is "/", where the flags
 * before the pivot cannot reach it: the rootfs is bound from a private parent (or the
 * pivot refuses it), so a shared root ends up private, and an unbindable one is not
 * possible before (newer runc does the same; 1.1.5 leaves a shared root private).
 * Only the root mount itself: a recursive change would override the propagation
 * each mount of the config asked for.
 */
export function rootPropagationAfterPivot(value: string | undefined): number | undefined {
  const flags = value ? PROPAGATION_OPTIONS[value] : undefined;
  if (flags === undefined) return undefined;
  if (flags & MS.SHARED) return MS.SHARED;
  if (flags & MS.UNBINDABLE) return MS.UNBINDABLE;
  return undefined;
}
