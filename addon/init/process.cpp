// Process attributes: fds, credentials and capabilities, limits, sysctls.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

void WriteFile(const std::string& object, int fd, const std::string& value) {
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) Fail(object, "write", errno);
  if (static_cast<size_t>(n) != value.size()) Fail(object, "write", EIO);
}

// In a user namespace whose /proc/<pid>/setgroups is "deny" (rootless, or a runtime
// that is root of a user namespace made with "deny", as rootless podman without
// subgids), setgroups always fails: the groups stay as they are, as runc (which then
// ignores additionalGids: podman passes the image user's groups) and crun do.
bool SetgroupsDenied() {
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  ForceClose(fd);
  return n >= 4 && std::string(buf, 4) == "deny";
}

}  // namespace

void OpFds(const Args& a) {
  std::string object = "fds";
  // Bounded before the casts: a count past any fd number would wrap the arithmetic.
  constexpr uint64_t kMaxFds = 1 << 20;
  uint64_t preserved = ParseU64(a[0], object), extra = ParseU64(a[1], object);
  if (preserved > kMaxFds || extra > kMaxFds) FailMessage("fds: more fds than a process can have");
  int n = static_cast<int>(preserved);
  int k = static_cast<int>(extra);
  if (3 + n != ctx.planFd || ctx.syncFd != ctx.planFd + 1)
    FailMessage("fds: the plan's fd layout does not match the init's arguments");
  ctx.preserveFds = n;
  // Whatever Node leaked to us (fds without FD_CLOEXEC) ends here.
  if (syscall(SYS_close_range, ctx.planFd + 2 + k, ~0U, 0) < 0) Fail(object, "close_range", errno);
}

void OpNonDumpable(const Args&) {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) Fail("nonDumpable", "prctl", errno);
}

// Rootless only (PROTOCOL.md): a non-dumpable process's /proc files belong to the
// host's root, so an unprivileged parent could not write its uid_map, nor the init
// its own oom_score_adj.
void OpDumpable(const Args&) {
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) Fail("dumpable", "prctl", errno);
}

void OpSysctl(const Args& a) {
  const std::string &key = a[0], &value = a[1];
  std::string object = "sysctl " + key;
  // Verify it is procfs we write into, and walk only below /proc/sys without symlinks,
  // so a rootfs cannot turn a sysctl into a write elsewhere.
  int sys = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sys < 0) Fail(object, "open /proc/sys", errno);
  struct statfs sfs;
  if (fstatfs(sys, &sfs) < 0) Fail(object, "fstatfs", errno);
  if (sfs.f_type != PROC_SUPER_MAGIC) FailMessage(object + ": /proc/sys is not on procfs");
  std::string rel = key;
  for (char& c : rel)
    if (c == '.') c = '/';
  struct open_how how = {};
  how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd = static_cast<int>(syscall(SYS_openat2, sys, rel.c_str(), &how, sizeof how));
  if (fd < 0) Fail(object, "openat2", errno);
  WriteFile(object, fd, value);
  ForceClose(fd);
  ForceClose(sys);
}

bool WriteProcFile(const std::string& object, const char* path, const std::string& value, bool missingOk) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;  // before the std::string below can allocate
    if (missingOk && err == ENOENT) return false;
    Fail(object, (std::string("open ") + path).c_str(), err);
  }
  // After the pivot /proc is whatever the config mounted there: write only into a
  // real procfs file, never into something the rootfs put in its place.
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) Fail(object, "fstatfs", errno);
  if (sfs.f_type != PROC_SUPER_MAGIC) FailMessage(object + ": " + path + " is not on procfs");
  WriteFile(object, fd, value);
  ForceClose(fd);
  return true;
}

void OpOomScoreAdj(const Args& a) {
  std::string object = "oom_score_adj " + a[0];
  int64_t n = ParseI64(a[0], object);
  WriteProcFile(object, "/proc/self/oom_score_adj", std::to_string(n), false);
}

void OpRlimit(const Args& a) {
  std::string object = "rlimit " + a[0];
  int resource = static_cast<int>(ParseU64(a[0], object));
  struct rlimit lim;
  lim.rlim_cur = ParseU64(a[1], object);
  lim.rlim_max = ParseU64(a[2], object);
  if (setrlimit(static_cast<__rlimit_resource>(resource), &lim) < 0) Fail(object, "setrlimit", errno);
}

// A rootfs link to /proc/<pid>/root/... of a process outside (hostPID, or a pid
// namespace shared with another container) would take the process out of the
// container (CVE-2024-21626's class): checked as runc checks, getcwd fails (ENOENT,
// the kernel's "(unreachable)") for a directory the root cannot reach. No fd is
// needed, so an RLIMIT_NOFILE of 0, set before, cannot stop it.
static void ChdirChecked(const std::string& path) {
  const std::string object = "chdir " + path;
  if (chdir(path.c_str()) < 0) Fail(object, "chdir", errno);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) != nullptr && cwd[0] == '/') return;
  int err = errno;
  // getcwd says ENOENT for a directory removed too (a rootfs deleted under a running
  // container): no link left to it is no way out of the root.
  struct stat st {};
  if (err == ENOENT && stat(".", &st) == 0 && st.st_nlink == 0) FailMessage(object + ": the directory has been removed (was the container's root filesystem removed?)");
  if (err == ENOENT || err == 0) FailMessage(object + ": the directory is outside the container's root: possible container breakout");
  Fail(object, "getcwd", err);
}

// As root first; one that root may not enter (a root-squashed NFS volume) is tried
// again as the process's own user, once `credentials` has set it (runc's rule).
void OpChdir(const Args& a) {
  if (chdir(a[0].c_str()) < 0 && (errno == EACCES || errno == EPERM)) {
    ctx.cwdAfterCredentials = a[0];
    return;
  }
  ChdirChecked(a[0]);
}

// The final exec, in exec.cpp: a cwd left for `credentials` that none came to set.
void RequireCwdSet() {
  if (!ctx.cwdAfterCredentials.empty()) Fail("chdir " + ctx.cwdAfterCredentials, "chdir", EACCES);
}

void OpUmask(const Args& a) { umask(static_cast<mode_t>(ParseU64(a[0], "umask " + a[0])) & 0777); }

// runc's rule: a process running as another user must still be able to reopen its
// own stdio (/dev/stdout, /proc/self/fd/1: nginx and many images log that way), so
// stdio the user does not own is handed to it, keeping the group. /dev/null (the
// char device 1:3, never a path lookup) stays as it is; where the kernel refuses
// (an id unmapped in a user namespace, a read-only filesystem) the fd is left alone.
void OpStdioOwner(const Args& a) {
  std::string object = "stdio owner " + a[0];
  uid_t uid = static_cast<uid_t>(ParseU64(a[0], object));
  for (int fd = 0; fd < 3; fd++) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;
      Fail(object + " fd " + std::to_string(fd), "fstat", errno);
    }
    if (st.st_uid == uid || (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))) continue;
    // A device node other than a terminal (the host's /dev/zero given as stdin to a
    // detached container) stays the host's: runc's fixStdioPermissions chowns it, and
    // every process on the host would then see that device owned by the container's user.
    if ((S_ISCHR(st.st_mode) && !isatty(fd)) || S_ISBLK(st.st_mode)) continue;
    if (fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
      Fail(object + " fd " + std::to_string(fd), "fchown", errno);
  }
}

// runc's rule for stdio that is the host's /dev/null (a caller with nothing to give,
// as dockerd without -i): each such fd becomes the container's own /dev/null, opened
// read-write. The container then holds no open file of the host's mount namespace,
// and its stdin can be written to as under runc.
void OpReopenDevNull(const Args&) {
  const std::string object = "reopenDevNull";
  Fd null(open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (null.get() < 0) Fail(object + " /dev/null", "open", errno);
  struct stat own;
  if (fstat(null.get(), &own) < 0) Fail(object + " /dev/null", "fstat", errno);
  // A config mount over /dev/null is the config's business: stdio is left alone.
  if (!S_ISCHR(own.st_mode) || own.st_rdev != makedev(1, 3)) return;
  for (int fd = 0; fd < 3; fd++) {
    // A closed stdio fd is where open put the container's /dev/null: it stays closed
    // (the fd is close-on-exec, and closed at the end of this op).
    if (fd == null.get()) continue;
    struct stat st;
    if (fstat(fd, &st) < 0) {
      if (errno == EBADF) continue;
      Fail(object + " fd " + std::to_string(fd), "fstat", errno);
    }
    if (!S_ISCHR(st.st_mode) || st.st_rdev != own.st_rdev) continue;
    if (dup3(null.get(), fd, 0) < 0) Fail(object + " fd " + std::to_string(fd), "dup3", errno);
  }
}

void OpNoNewPrivs(const Args&) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) Fail("noNewPrivs", "prctl", errno);
}

// The planner refuses ids above 2^31-1 (runc's range); checked here again because a
// uid of (uid_t)-1 would make setuid fail with a less clear EINVAL.
static uint32_t ParseId(const std::string& text, const std::string& object) {
  uint64_t id = ParseU64(text, object);
  if (id > 0x7fffffff) FailMessage(object + ": uids and gids must be in range 0-2147483647");
  return static_cast<uint32_t>(id);
}

void OpKeepGroups(const Args&) { ctx.keepGroups = true; }

void OpCredentials(const Args& a) {
  std::string object = "credentials " + a[0] + ":" + a[1];
  uid_t uid = ParseId(a[0], object);
  gid_t gid = ParseId(a[1], object);
  uint64_t bounding = ParseU64(a[2], object);
  uint64_t effective = ParseU64(a[3], object);
  uint64_t permitted = ParseU64(a[4], object);
  uint64_t inheritable = ParseU64(a[5], object);
  uint64_t ambient = ParseU64(a[6], object);
  std::vector<gid_t> groups;
  for (size_t i = 7; i < a.size(); i++) groups.push_back(ParseId(a[i], object));

  // The bounding set is dropped while we still hold CAP_SETPCAP; PR_CAPBSET_READ
  // failing with EINVAL marks the first capability this kernel does not know.
  for (int cap = 0; cap < 64; cap++) {
    int has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (has < 0) {
      if (errno == EINVAL) break;
      Fail(object, "prctl(PR_CAPBSET_READ)", errno);
    }
    if (has && !(bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      Fail(object + " (bounding cap " + std::to_string(cap) + ")", "prctl(PR_CAPBSET_DROP)", errno);
  }
  // Keep the permitted set across the uid change, then set the exact sets below.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) Fail(object, "prctl(PR_SET_KEEPCAPS)", errno);
  if (ctx.keepGroups) {
    if (!groups.empty()) FailMessage(object + ": supplementary groups with keepGroups");
  } else if (setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && SetgroupsDenied())) {
    Fail(object, "setgroups", errno);
  }
  // setgid and setuid, not setres*id: as root they set the real, effective and saved
  // ids alike, and they are the calls runc makes, so that a seccomp profile loaded
  // before this (noNewPrivileges false) allows or denies the same switch for both.
  if (setgid(gid) < 0) Fail(object, "setgid", errno);
  if (setuid(uid) < 0) Fail(object, "setuid", errno);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) Fail(object, "prctl(PR_SET_KEEPCAPS)", errno);
  if (!ctx.cwdAfterCredentials.empty()) {
    ChdirChecked(ctx.cwdAfterCredentials);
    ctx.cwdAfterCredentials.clear();
  }

  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) < 0) Fail(object, "capset", errno);

  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) Fail(object, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno);
  for (int cap = 0; cap < 64; cap++) {
    if (!(ambient & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      Fail(object + " (ambient cap " + std::to_string(cap) + ")", "prctl(PR_CAP_AMBIENT_RAISE)", errno);
  }
}

}  // namespace init
