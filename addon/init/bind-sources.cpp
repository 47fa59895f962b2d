// Bind sources of a container with a user namespace. By the time the init binds them
// it is root of that namespace only, and a source in a directory the host's root
// keeps to itself (0700, as volume directories often are) is out of its reach. So a
// helper forked while the init is still the host's root joins the container's mount
// namespace once it exists, opens each source there (O_PATH) and passes the fds
// back, as runc's parent does with its mount source fds. Opened in that namespace,
// they name its own copies of the host's mounts: a bind from them keeps the locks the
// kernel put on those copies (read-only, nosuid, ... and the submounts), which a
// tree cloned in the host's namespace would not carry.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/send-fd.hpp"
#include "init.hpp"

namespace init {

namespace {

// One message from `sock`, with the fd it carries (-1: none). False at EOF or error.
bool ReceiveWithFd(int sock, std::string* text, int* fd) {
  char buf[256];
  ssize_t n = tsrun_common::ReceiveFd(sock, buf, sizeof buf, fd);
  if (n <= 0) return false;
  text->assign(buf, static_cast<size_t>(n));
  return true;
}

void SendText(int sock, const std::string& text) {
  ssize_t n;
  do {
    n = send(sock, text.data(), text.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
}

// The helper's whole life: the namespace's fd, then one answer per source ("ok" with
// its fd, or "<syscall> <errno>"), then exit.
[[noreturn]] void RunHelper(int sock) {
  std::string text;
  int ns = -1;
  if (!ReceiveWithFd(sock, &text, &ns) || ns < 0) _exit(1);  // the init went away
  if (setns(ns, CLONE_NEWNS) < 0) {
    SendText(sock, "setns " + std::to_string(errno));
    _exit(1);
  }
  for (const auto& [index, source] : ctx.bindSources) {
    int fd = open(source.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      SendText(sock, "open " + std::to_string(errno));
      _exit(1);
    }
    if (tsrun_common::SendFd(sock, "ok", 2, fd) < 0) _exit(1);
    close(fd);
  }
  _exit(0);
}

}  // namespace

// `sourceHelper index source [index source ...]`, planned while the init is still the
// host's root, before any user namespace.
void OpSourceHelper(const Args& a) {
  if (a.size() % 2 != 0 || a.empty()) FailMessage("sourceHelper: index and source pairs expected");
  if (ctx.sourceHelperPid > 0) FailMessage("sourceHelper: a second helper");
  for (size_t i = 0; i < a.size(); i += 2) ctx.bindSources.emplace_back(ParseU64(a[i], "sourceHelper"), a[i + 1]);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) Fail("sourceHelper", "socketpair", errno);
  pid_t child = fork();
  if (child < 0) Fail("sourceHelper", "fork", errno);
  if (child == 0) {
    ForceClose(sv[0]);
    RunHelper(sv[1]);
  }
  ForceClose(sv[1]);
  ctx.sourceHelperPid = child;
  ctx.sourceHelperSock = sv[0];
}

// `openSources`, right after the container's mount namespace is made: the helper
// opens every source there.
void OpOpenSources(const Args&) {
  if (ctx.sourceHelperPid <= 0) FailMessage("openSources: no sourceHelper before it");
  {
    Fd ns(open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ns) Fail("openSources: /proc/self/ns/mnt", "open", errno);
    if (tsrun_common::SendFd(ctx.sourceHelperSock, "ns", 2, ns.get()) < 0) Fail("openSources", "sendmsg", errno);
  }
  for (const auto& [index, source] : ctx.bindSources) {
    const std::string object = "mount " + source;
    std::string text;
    int fd = -1;
    if (!ReceiveWithFd(ctx.sourceHelperSock, &text, &fd)) FailMessage(object + ": the helper opening bind sources ended without an answer");
    if (fd < 0) {
      size_t space = text.find(' ');
      int err = space == std::string::npos ? 0 : atoi(text.c_str() + space + 1);
      std::string syscall = space == std::string::npos ? text : text.substr(0, space);
      Fail(object, syscall.c_str(), err);
    }
    ctx.sourceFds[index] = fd;
  }
  ForceClose(ctx.sourceHelperSock);
  ctx.sourceHelperSock = -1;
  while (waitpid(ctx.sourceHelperPid, nullptr, 0) < 0 && errno == EINTR) {
  }
  ctx.sourceHelperPid = -1;
}

int TakeSourceFd(const std::string& object, uint64_t index) {
  return TakeKeptFd(&ctx.sourceFds, index, object, "no source fd " + std::to_string(index) + " was opened");
}

}  // namespace init
