// Mount operations. Every target is an O_PATH fd resolved in-root and reached through
// /proc/self/fd/<fd>, so a symlink swapped in by the rootfs cannot redirect a mount.
// A mount reached again by its path afterwards (to fill, chmod, remount or set
// propagation on it) must resolve where it was made, to the root of a mount
// (ReopenMounted): a shared volume's directories can be swapped meanwhile.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "init.hpp"

namespace init {
namespace {

// Flags that need a remount to apply to a bind mount, and that a user namespace
// locks on the mount they come from.
constexpr unsigned long kBindRemountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                           MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;
constexpr unsigned long kLockedFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

int Resolve(const std::string& object, const std::string& path, Create create, bool followLast = true) {
  const char* sc = "openat2";
  int fd = ResolveInRoot(path, create, followLast, 0755, &sc);
  if (fd < 0) Fail(object, sc, errno);
  return fd;
}

// Masked and read-only paths the rootfs does not have are skipped (runc): -1 for those.
int ResolveIfExists(const std::string& object, const std::string& path) {
  const char* sc = "openat2";
  int fd = ResolveInRoot(path, Create::None, true, 0755, &sc);
  if (fd < 0 && errno != ENOENT) Fail(object, sc, errno);
  return fd;
}

// Where a resolved destination is, as a container path (what ReopenMounted compares).
std::string WhereResolved(const std::string& object, int fd) {
  std::string resolved;
  if (!ResolvedContainerPath(fd, &resolved)) FailMessage(object + ": cannot tell where the destination resolved to");
  return resolved;
}

// Whether fd is the root of a mount (statx's STATX_ATTR_MOUNT_ROOT, Linux 5.8); true
// where the kernel cannot tell, the path check alone deciding there.
bool IsMountRoot(const std::string& object, int fd) {
  struct statx stx = {};
  if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, &stx) < 0) Fail(object, "statx", errno);
  return !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) || (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

// The fd resolved before a mount still names the covered directory; the new mount on
// top is only reached by resolving the path again. Between the two, a process of
// another container sharing a volume on the way can rename a directory of the path
// and put a symlink in its place (the kernel lets another mount namespace rename a
// mount point of this one): the path would then lead to some other directory, which
// the chmod, copy-up, propagation or read-only remount that follows would change
// instead (a host directory bound elsewhere in the container, or its root). So the
// path must resolve where it did when it was mounted (`at`), to the root of a mount.
int ReopenMounted(const std::string& object, const std::string& path, const std::string& at) {
  int fd = Resolve(object, path, Create::None);
  Fd held(fd);
  const std::string now = WhereResolved(object, fd);
  if (now != at) FailMessage(object + ": the destination moved while it was mounted (from \"" + at + "\" to \"" + now + "\")");
  if (!IsMountRoot(object, fd)) FailMessage(object + ": \"" + at + "\" is no longer the mount made there");
  return held.release();
}

// A later op's way back to a mount an earlier `mount` made: checked as above against
// where it was made, when it was (a path no `mount` op made is resolved as it is).
int ReopenMountedEarlier(const std::string& object, const std::string& path) {
  auto made = ctx.mountedAt.find(LexicalContainerPath(path));
  if (made == ctx.mountedAt.end()) return Resolve(object, path, Create::None);
  return ReopenMounted(object, path, made->second);
}

// statvfs reports ST_* values, which are the MS_* values of the same flags.
unsigned long MountFlagsOf(const std::string& object, const std::string& path) {
  struct statvfs sv;
  if (statvfs(path.c_str(), &sv) < 0) Fail(object, "statvfs", errno);
  return sv.f_flag & kLockedFlags;
}

// The same for a mount held as an fd (a detached clone has its source's flags).
unsigned long MountFlagsOf(const std::string& object, int fd) {
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0) Fail(object, "fstatvfs", errno);
  return sv.f_flag & kLockedFlags;
}

// Of the flags a user namespace locks on a bind's source, those a failed remount is
// retried with: read-only (runc's retry: no rw remount of a read-only source) and
// nodiratime. Not nosuid, nodev and noexec: those of the source a config does not clear
// by name are asked for already (keep=), and one it clears by name (suid, dev, exec)
// must not come back unasked; nor the source's noatime, which a remount asking for no
// access-time setting keeps anyway, and which would silently replace a relatime or
// strictatime the config asks for (the kernel refuses the change: so does tsrun, as runc).
constexpr unsigned long kRetryLockedFlags = MS_RDONLY | MS_NODIRATIME;

void BindRemount(const std::string& object, const std::string& target, unsigned long flags, const std::string& flagSource) {
  if (mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) == 0) return;
  if (errno != EPERM) Fail(object, "mount", errno);
  unsigned long locked = MountFlagsOf(object, flagSource) & kRetryLockedFlags;
  if (mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags | locked, nullptr) < 0)
    Fail(object, "mount", errno);
}

// MS_* per-mount flags as mount_setattr(2) attributes. A bind remount replaces the
// per-mount flags with exactly those asked for; so does clearing every one of them
// and setting the requested ones. The access-time setting is the exception: asked
// for none, the source's stays (noatime, say), as a bind remount keeps it.
struct mount_attr MountAttrOf(unsigned long flags) {
  struct mount_attr attr = {};
  attr.attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW;
  if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME) attr.attr_set |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_NOSYMFOLLOW) attr.attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
  if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
    attr.attr_clr |= MOUNT_ATTR__ATIME;
    attr.attr_set |= (flags & MS_NOATIME) ? MOUNT_ATTR_NOATIME : (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
  }
  return attr;
}

// Gives a detached tree the per-mount flags and attaches it at the target fd. False
// on a kernel without mount_setattr.
bool AttachTree(const std::string& object, int tree, int target, unsigned long flags) {
  if (flags & kBindRemountFlags) {
    struct mount_attr attr = MountAttrOf(flags);
    if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
      if (errno == ENOSYS) return false;
      if (errno != EPERM) Fail(object, "mount_setattr", errno);
      // In a user namespace the flags the source mount has are locked: keep the ones
      // kRetryLockedFlags names.
      attr = MountAttrOf(flags | (MountFlagsOf(object, tree) & kRetryLockedFlags));
      if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) Fail(object, "mount_setattr", errno);
    }
  }
  if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) Fail(object, "move_mount", errno);
  return true;
}

// A bind mount that appears with its final flags: the source tree is cloned
// detached, its flags set, and it is attached at the fd resolved once. The old way
// (bind, then remount by path) resolved the path a second time, and a symlink
// swapped in between could leave the wanted read-only mount writable. Returns false
// on a kernel without the new mount API (open_tree: 5.2, mount_setattr: 5.12); the
// caller then does it the old way (the unattached clone goes with its fd).
bool AttachBind(const std::string& object, const std::string& source, int target, unsigned long flags) {
  int tree = open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((flags & MS_REC) ? AT_RECURSIVE : 0));
  if (tree < 0) {
    if (errno == ENOSYS) return false;
    Fail(object, "open_tree", errno);
  }
  Fd detached(tree);
  return AttachTree(object, tree, target, flags);
}

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

bool UnderProc(const std::string& containerPath) {
  return containerPath == "/proc" || containerPath.compare(0, 6, "/proc/") == 0;
}

// runc's /proc rule (src/linux/proc-mounts.ts) judges a destination as written, when
// planning; a symlink in the rootfs can still lead a destination from outside /proc into
// it (/kern -> /proc/sys/kernel). runc resolves the destination and then judges it; here
// the target is resolved already, so it is judged again where it really is. One that only
// a symlink took into /proc is refused outright: stricter than runc for the few files
// that may be covered, which a config names as they are. So is one inside /proc that
// procfs's own links lead elsewhere: /proc/net/dev is /proc/<pid>/net/dev, where a
// mount covers the file of one process only (runc judges it there, and refuses it).
// `resolved`: where the target is (WhereResolved).
void RequireNotLedIntoProc(const std::string& object, const std::string& dest, const std::string& resolved) {
  const std::string lexical = LexicalContainerPath(dest);
  if (UnderProc(resolved) && resolved != lexical) FailMessage(object + ": \"" + resolved + "\" cannot be mounted because it is inside /proc");
}

// A destination that resolves to the container's root itself (a symlink in the rootfs
// to "/" or ".") would put the mount on top of the root. The init keeps the root below
// it, but every process that joins the mount namespace later (exec, nsenter) would get
// the mount as its "/", without the container's /proc, /dev or masked paths. runc
// refuses such a config too. `resolved`: where the target is (WhereResolved).
void RequireNotTheRoot(const std::string& object, const std::string& resolved) {
  if (resolved == "/") FailMessage(object + ": the destination resolves to the container's root directory");
}

// Fails unless fd is a real directory; /proc and /sys must not be mounted through a
// symlink or onto a file.
void RequireDirectory(const std::string& object, int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(object, "fstat", errno);
  // runc's words, which callers' tests look for.
  if (!S_ISDIR(st.st_mode)) FailMessage(object + ": must be mounted on ordinary directory, not a symlink or a file");
}

// A bind mount of a directory on a non-directory, or of anything else on a directory:
// the kernel refuses it, with an EINVAL from move_mount that names nothing. runc's
// error ends in "not a directory" (ENOTDIR from mount(2)), which callers look for
// (dockerd turns it into its "mounting a directory onto a file?" hint).
void RequireSameKind(const std::string& object, bool sourceIsDir, int target) {
  struct stat st;
  if (fstat(target, &st) < 0) Fail(object, "fstat", errno);
  if (S_ISDIR(st.st_mode) == sourceIsDir) return;
  FailMessage(object + (sourceIsDir ? ": the source is a directory, the destination is not" : ": the source is not a directory, the destination is") +
              ": not a directory");
}

// The comma-separated fields of text, in order ("" is one empty field).
static std::vector<std::string> CommaFields(const std::string& text) {
  std::vector<std::string> fields;
  for (size_t at = 0; at <= text.size();) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    fields.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return fields;
}

// Whether the comma-separated mount data has an option starting with `prefix`.
static bool HasOption(const std::string& data, const std::string& prefix) {
  for (const std::string& option : CommaFields(data))
    if (option.compare(0, prefix.size(), prefix) == 0) return true;
  return false;
}

// A failed mount's object with the filesystem data it was given, as runc's message
// shows it: the kernel's EINVAL names no option.
static std::string WithData(const std::string& object, const std::string& data) {
  return data.empty() ? object : object + " (data \"" + data + "\")";
}

// A tmpfs over a directory the rootfs has takes that directory's mode (runc) unless
// its data gives a mode=, and with `copyUp` a copy of its contents, read through an
// fd that still reaches the covered directory once the tmpfs is on top.
std::string MountTmpfs(const std::string& object, const std::string& source, const std::string& dest, unsigned long flags,
                       const std::string& data, bool copyUp) {
  Fd existing(ResolveIfExists(object, dest));
  struct stat covered = {};
  if (existing && fstat(existing.get(), &covered) < 0) Fail(object, "fstat", errno);
  const bool coversDir = existing && S_ISDIR(covered.st_mode);
  Fd contents;
  if (copyUp && coversDir) contents = Fd(openat(existing.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (copyUp && coversDir && !contents) Fail(object, "openat", errno);
  std::string at;
  {
    Fd target(existing ? std::move(existing) : Fd(Resolve(object, dest, Create::Directory)));
    at = WhereResolved(object, target.get());
    RequireNotTheRoot(object, at);
    RequireNotLedIntoProc(object, dest, at);
    if (mount(OrNull(source), FdPath(target.get()).c_str(), "tmpfs", flags, OrNull(data)) < 0) Fail(WithData(object, data), "mount", errno);
  }
  if (!coversDir) return at;
  Fd mounted(ReopenMounted(object, dest, at));
  if (contents) {
    Fd root(openat(mounted.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) Fail(object, "openat", errno);
    CopyDirectoryContents(object, ContainerPath(dest), contents.get(), root.get());
  }
  // A mode= the config gives wins (newer runc's rule; runc 1.1.5 chmods over it too).
  if (HasOption(data, "mode=")) return at;
  if (chmod(FdPath(mounted.get()).c_str(), covered.st_mode & 07777) < 0) Fail(object, "chmod", errno);
  return at;
}

// The mount op's optional seventh argument, comma-separated words: "copyup" (a
// tmpfs), "idmap=<index>" (a bind mount whose tree idmapTree prepared), "src=<index>"
// and "keep=<flags>" (a bind mount).
struct MountExtension {
  bool copyUp = false;
  bool idmapped = false;
  uint64_t idmapIndex = 0;
  bool sourceFd = false;  // "src=<index>": bind the fd the source helper opens now, not the path
  uint64_t sourceIndex = 0;
  unsigned long keep = 0;  // "keep=<MS_NOSUID|MS_NODEV|MS_NOEXEC>": of the source's, kept by a remount
};

MountExtension ParseExtension(const std::string& object, const Args& a) {
  MountExtension ext;
  if (a.size() < 7) return ext;
  for (const std::string& word : CommaFields(a[6])) {
    if (word == "copyup") {
      ext.copyUp = true;
    } else if (word.rfind("idmap=", 0) == 0) {
      ext.idmapped = true;
      ext.idmapIndex = ParseU64(word.substr(6), object);
    } else if (word.rfind("src=", 0) == 0) {
      ext.sourceFd = true;
      ext.sourceIndex = ParseU64(word.substr(4), object);
    } else if (word.rfind("keep=", 0) == 0) {
      ext.keep = ParseU64(word.substr(5), object);
    } else {
      FailMessage(object + ": unknown mount extension \"" + word + "\"");
    }
  }
  if (ext.keep & ~(MS_NOSUID | MS_NODEV | MS_NOEXEC)) FailMessage(object + ": keep= names flags a bind does not keep");
  return ext;
}

void ReopenRoot() {
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail("open /", "open", errno);
  if (ctx.rootFd >= 0) ForceClose(ctx.rootFd);
  ctx.rootFd = fd;
}

void RequireRoot(const char* op) {
  if (ctx.rootFd < 0) FailMessage(std::string(op) + ": no rootfs op before it");
}

}  // namespace

void OpPropagation(const Args& a) {
  std::string object = "propagation of /";
  unsigned long flags = ParseU64(a[0], object);
  if (mount(nullptr, "/", nullptr, flags, nullptr) < 0) Fail(object, "mount", errno);
}

// mountinfo's text for a mount point: space, tab, newline and backslash come as \ooo.
static std::string UnescapeMountinfo(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); i++) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

// One line of /proc/self/mountinfo, the fields tsrun reads.
struct MountinfoEntry {
  std::string root;        // field 4: the dir of the filesystem mounted here
  std::string mountPoint;  // field 5, unescaped
  bool shared = false;     // an optional field "shared:N"
  std::string fstype;      // the first field after "-"
};

static std::vector<MountinfoEntry> ReadMountinfo(const std::string& object) {
  Fd fd(open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) Fail(object + ": /proc/self/mountinfo", "open", errno);
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail(object + ": /proc/self/mountinfo", "read", errno);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  std::vector<MountinfoEntry> entries;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> fields;
    size_t f = at;
    while (f < end) {
      size_t space = text.find(' ', f);
      if (space == std::string::npos || space > end) space = end;
      fields.push_back(text.substr(f, space - f));
      f = space + 1;
    }
    at = end + 1;
    if (fields.size() < 7) continue;
    MountinfoEntry entry;
    entry.root = UnescapeMountinfo(fields[3]);
    entry.mountPoint = UnescapeMountinfo(fields[4]);
    size_t i = 6;
    for (; i < fields.size() && fields[i] != "-"; i++)
      if (fields[i].compare(0, 7, "shared:") == 0) entry.shared = true;
    if (i + 1 < fields.size()) entry.fstype = fields[i + 1];
    entries.push_back(entry);
  }
  return entries;
}

// Whether `path` is `dir` or below it.
static bool IsAtOrUnder(const std::string& path, const std::string& dir) {
  return dir == "/" || path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// The mount a path lives on: the mount point that is the longest prefix of the path
// (the last listed of equals: it is on top), and whether it is shared.
static MountinfoEntry FindParentMount(const std::string& object, const std::string& path) {
  MountinfoEntry best;
  bool found = false;
  for (const MountinfoEntry& entry : ReadMountinfo(object)) {
    if (!IsAtOrUnder(path, entry.mountPoint) || (found && entry.mountPoint.size() < best.mountPoint.size())) continue;
    best = entry;
    found = true;
  }
  if (!found) FailMessage(object + ": no mount holds " + path + " in /proc/self/mountinfo");
  return best;
}

// A shared mount under the rootfs is made private (runc's rule): pivot_root and
// MS_MOVE refuse a shared parent, and the rootfs bind would be a peer of the host's
// mount, so every mount made in the container would appear on the host too
// (rootfsPropagation shared or rshared, or a shared bundle mount). A slave or private
// one is left as it is: with the default rslave, mounts the host makes later under
// the rootfs still reach the container, as with runc. Found by the rootfs's real
// path: a symlink in the bundle path must not make another mount private.
static void MakeSharedParentPrivate(const std::string& object, const std::string& rootfs) {
  char real[PATH_MAX];
  if (realpath(rootfs.c_str(), real) == nullptr) Fail(object, "realpath", errno);
  MountinfoEntry parent = FindParentMount(object, real);
  if (!parent.shared) return;
  if (mount(nullptr, parent.mountPoint.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
    Fail(object + ": making the mount of " + parent.mountPoint + " private", "mount", errno);
}

void OpRootfs(const Args& a) {
  const std::string& path = a[0];
  std::string object = "rootfs " + path;
  MakeSharedParentPrivate(object, path);
  if (mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) Fail(object, "mount", errno);
  int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail(object, "open", errno);
  if (ctx.rootFd >= 0) ForceClose(ctx.rootFd);
  ctx.rootFd = fd;
  ctx.rootPath = path;
}

void OpMount(const Args& a) {
  const std::string &dest = a[1], &fstype = a[2], &data = a[5];
  std::string source = a[0];
  std::string object = "mount " + (source.empty() ? fstype : source) + " on " + ContainerPath(dest);
  RequireRoot("mount");
  unsigned long flags = ParseU64(a[3], object);
  // One propagation change or several, in the config's order ("0": none).
  std::vector<unsigned long> propagation;
  for (const std::string& field : CommaFields(a[4])) {
    unsigned long change = ParseU64(field, object);
    if (change != 0) propagation.push_back(change);
  }

  const MountExtension ext = ParseExtension(object, a);
  if (ext.copyUp && ((flags & MS_BIND) || fstype != "tmpfs")) FailMessage(object + ": copyup is for a tmpfs");
  if ((ext.idmapped || ext.sourceFd) && !(flags & MS_BIND)) FailMessage(object + ": an id-mapped or fd-sourced mount is a bind mount");
  // The source as the fd the helper opened names it: /proc/self/fd/<n>, which stat,
  // open_tree and mount follow to that very mount of this namespace.
  Fd sourceFd;
  if (ext.sourceFd) {
    sourceFd = Fd(TakeSourceFd(object, ext.sourceIndex));
    source = FdPath(sourceFd.get());
  }

  if (ext.keep && !(flags & MS_BIND)) FailMessage(object + ": keep= is for a bind mount");
  std::string at;  // where dest resolved before the mount went on it
  if (flags & MS_BIND && ext.idmapped) {
    // The tree may have been made by the bind source helper, as the host's root: the
    // source path may not even be reachable from here (a 0700 parent owned by host
    // root), so only the tree is asked.
    Fd tree(TakeIdmapTree(object, ext.idmapIndex));
    struct stat st;
    if (fstat(tree.get(), &st) < 0) Fail(object, "fstat", errno);
    // A bind that is remounted (it asks for a flag) takes the flags asked for alone: of
    // the source's, those in keep= (nosuid, nodev, noexec, unless an option cleared them
    // by name) are added, so that a remount never drops them unasked. One that asks for
    // no flag is not remounted and keeps all of the source's anyway.
    if (ext.keep && (flags & kBindRemountFlags)) flags |= MountFlagsOf(object, tree.get()) & ext.keep;
    Fd target(Resolve(object, dest, S_ISDIR(st.st_mode) ? Create::Directory : Create::File));
    RequireSameKind(object, S_ISDIR(st.st_mode), target.get());
    at = WhereResolved(object, target.get());
    RequireNotTheRoot(object, at);
    RequireNotLedIntoProc(object, dest, at);
    if (!AttachTree(object, tree.get(), target.get(), flags)) Fail(object, "mount_setattr", ENOSYS);
  } else if (flags & MS_BIND) {
    struct stat st;
    if (stat(source.c_str(), &st) < 0) Fail(object, "stat", errno);
    // keep=, as above.
    if (ext.keep && (flags & kBindRemountFlags)) flags |= MountFlagsOf(object, source) & ext.keep;
    bool attached;
    {
      Fd target(Resolve(object, dest, S_ISDIR(st.st_mode) ? Create::Directory : Create::File));
      RequireSameKind(object, S_ISDIR(st.st_mode), target.get());
      at = WhereResolved(object, target.get());
      RequireNotTheRoot(object, at);
      RequireNotLedIntoProc(object, dest, at);
      attached = AttachBind(object, source, target.get(), flags);
      if (!attached && mount(source.c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND | (flags & MS_REC), nullptr) < 0)
        Fail(object, "mount", errno);
    }
    if (!attached && (flags & kBindRemountFlags)) {
      Fd mounted(ReopenMounted(object, dest, at));
      BindRemount(object, FdPath(mounted.get()), flags & kBindRemountFlags, source);
    }
  } else if (fstype == "tmpfs") {
    at = MountTmpfs(object, source, dest, flags, data, ext.copyUp);
  } else {
    const bool special = fstype == "proc" || fstype == "sysfs";
    Fd target(Resolve(object, dest, Create::Directory, !special));
    if (special) RequireDirectory(object, target.get());
    at = WhereResolved(object, target.get());
    RequireNotTheRoot(object, at);
    // mqueue and cgroup too (and tmpfs, above): runc 1.1 mounts them without its /proc
    // rule (src/linux/proc-mounts.ts) as a config writes them, which tsrun keeps; one
    // that a symlink in the rootfs leads into /proc is refused, as runc 1.2 refuses it.
    if (!special) RequireNotLedIntoProc(object, dest, at);
    if (mount(OrNull(source), FdPath(target.get()).c_str(), OrNull(fstype), flags, OrNull(data)) < 0)
      Fail(WithData(object, data), "mount", errno);
  }
  ctx.mountedAt[LexicalContainerPath(dest)] = at;
  if (!propagation.empty()) {
    Fd mounted(ReopenMounted(object, dest, at));
    for (unsigned long change : propagation) {
      if (mount(nullptr, FdPath(mounted.get()).c_str(), nullptr, change, nullptr) < 0) Fail(object, "mount", errno);
    }
  }
}

void OpMountSetattr(const Args& a) {
  const std::string& dest = a[0];
  std::string object = "recursive mount options on " + ContainerPath(dest);
  RequireRoot("mountSetattr");
  struct mount_attr attr = {};
  attr.attr_set = ParseU64(a[1], object);
  attr.attr_clr = ParseU64(a[2], object);
  Fd mounted(ReopenMountedEarlier(object, dest));
  if (mount_setattr(mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    Fail(object, "mount_setattr", errno);
}

void OpMkdir(const Args& a) {
  std::string object = "mkdir " + a[0];
  RequireRoot("mkdir");
  mode_t mode = static_cast<mode_t>(ParseU64(a[1], object)) & 07777;
  // The mode is the plan's, not the mode filtered by whatever umask Node had.
  mode_t old = umask(0);
  const char* sc = "openat2";
  int fd = ResolveInRoot(a[0], Create::Directory, true, mode, &sc);
  int err = errno;
  umask(old);
  // The process's cwd (ifPossible): made where it is missing, as runc does; whatever
  // else is wrong with the path (a link in-root resolution refuses, a read-only
  // root) is for the chdir to judge, which says so in its own words.
  bool ifPossible = a.size() > 2 && a[2] == "ifPossible";
  if (fd < 0) {
    if (ifPossible) return;
    Fail(object, sc, err);
  }
  Fd dir(fd);
  if (!ifPossible) RequireDirectory(object, dir.get());
}

void OpSymlink(const Args& a) {
  const std::string &target = a[0], &dest = a[1];
  std::string object = "symlink " + dest + " -> " + target;
  RequireRoot("symlink");
  std::string parent, name;
  if (!SplitParent(dest, &parent, &name)) Fail(object, "symlink", errno);
  Fd dir(Resolve(object, parent, Create::Directory));
  // "replace": what the image has there goes first (runc's /dev/ptmx: the pty must be
  // the container's devpts instance's, whatever the image put in /dev). A directory
  // there is an error, from unlinkat, not removed with its contents.
  if (a.size() > 2 && a[2] == "1" && unlinkat(dir.get(), name.c_str(), 0) < 0 && errno != ENOENT) Fail(object, "unlinkat", errno);
  if (symlinkat(target.c_str(), dir.get(), name.c_str()) < 0 && errno != EEXIST) Fail(object, "symlinkat", errno);
}

void OpPivotRoot(const Args&) {
  RequireRoot("pivotRoot");
  const std::string object = "pivot_root " + ctx.rootPath;
  // Held to reach the old root after the pivot: there "." names the new root, not the
  // old one stacked on top of it, and a mount(".") would make the container's own
  // mounts slaves (losing every shared and rshared the config asked for).
  Fd oldRoot(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (oldRoot.get() < 0) Fail(object, "open /", errno);
  if (fchdir(ctx.rootFd) < 0) Fail(object, "fchdir", errno);
  // pivot_root(".", ".") stacks the old root on top of the new one; no directory
  // for the old root is needed inside the rootfs.
  if (syscall(SYS_pivot_root, ".", ".") < 0) Fail(object, "pivot_root", errno);
  if (fchdir(oldRoot.get()) < 0) Fail(object, "fchdir", errno);
  // The old root must not propagate our detach to the host's mounts.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) Fail(object, "mount", errno);
  if (umount2(".", MNT_DETACH) < 0) Fail(object, "umount2", errno);
  if (chdir("/") < 0) Fail(object, "chdir", errno);
  ReopenRoot();
  ctx.pivoted = true;
}

// Without pivot_root the host's mounts stay in the container's mount namespace, out
// of sight under the new root but still counted by the kernel: a whole procfs or
// sysfs of the host there lets a process of the container that makes a user namespace
// mount a fresh proc or sysfs, without the container's masked paths (the kernel
// allows that only when one is fully visible already). So every whole proc and sysfs
// mount outside the rootfs goes first: made a slave (its unmount must not reach the
// host), then detached; where that is refused, covered with an empty tmpfs. runc does
// the same.
static void HideHostProcAndSys(const std::string& object) {
  std::string rootfs = FdPath(ctx.rootFd);
  char real[PATH_MAX];
  ssize_t n = readlink(rootfs.c_str(), real, sizeof real - 1);
  if (n < 0) Fail(object + ": reading the rootfs's path", "readlink", errno);
  real[n] = '\0';
  for (const MountinfoEntry& entry : ReadMountinfo(object)) {
    if (entry.root != "/" || (entry.fstype != "proc" && entry.fstype != "sysfs") || IsAtOrUnder(entry.mountPoint, real)) continue;
    const char* point = entry.mountPoint.c_str();
    // ENOENT: an earlier detach took a parent of it along.
    if (mount(nullptr, point, nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      Fail(object + ": making " + entry.mountPoint + " a slave", "mount", errno);
    }
    if (umount2(point, MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) Fail(object + ": detaching " + entry.mountPoint, "umount2", errno);
    if (mount("tmpfs", point, "tmpfs", 0, nullptr) < 0) Fail(object + ": covering " + entry.mountPoint, "mount", errno);
  }
}

void OpChrootNoPivot(const Args&) {
  RequireRoot("chrootNoPivot");
  const std::string object = "chroot " + ctx.rootPath;
  HideHostProcAndSys(object);
  if (fchdir(ctx.rootFd) < 0) Fail(object, "fchdir", errno);
  if (mount(ctx.rootPath.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) Fail(object, "mount", errno);
  if (chroot(".") < 0) Fail(object, "chroot", errno);
  if (chdir("/") < 0) Fail(object, "chdir", errno);
  ReopenRoot();
  ctx.pivoted = true;
}

void OpRemountReadonly(const Args& a) {
  std::string object = "remountReadonly " + a[0];
  RequireRoot("remountReadonly");
  Fd target(ReopenMountedEarlier(object, a[0]));
  unsigned long keep = MountFlagsOf(object, target.get());
  if (mount(nullptr, FdPath(target.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, nullptr) < 0)
    Fail(object, "mount", errno);
}

void OpMaskPath(const Args& a) {
  std::string object = "maskPath " + a[0];
  RequireRoot("maskPath");
  int fd = ResolveIfExists(object, a[0]);
  if (fd < 0) return;
  Fd target(fd);
  RequireNotTheRoot(object, WhereResolved(object, target.get()));
  struct stat st;
  if (fstat(target.get(), &st) < 0) Fail(object, "fstat", errno);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", FdPath(target.get()).c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) Fail(object, "mount", errno);
    return;
  }
  // /dev/null of the container: check it is the real null device before exposing it.
  Fd null(Resolve(object, "/dev/null", Create::None));
  struct stat ns;
  if (fstat(null.get(), &ns) < 0) Fail(object, "fstat /dev/null", errno);
  if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3)
    FailMessage(object + ": /dev/null is not the null device (1:3)");
  if (mount(FdPath(null.get()).c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0) Fail(object, "mount", errno);
}

void OpReadonlyPath(const Args& a) {
  std::string object = "readonlyPath " + a[0];
  RequireRoot("readonlyPath");
  int fd = ResolveIfExists(object, a[0]);
  if (fd < 0) return;
  std::string at;
  {
    Fd target(fd);
    at = WhereResolved(object, target.get());
    RequireNotTheRoot(object, at);
    if (mount(FdPath(target.get()).c_str(), FdPath(target.get()).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      Fail(object, "mount", errno);
  }
  Fd mounted(ReopenMounted(object, a[0], at));
  unsigned long keep = MountFlagsOf(object, mounted.get());
  if (mount(nullptr, FdPath(mounted.get()).c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, nullptr) < 0)
    Fail(object, "mount", errno);
}

}  // namespace init
