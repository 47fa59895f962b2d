// The `seccomp` op: load a BPF program the addon built with libseccomp, with the
// seccomp(2) syscall. Everything this file does after the load is itself filtered,
// so it makes as few syscalls as possible: with a listener, one write (and one
// sendmsg for an unprivileged parent), one read and one close.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

namespace init {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `pidfd`: the parent copies the listener out of this process (pidfd_getfd), told
// only its number: a write, the one syscall a NOTIFY rule may not name (as with runc).
// `sendmsg` (an unprivileged parent, which may not reach into this process): the fd
// goes in a packet of its own, and the planner refused NOTIFY on sendmsg.
void SendListenerFd(int listener, bool byPidfd) {
  const std::string object = "seccomp listener";
  if (byPidfd) {
    SendOrStop("seccomp listener " + std::to_string(listener), object);
  } else {
    SendOrStop("seccomp listener", object);
    SendFd(ctx.syncFd, "fd", listener, object);
  }
  std::string reply;
  // The parent answers once the listener has the fd; anything else: it already knows why.
  if (!ReceiveMessage(&reply) || reply != "ack") _exit(1);
}

}  // namespace

void OpSeccomp(const Args& a) {
  const std::string object = "seccomp";
  uint64_t flags = ParseU64(a[0], object + " flags");
  const std::string& hex = a[1];
  const std::string& handover = a[2];
  if (handover != "pidfd" && handover != "sendmsg") FailMessage("plan: op seccomp: unknown listener handover \"" + handover + "\"");
  if (hex.size() % (2 * sizeof(struct sock_filter)) != 0 || hex.empty())
    FailMessage(object + ": program is not a whole number of BPF instructions");
  std::vector<struct sock_filter> program(hex.size() / (2 * sizeof(struct sock_filter)));
  unsigned char* bytes = reinterpret_cast<unsigned char*>(program.data());
  for (size_t i = 0; i < hex.size() / 2; i++) {
    int hi = HexDigit(hex[2 * i]), lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) FailMessage(object + ": program is not hexadecimal");
    bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  if (program.size() > BPF_MAXINSNS) FailMessage(object + ": program has more than " + std::to_string(BPF_MAXINSNS) + " instructions");
  struct sock_fprog prog = {static_cast<unsigned short>(program.size()), program.data()};
  MarkInheritedFdsCloseOnExec();
  PrepareProcessForExec();
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, static_cast<unsigned int>(flags), &prog);
  if (rc < 0) Fail(object, "seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    int listener = static_cast<int>(rc);
    SendListenerFd(listener, handover == "pidfd");
    ForceClose(listener);
  }
}

}  // namespace init
