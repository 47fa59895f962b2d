// runc's `tmpcopyup` mount extension: a tmpfs mounted over a directory of the image
// starts with a copy of what that directory held. Both trees are walked through fds
// only (openat/fstatat/...at with O_NOFOLLOW), so nothing the image holds (a symlink,
// a rename during the copy) can lead the copy out of either tree.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "init.hpp"

namespace init {
namespace {

// Deeper than any real image's tree; bounds the recursion an image could ask for
// (two fds and one small frame per level).
constexpr int kMaxDepth = 256;

// Owns a DIR* (which owns its fd): closed on every way out of the scope.
class Dir {
 public:
  explicit Dir(DIR* d) : d_(d) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (d_ != nullptr) closedir(d_);
  }
  DIR* get() const { return d_; }

 private:
  DIR* d_;
};

int OpenBelow(const std::string& object, int dir, const char* name, int flags, mode_t mode = 0) {
  int fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) Fail(object, "openat", errno);
  return fd;
}

void CopyOwnerAndMode(const std::string& object, int fd, const struct stat& st) {
  // chown first: it clears set-id bits, which the chmod then restores.
  if (fchown(fd, st.st_uid, st.st_gid) < 0) Fail(object, "fchown", errno);
  if (fchmod(fd, st.st_mode & 07777) < 0) Fail(object, "fchmod", errno);
}

void CopyFile(const std::string& object, int from, int to, const char* name, const struct stat& seen) {
  // Held by an O_PATH fd and checked to be the regular file fstatat saw before it is
  // opened for reading: a FIFO or device swapped in meanwhile is never opened (opening
  // some devices does something), and the file checked is the file read.
  Fd held(OpenBelow(object, from, name, O_PATH));
  struct stat st;
  if (fstat(held.get(), &st) < 0) Fail(object, "fstat", errno);
  if (!S_ISREG(st.st_mode) || st.st_dev != seen.st_dev || st.st_ino != seen.st_ino)
    FailMessage(object + ": changed while it was copied");
  Fd in(open(FdPath(held.get()).c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC));
  if (!in) Fail(object, "open", errno);
  Fd out(OpenBelow(object, to, name, O_WRONLY | O_CREAT | O_EXCL, 0600));
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = sendfile(out.get(), in.get(), nullptr, left > 0x40000000 ? 0x40000000 : static_cast<size_t>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail(object, "sendfile", errno);
    }
    if (n == 0) break;  // the file shrank meanwhile: copy what there was
    left -= n;
  }
  CopyOwnerAndMode(object, out.get(), st);
}

// Out of CopyEntry's frame: the PATH_MAX buffer is not held at every level of the
// recursion.
__attribute__((noinline)) void CopySymlink(const std::string& object, int from, int to, const char* name,
                                           const struct stat& st) {
  std::unique_ptr<char[]> target(new char[PATH_MAX + 1]);
  ssize_t n = readlinkat(from, name, target.get(), PATH_MAX);
  if (n < 0) Fail(object, "readlinkat", errno);
  target[n] = '\0';
  if (symlinkat(target.get(), to, name) < 0) Fail(object, "symlinkat", errno);
  if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) Fail(object, "fchownat", errno);
}

void CopyTree(const std::string& object, int fromFd, int to, const std::string& at, int depth);

void CopyEntry(const std::string& object, int from, int to, const char* name, const std::string& at, int depth) {
  const std::string where = object + ": copy-up of " + at + name;
  struct stat st;
  if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) Fail(where, "fstatat", errno);
  switch (st.st_mode & S_IFMT) {
    case S_IFDIR: {
      if (mkdirat(to, name, 0700) < 0) Fail(where, "mkdirat", errno);
      Fd dst(OpenBelow(where, to, name, O_RDONLY | O_DIRECTORY));
      CopyTree(object, OpenBelow(where, from, name, O_RDONLY | O_DIRECTORY), dst.get(), at + name + "/", depth + 1);
      CopyOwnerAndMode(where, dst.get(), st);
      return;
    }
    case S_IFREG:
      CopyFile(where, from, to, name, st);
      return;
    case S_IFLNK:
      CopySymlink(where, from, to, name, st);
      return;
    default:  // devices, FIFOs, sockets: the node itself, as the image has it
      if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) Fail(where, "mknodat", errno);
      if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) Fail(where, "fchownat", errno);
      if (fchmodat(to, name, st.st_mode & 07777, 0) < 0) Fail(where, "fchmodat", errno);
      return;
  }
}

// Takes fromFd: the directory stream owns it, and its fd is the base of every
// lookup below (two fds per level: the stream and `to`).
void CopyTree(const std::string& object, int fromFd, int to, const std::string& at, int depth) {
  Dir dir(fdopendir(fromFd));
  if (dir.get() == nullptr) {
    int err = errno;
    close(fromFd);
    Fail(object + ": copy-up of " + at, "fdopendir", err);
  }
  if (depth > kMaxDepth) FailMessage(object + ": copy-up of " + at + ": directories nested deeper than 256");
  const int from = dirfd(dir.get());
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(dir.get());
    if (e == nullptr) {
      if (errno != 0) Fail(object + ": copy-up of " + at, "readdir", errno);
      return;
    }
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    CopyEntry(object, from, to, e->d_name, at, depth);
  }
}

}  // namespace

void CopyDirectoryContents(const std::string& object, const std::string& dest, int from, int to) {
  // A stream of its own: `from` stays the caller's.
  CopyTree(object, OpenBelow(object, from, ".", O_RDONLY | O_DIRECTORY), to, dest == "/" ? dest : dest + "/", 0);
}

}  // namespace init
