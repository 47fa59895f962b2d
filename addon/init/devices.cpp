// Device nodes: created with mknod, or bind-mounted from the host where mknod is not
// allowed (inside a user namespace).
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

// What is missing on the way is made 0755 whatever umask the caller gave tsrun, as
// runc makes it: under a umask of 077 a made /dev/net would be 0700, and the device
// in it out of reach of a non-root process the config allows it to.
int ResolveOrFail(const std::string& object, const std::string& path, Create create) {
  const char* sc = "openat2";
  mode_t old = umask(0);
  int fd = ResolveInRoot(path, create, true, 0755, &sc);
  int err = errno;
  umask(old);
  if (fd < 0) Fail(object, sc, err);
  return fd;
}

std::string FileKind(const struct stat& st) {
  switch (st.st_mode & S_IFMT) {
    case S_IFCHR:
      return "a character device " + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    case S_IFBLK:
      return "a block device " + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    case S_IFIFO:
      return "a FIFO";
    case S_IFDIR:
      return "a directory";
    case S_IFLNK:
      return "a symlink";
    case S_IFSOCK:
      return "a socket";
    default:
      return "a file";
  }
}

// The S_IF* type of a config device type (u is an unbuffered character device).
mode_t NodeType(const std::string& object, const std::string& type) {
  if (type == "c" || type == "u") return S_IFCHR;
  if (type == "b") return S_IFBLK;
  if (type == "p") return S_IFIFO;
  FailMessage(object + ": unknown device type \"" + type + "\"");
}

// Whether st is the node asked for: its type, and for a device its major:minor.
bool SameNode(const struct stat& st, mode_t type, unsigned int maj, unsigned int min) {
  return (st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == makedev(maj, min));
}

}  // namespace

void OpMknod(const Args& a) {
  const std::string& dest = a[0];
  std::string object = "mknod " + dest;
  if (ctx.rootFd < 0) FailMessage(object + ": no rootfs op before it");
  mode_t type = NodeType(object, a[1]);
  unsigned int maj = static_cast<unsigned int>(ParseU64(a[2], object));
  unsigned int min = static_cast<unsigned int>(ParseU64(a[3], object));
  mode_t mode = static_cast<mode_t>(ParseU64(a[4], object)) & 07777;
  uid_t uid = static_cast<uid_t>(ParseU64(a[5], object));
  gid_t gid = static_cast<gid_t>(ParseU64(a[6], object));

  std::string parent, name;
  if (!SplitParent(dest, &parent, &name)) Fail(object, "mknod", errno);
  int dir = ResolveOrFail(object, parent, Create::Directory);

  struct stat st;
  if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // The spec: a file already at the path that is not the device asked for is an error.
    // Replacing it would destroy a file of the image (a path named by mistake, a /dev
    // that is not a tmpfs); keeping it, as runc does, would give the container a fake.
    if (!SameNode(st, type, maj, min)) FailMessage(object + ": " + FileKind(st) + " is already there, not the device asked for");
    // The node itself is left as it is, as runc leaves it: it may be the host's (a bound
    // directory), whose mode and owner are not the container's to change.
    ForceClose(dir);
    return;
  }
  if (errno != ENOENT) Fail(object, "fstatat", errno);
  // The device mode is the plan's exactly, not filtered by the umask inherited from Node.
  mode_t old = umask(0);
  int rc = mknodat(dir, name.c_str(), mode | type, makedev(maj, min));
  int err = errno;
  umask(old);
  if (rc < 0) Fail(object, "mknodat", err);
  if (fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) Fail(object, "fchownat", errno);
  ForceClose(dir);
}

void OpBindDevice(const Args& a) {
  const std::string &dest = a[0], &host = a[1];
  std::string object = "bindDevice " + host + " on " + ContainerPath(dest);
  if (ctx.rootFd < 0) FailMessage(object + ": no rootfs op before it");
  mode_t type = NodeType(object, a[2]);
  unsigned int maj = static_cast<unsigned int>(ParseU64(a[3], object));
  unsigned int min = static_cast<unsigned int>(ParseU64(a[4], object));
  // Only the node the config names is bound: whatever else the host has at that
  // path (a file, a directory) would reach the container readable. The fd, not the
  // path, is bound, so the check holds for what is mounted.
  int source = open(host.c_str(), O_PATH | O_CLOEXEC);
  if (source < 0) Fail(object, "open", errno);
  struct stat st;
  if (fstat(source, &st) < 0) Fail(object, "fstat", errno);
  if (!SameNode(st, type, maj, min)) FailMessage(object + ": the host's " + host + " is " + FileKind(st) + ", not the device asked for");
  int target = ResolveOrFail(object, dest, Create::File);
  if (mount(FdPath(source).c_str(), FdPath(target).c_str(), nullptr, MS_BIND, nullptr) < 0) Fail(object, "mount", errno);
  ForceClose(target);
  ForceClose(source);
}

}  // namespace init
