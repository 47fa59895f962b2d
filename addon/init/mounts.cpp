// Mount operations. Every target is an O_PATH fd resolved in-root and reached through
// /proc/self/fd/<fd>, so a symlink swapped in by the rootfs cannot redirect a mount.
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

// Flags that need a remount to apply to a bind mount, and that a user namespace
// locks on the mount they come from.
constexpr unsigned long kBindRemountFlags =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kLockedFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

class PathFd {
 public:
  explicit PathFd(int fd) : fd_(fd) {}
  PathFd(const PathFd&) = delete;
  PathFd& operator=(const PathFd&) = delete;
  ~PathFd() {
    if (fd_ >= 0) ForceClose(fd_);
  }
  int get() const { return fd_; }
  std::string proc() const { return FdPath(fd_); }

 private:
  int fd_;
};

int Resolve(const std::string& object, const std::string& path, Create create, bool followLast = true) {
  const char* sc = "openat2";
  int fd = ResolveInRoot(path, create, followLast, 0755, &sc);
  if (fd < 0) Fail(object, sc, errno);
  return fd;
}

// The fd resolved before a mount still names the covered directory; the new mount on
// top is only reached by resolving the path again.
int Reopen(const std::string& object, const std::string& path) { return Resolve(object, path, Create::None); }

// statvfs reports ST_* values, which are the MS_* values of the same flags.
unsigned long MountFlagsOf(const std::string& object, const std::string& path) {
  struct statvfs sv;
  if (statvfs(path.c_str(), &sv) < 0) Fail(object, "statvfs", errno);
  return sv.f_flag & kLockedFlags;
}

void BindRemount(const std::string& object, const std::string& target, unsigned long flags, const std::string& flagSource) {
  if (mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) == 0) return;
  if (errno != EPERM) Fail(object, "mount", errno);
  unsigned long locked = MountFlagsOf(object, flagSource);
  if (mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags | locked, nullptr) < 0)
    Fail(object, "mount", errno);
}

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// Fails unless fd is a real directory; /proc and /sys must not be mounted through a
// symlink or onto a file.
void RequireDirectory(const std::string& object, int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) Fail(object, "fstat", errno);
  if (!S_ISDIR(st.st_mode)) FailMessage(object + ": destination is not a directory (symlink or file)");
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

void OpRootfs(const Args& a) {
  const std::string& path = a[0];
  std::string object = "rootfs " + path;
  if (mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) Fail(object, "mount", errno);
  int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail(object, "open", errno);
  if (ctx.rootFd >= 0) ForceClose(ctx.rootFd);
  ctx.rootFd = fd;
  ctx.rootPath = path;
}

void OpMount(const Args& a) {
  const std::string &source = a[0], &dest = a[1], &fstype = a[2], &data = a[5];
  std::string object = "mount " + (source.empty() ? fstype : source) + " on " + ContainerPath(dest);
  RequireRoot("mount");
  unsigned long flags = ParseU64(a[3], object);
  unsigned long propagation = ParseU64(a[4], object);

  if (flags & MS_BIND) {
    struct stat st;
    if (stat(source.c_str(), &st) < 0) Fail(object, "stat", errno);
    {
      PathFd target(Resolve(object, dest, S_ISDIR(st.st_mode) ? Create::Directory : Create::File));
      if (mount(source.c_str(), target.proc().c_str(), nullptr, MS_BIND | (flags & MS_REC), nullptr) < 0)
        Fail(object, "mount", errno);
    }
    if (flags & kBindRemountFlags) {
      PathFd mounted(Reopen(object, dest));
      BindRemount(object, mounted.proc(), flags & kBindRemountFlags, source);
    }
  } else {
    const bool special = fstype == "proc" || fstype == "sysfs";
    PathFd target(Resolve(object, dest, Create::Directory, !special));
    if (special) RequireDirectory(object, target.get());
    if (mount(OrNull(source), target.proc().c_str(), OrNull(fstype), flags, OrNull(data)) < 0)
      Fail(object, "mount", errno);
  }
  if (propagation != 0) {
    PathFd mounted(Reopen(object, dest));
    if (mount(nullptr, mounted.proc().c_str(), nullptr, propagation, nullptr) < 0) Fail(object, "mount", errno);
  }
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
  if (fd < 0) Fail(object, sc, err);
  PathFd dir(fd);
  RequireDirectory(object, dir.get());
}

void OpSymlink(const Args& a) {
  const std::string &target = a[0], &dest = a[1];
  std::string object = "symlink " + dest + " -> " + target;
  RequireRoot("symlink");
  std::string parent, name;
  if (!SplitParent(dest, &parent, &name)) Fail(object, "symlink", errno);
  PathFd dir(Resolve(object, parent, Create::Directory));
  if (symlinkat(target.c_str(), dir.get(), name.c_str()) < 0 && errno != EEXIST) Fail(object, "symlinkat", errno);
}

void OpPivotRoot(const Args&) {
  RequireRoot("pivotRoot");
  const std::string object = "pivot_root " + ctx.rootPath;
  if (fchdir(ctx.rootFd) < 0) Fail(object, "fchdir", errno);
  // pivot_root(".", ".") stacks the old root on top of the new one; no directory
  // for the old root is needed inside the rootfs.
  if (syscall(SYS_pivot_root, ".", ".") < 0) Fail(object, "pivot_root", errno);
  // The old root must not propagate our detach to the host's mounts.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) Fail(object, "mount", errno);
  if (umount2(".", MNT_DETACH) < 0) Fail(object, "umount2", errno);
  if (chdir("/") < 0) Fail(object, "chdir", errno);
  ReopenRoot();
}

void OpChrootNoPivot(const Args&) {
  RequireRoot("chrootNoPivot");
  const std::string object = "chroot " + ctx.rootPath;
  if (fchdir(ctx.rootFd) < 0) Fail(object, "fchdir", errno);
  if (mount(ctx.rootPath.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) Fail(object, "mount", errno);
  if (chroot(".") < 0) Fail(object, "chroot", errno);
  if (chdir("/") < 0) Fail(object, "chdir", errno);
  ReopenRoot();
}

void OpRemountReadonly(const Args& a) {
  std::string object = "remountReadonly " + a[0];
  RequireRoot("remountReadonly");
  PathFd target(Resolve(object, a[0], Create::None));
  unsigned long keep = MountFlagsOf(object, target.proc());
  if (mount(nullptr, target.proc().c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, nullptr) < 0)
    Fail(object, "mount", errno);
}

void OpMaskPath(const Args& a) {
  std::string object = "maskPath " + a[0];
  RequireRoot("maskPath");
  const char* sc = "openat2";
  int fd = ResolveInRoot(a[0], Create::None, true, 0755, &sc);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) Fail(object, sc, errno);
  PathFd target(fd);
  struct stat st;
  if (fstat(target.get(), &st) < 0) Fail(object, "fstat", errno);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", target.proc().c_str(), "tmpfs", MS_RDONLY, nullptr) < 0) Fail(object, "mount", errno);
    return;
  }
  // /dev/null of the container: check it is the real null device before exposing it.
  PathFd null(Resolve(object, "/dev/null", Create::None));
  struct stat ns;
  if (fstat(null.get(), &ns) < 0) Fail(object, "fstat /dev/null", errno);
  if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3)
    FailMessage(object + ": /dev/null is not the null device (1:3)");
  if (mount(null.proc().c_str(), target.proc().c_str(), nullptr, MS_BIND, nullptr) < 0) Fail(object, "mount", errno);
}

void OpReadonlyPath(const Args& a) {
  std::string object = "readonlyPath " + a[0];
  RequireRoot("readonlyPath");
  const char* sc = "openat2";
  int fd = ResolveInRoot(a[0], Create::None, true, 0755, &sc);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) Fail(object, sc, errno);
  {
    PathFd target(fd);
    if (mount(target.proc().c_str(), target.proc().c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      Fail(object, "mount", errno);
  }
  PathFd mounted(Reopen(object, a[0]));
  unsigned long keep = MountFlagsOf(object, mounted.proc());
  if (mount(nullptr, mounted.proc().c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, nullptr) < 0)
    Fail(object, "mount", errno);
}

}  // namespace init
