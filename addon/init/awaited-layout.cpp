// `tsrun-init --await <sock>`: spawned ahead of its plan (addon/native/
// init-spawned-ahead.cpp), the init waits on the socket for the fds that posix_spawn
// would otherwise have put in place, and puts them in place itself (PROTOCOL.md,
// "Spawned ahead"): from then on it is an init like any other.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "init.hpp"

namespace init {

namespace {

constexpr uint32_t kLayoutMagic = 0x74736c61;  // "tsla", as the addon sends it
constexpr size_t kMaxFds = 253;                 // SCM_MAX_FD

struct LayoutHeader {
  uint32_t magic;
  uint32_t preserve;
  uint32_t extra;
};

void CloseAll(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

// Moves each fd to its number: all of them above every target first, so that no dup2
// overwrites a source still to be moved (as the addon's DupAbove does for posix_spawn),
// then each onto its target (dup2 leaves it without FD_CLOEXEC, as posix_spawn's
// dup2 actions do), then the copies closed.
void MoveTo(std::vector<int> fds, const std::vector<int>& targets, int limit) {
  for (int& fd : fds) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, limit);
    if (high < 0) Fail("awaited fds", "fcntl(F_DUPFD_CLOEXEC)", errno);
    close(fd);
    fd = high;
    if (&fd == &fds.back()) ctx.syncFd = high;  // the socket comes last: errors still reach tsrun
  }
  for (size_t i = 0; i < fds.size(); i++) {
    if (dup2(fds[i], targets[i]) < 0) Fail("awaited fd " + std::to_string(targets[i]), "dup2", errno);
  }
  ctx.syncFd = targets.back();
  for (int fd : fds) close(fd);
}

}  // namespace

bool AwaitLayout(int sock) {
  ctx.syncFd = sock;
  LayoutHeader header{};
  iovec iov{&header, sizeof header};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * kMaxFds), 0);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return false;  // tsrun did not need this init
  if (n < 0) {
    if (ParentGone(errno)) return false;
    Fail("awaited fds", "recvmsg", errno);
  }
  std::vector<int> received;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(c);
    for (size_t i = 0; i < count; i++) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      received.push_back(fd);
    }
  }
  if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 || n != static_cast<ssize_t>(sizeof header) || header.magic != kLayoutMagic ||
      header.preserve > kMaxFds || header.extra > kMaxFds || received.size() != 4 + header.preserve + header.extra) {
    CloseAll(received);
    FailMessage("awaited fds: a malformed layout message (" + std::to_string(received.size()) + " fds)");
  }
  // As sent: plan, stdio 0-2, the preserved fds, the extra fds. Their numbers
  // (PROTOCOL.md): 0-2, 3..B-1 preserved, B plan, B+1 this socket, B+2.. extra.
  const int base = 3 + static_cast<int>(header.preserve);
  const int limit = base + 2 + static_cast<int>(header.extra);
  std::vector<int> targets;
  std::vector<int> fds;
  for (size_t i = 1; i < 4 + header.preserve; i++) {
    fds.push_back(received[i]);
    targets.push_back(static_cast<int>(i) - 1);
  }
  fds.push_back(received[0]);
  targets.push_back(base);
  for (size_t k = 0; k < header.extra; k++) {
    fds.push_back(received[4 + header.preserve + k]);
    targets.push_back(base + 2 + static_cast<int>(k));
  }
  fds.push_back(sock);
  targets.push_back(base + 1);
  MoveTo(fds, targets, limit);
  ctx.planFd = base;
  return true;
}

}  // namespace init
