// Id-mapped bind mounts (PROTOCOL.md, idmapTree): the source tree is cloned detached
// and given the mappings of a user namespace made for it, while the init is still in
// the host's user namespace (the kernel asks for privilege over the source
// filesystem); the `mount` op attaches it later, inside the container's mount
// namespace.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

void OpIdmapTree(const Args& a) {
  const std::string& source = a[1];
  std::string object = "id-mapped mount of " + source;
  uint64_t index = ParseU64(a[0], object);
  const bool cloneBelow = a[2] == "1";  // rbind
  const bool mapBelow = a[3] == "1";    // ridmap
  const std::string& usernsPath = a[4];  // a user namespace the container joins, or "": one is made from the maps
  if (ctx.idmapTrees.count(index) != 0) FailMessage(object + ": mount " + a[0] + " has a tree already");
  Fd userns(usernsPath.empty() ? UsernsWithMaps(object, a[5], a[6]) : open(usernsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!userns) Fail(object + " (user namespace " + usernsPath + ")", "open", errno);
  Fd tree(open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (cloneBelow ? AT_RECURSIVE : 0)));
  if (!tree) Fail(object, "open_tree", errno);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns.get());
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | (mapBelow ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    Fail(object, "mount_setattr(MOUNT_ATTR_IDMAP)", errno);
  // Cloned in the host's mount namespace, the tree is a peer of a shared source: a
  // mount the container makes below it would appear on the host. A slave, as every
  // mount under the container's rslave root is, receives the host's and sends none.
  struct mount_attr slave = {};
  slave.propagation = MS_SLAVE;
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | (cloneBelow ? AT_RECURSIVE : 0), &slave, sizeof slave) < 0)
    Fail(object, "mount_setattr(MS_SLAVE)", errno);
  ctx.idmapTrees[index] = tree.release();
}

// The tree for mount `index` on a stage point of tsrun's own (in the container's
// state dir), in the init's private mount namespace made just before: the
// container's mount namespace, copied from this one in its user namespace, holds it
// locked, and the source helper opens it there (bind-sources.cpp). The point is made
// here, a directory or an empty file as the tree's root is; its parent is made 0700.
void OpStageIdmapTree(const Args& a) {
  const std::string& point = a[1];
  std::string object = "id-mapped mount staged at " + point;
  Fd tree(TakeIdmapTree(object, ParseU64(a[0], object)));
  struct stat st;
  if (fstat(tree.get(), &st) < 0) Fail(object, "fstat", errno);
  const std::string parent = point.substr(0, point.rfind('/'));
  if (mkdir(parent.c_str(), 0700) < 0 && errno != EEXIST) Fail(object, "mkdir", errno);
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(point.c_str(), 0700) < 0) Fail(object, "mkdir", errno);
  } else {
    Fd file(open(point.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file) Fail(object, "open", errno);
  }
  if (move_mount(tree.get(), "", AT_FDCWD, point.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) Fail(object, "move_mount", errno);
}

int TakeIdmapTree(const std::string& object, uint64_t index) {
  return TakeKeptFd(&ctx.idmapTrees, index, object, "no id-mapped tree " + std::to_string(index) + " was prepared");
}

}  // namespace init
