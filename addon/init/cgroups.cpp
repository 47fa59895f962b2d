// Joining the container's cgroups from inside the init. A process moving itself needs
// none of the kernel's global threadgroup lock that a write of another process's pid
// into cgroup.procs takes (for a v1 `tasks` write since Linux 6.0, "cgroup: Optimize
// single thread migration"; for a child born into its cgroup by clone3 always), and
// the first taking of that lock waits for an RCU grace period: 5 to 16 ms measured on
// this project's test machine, the largest single cost of a `run` when tsrun's parent
// process did the writes.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

namespace init {

namespace {

// clone3's argument, version 2 (Linux 5.7, which added `cgroup`), spelled out here so
// that the build does not depend on the kernel headers' age.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t childTid;
  uint64_t parentTid;
  uint64_t exitSignal;
  uint64_t stack;
  uint64_t stackSize;
  uint64_t tls;
  uint64_t setTid;
  uint64_t setTidSize;
  uint64_t cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

int OpenCgroupDir(const std::string& object, const std::string& dir, long magic) {
  int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail(object, "open", errno);
  Fd owned(fd);
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) Fail(object, "fstatfs", errno);
  if (sfs.f_type != magic) FailMessage(object + ": " + dir + " is not on a " + (magic == CGROUP2_SUPER_MAGIC ? "cgroup2" : "cgroup") + " filesystem");
  return owned.release();
}

// Opens `file` of the cgroup dirFd for writing. The kernel judges a later move by
// the credentials of this open, not of the writer (Linux 5.16, "cgroup: Use open-time
// credentials for process migraton perm checks"; before it, a v1 move of oneself
// needed only the open): a child that has entered a user namespace by then still
// joins with this fd.
int OpenCgroupFile(const std::string& object, int dirFd, const char* file) {
  int fd = openat(dirFd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    Fail(object, (std::string("open ") + file).c_str(), err);
  }
  return fd;
}

// Writes `pid` into the open cgroup file `fd` (named `file` in messages).
void WritePidTo(const std::string& object, int fd, const char* file, const std::string& pid) {
  ssize_t n;
  do {
    n = write(fd, pid.data(), pid.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    Fail(object, (std::string("write ") + file).c_str(), err);
  }
  // The kernel takes a pid in one write or not at all; anything else is not a move.
  if (static_cast<size_t>(n) != pid.size()) Fail(object, (std::string("write ") + file).c_str(), EIO);
}

void WritePid(const std::string& object, int dirFd, const char* file, const std::string& pid) {
  Fd fd(OpenCgroupFile(object, dirFd, file));
  WritePidTo(object, fd.get(), file, pid);
}

// The file a process moves itself into a v1 cgroup through: `tasks` (no global lock),
// or, in a cgroup delegated to an unprivileged user with only cgroup.procs made
// writable for it, that (lock and all).
const char* V1JoinFile(int dirFd) {
  if (faccessat(dirFd, "tasks", W_OK, AT_EACCESS) < 0 && (errno == EACCES || errno == EPERM)) return "cgroup.procs";
  return "tasks";
}

// pids.current and pids.max of `dir` and of each ancestor that has them (the root of
// the hierarchy has none), opened now, before any namespace op; none outside the
// pids hierarchy.
std::vector<PidsLimit> OpenPidsLimits(const std::string& object, const std::string& dir) {
  std::vector<PidsLimit> limits;
  std::string d = dir;
  // A cgroup tree is not deep; the bound only guards the walk.
  for (int depth = 0; depth < 64 && d.size() > 1; depth++) {
    int maxFd = open((d + "/pids.max").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (maxFd < 0) {
      if (errno == ENOENT) break;
      Fail(object, "open pids.max", errno);
    }
    Fd max(maxFd);
    struct statfs sfs;
    if (fstatfs(maxFd, &sfs) < 0) Fail(object, "fstatfs", errno);
    if (sfs.f_type != CGROUP_SUPER_MAGIC) break;
    int currentFd = open((d + "/pids.current").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (currentFd < 0) Fail(object, "open pids.current", errno);
    limits.push_back({d, currentFd, max.release()});
    d = d.substr(0, d.rfind('/'));
  }
  return limits;
}

void ClosePidsLimits(std::vector<PidsLimit>* limits) {
  for (const PidsLimit& l : *limits) {
    ForceClose(l.currentFd);
    ForceClose(l.maxFd);
  }
  limits->clear();
}

// The first line of a pids file read through fd, without its newline.
std::string ReadPidsCount(const std::string& object, int fd, const char* file) {
  char buf[32];
  ssize_t n;
  do {
    n = pread(fd, buf, sizeof buf - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) Fail(object, (std::string("read ") + file).c_str(), errno);
  std::string text(buf, static_cast<size_t>(n));
  return text.substr(0, text.find('\n'));
}

// Fails when a pids cgroup of `limits` (the joined one or an ancestor) holds more than
// its pids.max tasks once `coming` more are in it: the kernel refuses a fork in the
// cgroup then, but not a move into it.
void RequirePidsRoom(const std::vector<PidsLimit>& limits, uint64_t coming) {
  for (const PidsLimit& l : limits) {
    const std::string object = "cgroup " + l.dir;
    const std::string max = ReadPidsCount(object, l.maxFd, "pids.max");
    if (max == "max") continue;
    const std::string current = ReadPidsCount(object, l.currentFd, "pids.current");
    if (ParseU64(current, object + " pids.current") + coming <= ParseU64(max, object + " pids.max")) continue;
    FailMessage(object + ": the pids limit is reached (pids.max " + max + ", pids.current " + current + (coming == 0 ? " with this process)" : ")"));
  }
}

// "0" names the writer: the kernel moves the calling thread, which in this
// single-threaded program is the whole process.
constexpr const char* kSelf = "0";

}  // namespace

// v1: joined at once through `tasks`. v1AtFork: the file is opened now, with the
// credentials the init has before any namespace, and the next `fork`'s child joins
// through it (the pids hierarchy: an intermediate in it would count as one more task,
// so a container at pids.max - 1, or a limit of 1, would refuse the fork). v2 has no
// such file for a process entering a new cgroup: the dir is kept for the next `fork`,
// whose child is born in it.
void OpCgroup(const Args& a) {
  const std::string& kind = a[0];
  const std::string& dir = a[1];
  std::string object = "cgroup " + dir;
  if (kind == "v1" || kind == "v1AtFork") {
    Fd dirFd(OpenCgroupDir(object, dir, CGROUP_SUPER_MAGIC));
    const char* file = V1JoinFile(dirFd.get());
    std::vector<PidsLimit> limits = OpenPidsLimits(object, dir);
    if (kind == "v1") {
      RequirePidsRoom(limits, 1);
      WritePid(object, dirFd.get(), file, kSelf);
      // Another joiner since the check: this one goes (its plan fails).
      RequirePidsRoom(limits, 0);
      ClosePidsLimits(&limits);
      return;
    }
    Fd joinFd(OpenCgroupFile(object, dirFd.get(), file));
    ctx.atForkCgroups.push_back({joinFd.release(), dir, file, std::move(limits)});
    return;
  }
  if (kind != "v2") FailMessage(object + ": unknown cgroup kind \"" + kind + "\"");
  if (ctx.forkCgroupFd >= 0) FailMessage(object + ": a second v2 cgroup before the fork");
  ctx.forkCgroupFd = OpenCgroupDir(object, dir, CGROUP2_SUPER_MAGIC);
  ctx.forkCgroupDir = dir;
}

// Before the fork: a full pids cgroup fails the exec here, with no child left behind
// (one that failed after its move would stay a zombie of the container's init).
void CheckPidsRoomAtFork() {
  for (const AtForkCgroup& c : ctx.atForkCgroups) RequirePidsRoom(c.pidsLimits, 1);
}

void JoinCgroupsAtFork() {
  for (const AtForkCgroup& c : ctx.atForkCgroups) {
    WritePidTo("cgroup " + c.dir, c.fd, c.file.c_str(), kSelf);
    // Counted now: another exec that got in since the check above leaves this one
    // over the limit, and it goes, as a v2 clone3 into a full cgroup fails.
    RequirePidsRoom(c.pidsLimits, 0);
  }
  CloseCgroupsAtFork();
}

void CloseCgroupsAtFork() {
  for (AtForkCgroup& c : ctx.atForkCgroups) {
    ForceClose(c.fd);
    ClosePidsLimits(&c.pidsLimits);
  }
  ctx.atForkCgroups.clear();
}

pid_t ForkIntoCgroup() {
  if (ctx.forkCgroupFd < 0) {
    pid_t child = fork();
    if (child < 0) Fail("fork", "fork", errno);
    return child;
  }
  std::string object = "fork into cgroup " + ctx.forkCgroupDir;
  CloneArgs args = {};
  args.flags = kCloneIntoCgroup;
  args.exitSignal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(ctx.forkCgroupFd);
  // Like fork(): the child returns 0 on the same stack. glibc's fork handlers do not
  // run, and this program registers none.
  const char* syscallName = "clone3";
  long child = syscall(SYS_clone3, &args, sizeof args);
  // ENOSYS or E2BIG: a kernel before 5.7, without CLONE_INTO_CGROUP. EPERM: a seccomp
  // profile of the container tsrun itself runs in that refuses clone3 (older Docker
  // defaults did); a real lack of permission shows again at the child's own write.
  bool fellBack = false;
  if (child < 0 && (errno == ENOSYS || errno == E2BIG || errno == EPERM)) {
    syscallName = "fork";
    child = fork();
    fellBack = true;
  }
  if (child < 0) {
    int err = errno;
    Fail(object, syscallName, err);
  }
  // After a plain fork the intermediate places the child (paying the lock this op
  // exists to avoid) before it reports the pid: the parent takes the `pid` message
  // to mean the process is in all its cgroups (exec releases the container's lock
  // there). The child waits for that message's go-ahead before it does anything.
  if (child > 0 && fellBack) WritePid(object, ctx.forkCgroupFd, "cgroup.procs", std::to_string(child));
  // Both drop the host's cgroup dir at once: the child now shows in the container's
  // pid namespace, where a process with CAP_SYS_PTRACE could reach the host's tree
  // through /proc/<pid>/fd.
  ForceClose(ctx.forkCgroupFd);
  ctx.forkCgroupFd = -1;
  return static_cast<pid_t>(child);
}

}  // namespace init
