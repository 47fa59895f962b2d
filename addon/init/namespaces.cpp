// Namespaces, the intermediate fork, and UTS names.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.hpp"

namespace init {

// A path /proc/self/fd/<n> (exec's namespaces, opened by the parent) is taken as fd n
// itself: once the container's mount namespace is joined, /proc is the container's,
// where this process, not yet in its pid namespace, has no /proc/self.
void OpSetns(const Args& a) {
  std::string object = "setns " + a[1];
  int nstype = static_cast<int>(ParseU64(a[0], object));
  const std::string kFdPrefix = "/proc/self/fd/";
  const std::string digits = a[1].compare(0, kFdPrefix.size(), kFdPrefix) == 0 ? a[1].substr(kFdPrefix.size()) : "";
  if (!digits.empty() && digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos) {
    if (setns(static_cast<int>(ParseU64(digits, object)), nstype) < 0) Fail(object, "setns", errno);
    return;
  }
  int fd = open(a[1].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail(object, "open", errno);
  if (setns(fd, nstype) < 0) Fail(object, "setns", errno);
  ForceClose(fd);
}

void OpUnshare(const Args& a) {
  std::string object = "unshare " + a[0];
  int flags = static_cast<int>(ParseU64(a[0], object));
  if (unshare(flags) < 0) Fail(object, "unshare", errno);
}

void OpBecomeRoot(const Args&) {
  if (setresgid(0, 0, 0) < 0) Fail("becomeRoot", "setresgid", errno);
  if (setresuid(0, 0, 0) < 0) Fail("becomeRoot", "setresuid", errno);
}

// Joining or creating a PID namespace only affects children, hence the fork (also
// the way into a v2 cgroup, see cgroups.cpp). The child must not send anything
// before the parent has read "pid <n>", so it waits for the intermediate's
// go-ahead on a pipe; then it joins its `cgroup v1AtFork` cgroups, first of all.
// The intermediate does not wait for that join: a container process that sees the
// child appear in its pid namespace may stop it (SIGSTOP), and the parent, without
// its pid, could then neither kill it nor let go of the container's lock.
void OpFork(const Args&) {
  CheckPidsRoomAtFork();
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) Fail("fork", "pipe2", errno);
  pid_t child = ForkIntoCgroup();
  if (child == 0) {
    ForceClose(gate[1]);
    char go;
    ssize_t n;
    do {
      n = read(gate[0], &go, 1);
    } while (n < 0 && errno == EINTR);
    // EOF: the intermediate died before it could report us; the parent cannot know
    // our pid, so going on would leave an unmanaged process.
    if (n != 1) _exit(1);
    ForceClose(gate[0]);
    JoinCgroupsAtFork();
    ctx.sourceHelperPid = -1;  // the intermediate's child: it reaps it
    return;
  }
  ForceClose(gate[0]);
  CloseCgroupsAtFork();
  // SendOrStop's rule, with the gate closed first.
  if (!SendMessage("pid " + std::to_string(child))) {
    int err = ctx.syncFd < 0 ? EBADF : errno;
    ForceClose(gate[1]);  // the child sees EOF and exits
    if (ParentGone(err)) _exit(1);
    Fail("fork", "write", err);
  }
  ssize_t n;
  do {
    n = write(gate[1], "1", 1);
  } while (n < 0 && errno == EINTR);
  // A bind source helper lives on until the child's last bind (`closeSources`), or
  // its end: reaped here, its parent, rather than left to whoever reaps orphans (a
  // shim or conmon would take its exit for the container's). The parent reaps this
  // process only once the init is ready, after the binds.
  ReapSourceHelper();
  _exit(n == 1 ? 0 : 1);
}

void OpHostname(const Args& a) {
  if (sethostname(a[0].data(), a[0].size()) < 0) Fail("hostname " + a[0], "sethostname", errno);
}

void OpDomainname(const Args& a) {
  if (setdomainname(a[0].data(), a[0].size()) < 0) Fail("domainname " + a[0], "setdomainname", errno);
}

}  // namespace init
