// Id-mapped bind mounts (PROTOCOL.md, idmapUserns and idmapTree): the user namespace
// of the mappings is made while the init is still the host's root; the source tree is
// cloned detached, right before its mount, and given those mappings; the `mount` op
// attaches it.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

// False with *err set when the map cannot be written whole.
bool WriteMap(pid_t pid, const char* file, const std::string& text, int* err) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    *err = errno;
    return false;
  }
  ssize_t written = write(fd.get(), text.data(), text.size());
  if (written == static_cast<ssize_t>(text.size())) return true;
  *err = written < 0 ? errno : EIO;  // the kernel takes a map in one write or not at all
  return false;
}

// A user namespace with the given maps, as an fd. A child enters a new one and says
// so; its maps are written from here and its namespace opened. The child waits for
// the end of a pipe only this process holds open, so it goes once that closes, and
// is reaped before anything is reported (or even if this process dies first).
int UsernsWithMaps(const std::string& object, const std::string& uidMap, const std::string& gidMap) {
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0) Fail(object, "pipe2", errno);
  Fd readyRead(ready[0]), readyWrite(ready[1]);
  if (pipe2(hold, O_CLOEXEC) < 0) Fail(object, "pipe2", errno);
  Fd holdRead(hold[0]), holdWrite(hold[1]);
  pid_t child = fork();
  if (child < 0) Fail(object, "fork", errno);
  if (child == 0) {
    holdWrite.reset();
    readyRead.reset();
    unsigned char err = unshare(CLONE_NEWUSER) == 0 ? 0 : static_cast<unsigned char>(errno);
    (void)!write(readyWrite.get(), &err, 1);
    char c;
    while (read(holdRead.get(), &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  readyWrite.reset();
  holdRead.reset();
  unsigned char said = 0;
  ssize_t n;
  do n = read(readyRead.get(), &said, 1); while (n < 0 && errno == EINTR);
  // Every failure below is reported only once the child has been let go and reaped.
  std::string failure;
  const char* syscall = nullptr;
  int err = 0;
  int fd = -1;
  if (n != 1) {
    failure = object + ": the user namespace helper died";
  } else if (said != 0) {
    syscall = "unshare(CLONE_NEWUSER)";
    err = said;
  } else if (!WriteMap(child, "uid_map", uidMap, &err)) {
    syscall = "write uid_map";
  } else if (!WriteMap(child, "gid_map", gidMap, &err)) {
    syscall = "write gid_map";
  } else {
    std::string ns = "/proc/" + std::to_string(child) + "/ns/user";
    fd = open(ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      syscall = "open";
      err = errno;
    }
  }
  holdWrite.reset();  // the child ends; the namespace lives on in fd
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!failure.empty()) FailMessage(failure);
  if (syscall != nullptr) Fail(object, syscall, err);
  return fd;
}

}  // namespace

// `idmapUserns index source usernsPath uidMap gidMap`, while the init is still the
// host's root in the host's namespaces: the user namespace whose mappings mount
// `index` takes, kept until its `idmapTree` (source names it in messages).
void OpIdmapUserns(const Args& a) {
  std::string object = "id-mapped mount of " + a[1];
  uint64_t index = ParseU64(a[0], object);
  const std::string& usernsPath = a[2];  // a user namespace the container joins, or "": one is made from the maps
  if (ctx.idmapUserns.count(index) != 0) FailMessage(object + ": mount " + a[0] + " has a user namespace already");
  Fd userns(usernsPath.empty() ? UsernsWithMaps(object, a[3], a[4]) : open(usernsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns) Fail(object + " (user namespace " + usernsPath + ")", "open", errno);
  ctx.idmapUserns[index] = userns.release();
}

IdmappedTree MakeIdmappedTree(const std::string& source, bool cloneBelow, bool mapBelow, int userns) {
  Fd tree(open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (cloneBelow ? AT_RECURSIVE : 0)));
  if (!tree) return {-1, "open_tree", errno};
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns);
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | (mapBelow ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    return {-1, "mount_setattr(MOUNT_ATTR_IDMAP)", errno};
  // A clone of a shared mount is its peer: a mount the container makes below it would
  // appear at the source. A slave, as every mount under the container's rslave root
  // is, receives the source's and sends none.
  struct mount_attr slave = {};
  slave.propagation = MS_SLAVE;
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | (cloneBelow ? AT_RECURSIVE : 0), &slave, sizeof slave) < 0)
    return {-1, "mount_setattr(MS_SLAVE)", errno};
  return {tree.release(), nullptr, 0};
}

// `idmapTree index source cloneBelow mapBelow viaHelper`, right before the mount op
// that attaches it, in the container's mount namespace: the source is found with the
// mounts made before it in place. With a user namespace the init may no longer make
// it (the kernel asks for privilege over the source filesystem), and the bind source
// helper, still the host's root, makes it there (bind-sources.cpp).
void OpIdmapTree(const Args& a) {
  const std::string& source = a[1];
  std::string object = "id-mapped mount of " + source;
  uint64_t index = ParseU64(a[0], object);
  const bool cloneBelow = a[2] == "1";  // rbind
  const bool mapBelow = a[3] == "1";    // ridmap
  if (ctx.idmapTrees.count(index) != 0) FailMessage(object + ": mount " + a[0] + " has a tree already");
  Fd userns(TakeKeptFd(&ctx.idmapUserns, index, object, "no user namespace was made for mount " + a[0]));
  if (a[4] == "1") {
    ctx.idmapTrees[index] = IdmappedTreeFromHelper(object, index, cloneBelow, mapBelow, userns.get());
    return;
  }
  IdmappedTree made = MakeIdmappedTree(source, cloneBelow, mapBelow, userns.get());
  if (made.fd < 0) Fail(object, made.syscall, made.err);
  ctx.idmapTrees[index] = made.fd;
}

int TakeIdmapTree(const std::string& object, uint64_t index) {
  return TakeKeptFd(&ctx.idmapTrees, index, object, "no id-mapped tree " + std::to_string(index) + " was prepared");
}

}  // namespace init
