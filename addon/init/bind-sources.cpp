// Bind sources of a container with a user namespace. By the time the init binds them
// it is root of that namespace only, and a source in a directory the host's root
// keeps to itself (0700, as volume directories often are) is out of its reach. So a
// helper forked while the init is still the host's root joins the container's mount
// namespace once it exists and, asked at each bind in turn, opens that bind's source
// there (O_PATH) and passes the fd back, as runc's parent does with its mount source
// fds. Opened in that namespace, they name its own copies of the host's mounts: a
// bind from them keeps the locks the kernel put on those copies (read-only, nosuid,
// ... and the submounts), which a tree cloned in the host's namespace would not
// carry. It makes id-mapped trees there too (idmap.cpp), which the init may no
// longer do. Asked only when its bind comes, it finds a source inside the rootfs with
// the mounts made before it in place (a bind of the rootfs's /mnt after a volume was
// bound there shows the volume), as runc opens them.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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

// The helper's answer to the init's last message: its text, and the fd it carries
// (returned; -1: none). A failed receive fails `object` with its errno; the end of the
// socket, saying so (the helper has exited, its error message sent before if any).
int ReadAnswer(const std::string& object, std::string* text) {
  char buf[256];
  int fd = -1;
  ssize_t n = tsrun_common::ReceiveFd(ctx.sourceHelperSock, buf, sizeof buf, &fd);
  if (n < 0) Fail(object + ": the source helper's answer", "recvmsg", errno);
  if (n == 0) FailMessage(object + ": the source helper ended without an answer");
  text->assign(buf, static_cast<size_t>(n));
  return fd;
}

ssize_t SendText(int sock, const std::string& text) {
  ssize_t n;
  do {
    n = send(sock, text.data(), text.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

// One "<syscall> <errno>" answer read back into a failure of `object`.
[[noreturn]] void FailAnswer(const std::string& object, const std::string& text) {
  size_t space = text.find(' ');
  int err = space == std::string::npos ? 0 : atoi(text.c_str() + space + 1);
  std::string syscall = space == std::string::npos ? text : text.substr(0, space);
  Fail(object, syscall.c_str(), err);
}

// The source of mount `index`, or null.
const std::string* SourceOf(uint64_t index) {
  for (const auto& [i, path] : ctx.bindSources) {
    if (i == index) return &path;
  }
  return nullptr;
}

// One request: "open <index>" (the source, O_PATH) or, with the mapping's user
// namespace attached, "idmap <index> <cloneBelow> <mapBelow>" (an id-mapped detached
// clone of it). The fd made, or -1 with *failure set to "<syscall> <errno>".
int Serve(const std::string& request, int userns, std::string* failure) {
  char verb[8] = {};
  unsigned long long index = 0;
  int cloneBelow = 0, mapBelow = 0;
  const int fields = sscanf(request.c_str(), "%7s %llu %d %d", verb, &index, &cloneBelow, &mapBelow);
  const std::string* source = fields >= 2 ? SourceOf(index) : nullptr;
  const std::string what = verb;
  if (source != nullptr && what == "open" && fields == 2) {
    int fd = open(source->c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) *failure = "open " + std::to_string(errno);
    return fd;
  }
  if (source != nullptr && what == "idmap" && fields == 4 && userns >= 0) {
    IdmappedTree made = MakeIdmappedTree(*source, cloneBelow == 1, mapBelow == 1, userns);
    if (made.fd < 0) *failure = std::string(made.syscall) + " " + std::to_string(made.err);
    return made.fd;
  }
  *failure = "request " + std::to_string(EINVAL);
  return -1;
}

// The helper's whole life: the namespace's fd, answered "ok" once joined; then one
// answer per request (Serve): "ok" with the fd, or "<syscall> <errno>" and exit. It
// exits at "done", or when every holder of the init's end has gone.
[[noreturn]] void RunHelper(int sock) {
  std::string text;
  int ns = -1;
  if (!ReceiveWithFd(sock, &text, &ns) || ns < 0) _exit(1);  // the init went away
  if (setns(ns, CLONE_NEWNS) < 0) {
    SendText(sock, "setns " + std::to_string(errno));
    _exit(1);
  }
  close(ns);
  SendText(sock, "ok");
  for (;;) {
    int userns = -1;
    if (!ReceiveWithFd(sock, &text, &userns) || text == "done") _exit(0);
    std::string failure;
    int fd = Serve(text, userns, &failure);
    if (userns >= 0) close(userns);
    if (fd < 0) {
      SendText(sock, failure);
      _exit(1);
    }
    if (tsrun_common::SendFd(sock, "ok", 2, fd) < 0) _exit(1);
    close(fd);
  }
}

}  // namespace

// `sourceHelper index source [index source ...]`, planned while the init is still the
// host's root, before any user namespace.
void OpSourceHelper(const Args& a) {
  if (a.size() % 2 != 0 || a.empty()) FailMessage("sourceHelper: index and source pairs expected");
  if (ctx.sourceHelperSock >= 0 || !ctx.bindSources.empty()) FailMessage("sourceHelper: a second helper");
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
// joins it, and says so.
void OpOpenSources(const Args&) {
  if (ctx.sourceHelperSock < 0) FailMessage("openSources: no sourceHelper before it");
  {
    Fd ns(open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    if (!ns) Fail("openSources: /proc/self/ns/mnt", "open", errno);
    if (tsrun_common::SendFd(ctx.sourceHelperSock, "ns", 2, ns.get()) < 0) Fail("openSources", "sendmsg", errno);
  }
  std::string text;
  int fd = ReadAnswer("openSources", &text);
  if (fd >= 0) close(fd);
  if (text != "ok") FailAnswer("openSources: join the container's mount namespace", text);
}

namespace {

// Asks the helper for something of mount `index` (a request as Serve reads it, with
// an fd or -1) and returns the fd it answers with; a refusal fails `object`.
int AskHelper(const std::string& object, uint64_t index, const std::string& request, int fd) {
  if (ctx.sourceHelperSock < 0) FailMessage(object + ": no source helper to ask for " + request);
  if (SourceOf(index) == nullptr) FailMessage(object + ": the source helper was given no source " + std::to_string(index));
  if (fd >= 0) {
    if (tsrun_common::SendFd(ctx.sourceHelperSock, request.data(), request.size(), fd) < 0) Fail(object + ": ask the source helper", "sendmsg", errno);
  } else if (SendText(ctx.sourceHelperSock, request) < 0) {
    Fail(object + ": ask the source helper", "send", errno);
  }
  std::string text;
  int answer = ReadAnswer(object, &text);
  if (answer < 0) FailAnswer(object, text);
  return answer;
}

}  // namespace

int TakeSourceFd(const std::string& object, uint64_t index) {
  return AskHelper(object, index, "open " + std::to_string(index), -1);
}

int IdmappedTreeFromHelper(const std::string& object, uint64_t index, bool cloneBelow, bool mapBelow, int userns) {
  return AskHelper(object, index, "idmap " + std::to_string(index) + (cloneBelow ? " 1" : " 0") + (mapBelow ? " 1" : " 0"), userns);
}

// `closeSources`, after the last bind: the helper is let go, and reaped when it is
// this process's child (without a `fork` since `sourceHelper`; after one, the
// intermediate reaps it, ReapSourceHelper).
void OpCloseSources(const Args&) {
  if (ctx.sourceHelperSock < 0) FailMessage("closeSources: no sourceHelper before it");
  SendText(ctx.sourceHelperSock, "done");
  ReapSourceHelper();
}

void ReapSourceHelper() {
  if (ctx.sourceHelperSock >= 0) ForceClose(ctx.sourceHelperSock);
  ctx.sourceHelperSock = -1;
  if (ctx.sourceHelperPid > 0) {
    while (waitpid(ctx.sourceHelperPid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  ctx.sourceHelperPid = -1;
}

}  // namespace init
