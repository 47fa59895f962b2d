// In-root path resolution: a path of the container is resolved below the rootfs
// and can never leave it, whatever symlinks the rootfs holds (CVE-2021-30465 class).
// The kernel does the work (openat2 RESOLVE_IN_ROOT); only creating missing
// components needs a walk of our own, one component at a time.
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's own limit (MAXSYMLINKS)
constexpr int kMaxSteps = 4096;

int Openat2(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.resolve = resolve;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
  } while (fd < 0 && errno == EAGAIN);  // EAGAIN: a concurrent rename raced the lookup
  return fd;
}

// Components of a path, "" and "." dropped; ".." kept for the walk to clamp at the root.
void Split(const std::string& path, std::vector<std::string>* out) {
  size_t at = 0;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(at, slash - at);
    if (!part.empty() && part != ".") out->push_back(part);
    at = slash + 1;
  }
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out = "/";
  for (size_t i = 0; i < parts.size(); i++) out += (i ? "/" : "") + parts[i];
  return out;
}

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

}  // namespace

std::string FdPath(int fd) {
  // After the pivot /proc is whatever the container has there: an fd's link is only
  // taken from a real procfs, never from a path the image planted (a symlink
  // proc/self/fd/3 -> /tmp would turn a read-only remount of "fd 3" onto /tmp) or a
  // mount the config put over it. Once: the mounts after the pivot never cover it.
  if (ctx.pivoted && !ctx.procFdsChecked) {
    struct statfs sfs;
    if (statfs("/proc/self/fd", &sfs) < 0) Fail("/proc/self/fd of the container", "statfs", errno);
    if (sfs.f_type != PROC_SUPER_MAGIC)
      FailMessage("/proc/self/fd of the container is not procfs's: its mounts cannot be reached by fd there");
    ctx.procFdsChecked = true;
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

bool SplitParent(const std::string& path, std::string* parent, std::string* name) {
  std::vector<std::string> parts;
  Split(path, &parts);
  if (parts.empty() || parts.back() == "..") {
    errno = EINVAL;
    return false;
  }
  *name = parts.back();
  parts.pop_back();
  *parent = Join(parts);
  return true;
}

int OpenInOwnRoot(const std::string& path, uint64_t flags) {
  Fd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return -1;
  return Openat2(root.get(), path.c_str(), flags, kInRoot);
}

int ResolveInRoot(const std::string& path, Create create, bool followLast, mode_t dirMode, const char** syscallName, mode_t fileMode) {
  const uint64_t lastFlags = O_PATH | O_CLOEXEC | (followLast ? 0 : O_NOFOLLOW);
  *syscallName = "openat2";
  int fd = Openat2(ctx.rootFd, path.c_str(), lastFlags, kInRoot);
  if (fd >= 0 || errno != ENOENT || create == Create::None) return fd;

  // Slow path: walk component by component. Each step opens exactly one name with
  // O_NOFOLLOW below the current directory, so symlinks are seen and re-based on the
  // root by us, never followed by the kernel to somewhere else.
  std::vector<std::string> pending;  // reversed: back() is the next component
  {
    std::vector<std::string> parts;
    Split(path, &parts);
    pending.assign(parts.rbegin(), parts.rend());
  }
  std::vector<std::string> done;  // real directories walked so far, from the root
  Fd cur;
  cur.reset(fcntl(ctx.rootFd, F_DUPFD_CLOEXEC, 0));
  if (cur.get() < 0) return *syscallName = "fcntl", -1;
  int links = 0;

  for (int step = 0; !pending.empty(); step++) {
    if (step > kMaxSteps) return errno = ELOOP, -1;
    std::string name = pending.back();
    pending.pop_back();
    const bool last = pending.empty();

    if (name == "..") {
      if (!done.empty()) done.pop_back();  // ".." of the root is the root
      cur.reset(Openat2(ctx.rootFd, Join(done).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, kInRoot));
      if (cur.get() < 0) return *syscallName = "openat2", -1;
      if (last) return cur.release();
      continue;
    }

    Fd next;
    next.reset(Openat2(cur.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS));
    if (next.get() < 0) {
      if (errno != ENOENT) return *syscallName = "openat2", -1;
      if (last && create == Create::File) {
        // A mount point for a file: 0755 (less the umask) by default, the mode runc gives it.
        int created = openat(cur.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, fileMode);
        if (created < 0 && errno != EEXIST) return *syscallName = "openat", -1;
        if (created >= 0) ForceClose(created);
      } else if (mkdirat(cur.get(), name.c_str(), dirMode) < 0 && errno != EEXIST) {
        return *syscallName = "mkdirat", -1;
      }
      pending.push_back(name);  // open what now exists (ours, or a racing creator's)
      continue;
    }

    struct stat st;
    if (fstat(next.get(), &st) < 0) return *syscallName = "fstat", -1;
    if (S_ISLNK(st.st_mode) && (!last || followLast)) {
      if (++links > kMaxSymlinks) return *syscallName = "openat2", errno = ELOOP, -1;
      char target[4096];
      ssize_t n = readlinkat(next.get(), "", target, sizeof target);
      if (n < 0) return *syscallName = "readlinkat", -1;
      if (n == static_cast<ssize_t>(sizeof target)) return *syscallName = "readlinkat", errno = ENAMETOOLONG, -1;
      std::string link(target, static_cast<size_t>(n));
      if (!link.empty() && link[0] == '/') {  // absolute: from the container's root
        done.clear();
        cur.reset(fcntl(ctx.rootFd, F_DUPFD_CLOEXEC, 0));
        if (cur.get() < 0) return *syscallName = "fcntl", -1;
      }
      std::vector<std::string> parts;
      Split(link, &parts);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.push_back(*it);
      if (parts.empty() && last) return fcntl(cur.get(), F_DUPFD_CLOEXEC, 0);
      continue;
    }
    if (last) return next.release();
    if (!S_ISDIR(st.st_mode)) return *syscallName = "openat2", errno = ENOTDIR, -1;
    done.push_back(name);
    cur.reset(next.release());
  }
  // Only reached for a path without components ("/" or ".."-only): the root itself.
  return fcntl(cur.get(), F_DUPFD_CLOEXEC, 0);
}

std::string LexicalContainerPath(const std::string& inRoot) {
  std::vector<std::string> parts, kept;
  Split(inRoot, &parts);
  for (const std::string& part : parts) {
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();
    } else {
      kept.push_back(part);
    }
  }
  return Join(kept);
}

namespace {

bool LinkOf(int fd, std::string* out) {
  char buf[PATH_MAX];
  ssize_t n = readlink(FdPath(fd).c_str(), buf, sizeof buf);
  if (n < 0 || n == static_cast<ssize_t>(sizeof buf)) return false;
  out->assign(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

bool ResolvedContainerPath(int fd, std::string* out) {
  std::string root, target;
  if (!LinkOf(ctx.rootFd, &root) || !LinkOf(fd, &target)) return false;
  if (root == "/") root.clear();
  if (target.compare(0, root.size(), root) != 0) return false;
  std::string rest = target.substr(root.size());
  if (rest.empty()) rest = "/";
  if (rest[0] != '/') return false;  // "/a/rootfs2" is not below "/a/rootfs"
  *out = rest;
  return true;
}

std::string ContainerPath(const std::string& inRoot) {
  size_t start = inRoot.find_first_not_of('/');
  if (start == std::string::npos || inRoot.compare(start, std::string::npos, ".") == 0) return "/";
  return "/" + inRoot.substr(start);
}

}  // namespace init
