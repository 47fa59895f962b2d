// Messages to the parent over the SOCK_SEQPACKET sync socket, and error reporting.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include <sys/uio.h>
#include "../common/send-fd.hpp"
#include "init.hpp"

namespace init {

int ForceClose(int fd) {
  // EINTR from close still released the fd on Linux; retrying could close a reused number.
  return close(fd);
}

int TakeKeptFd(std::map<uint64_t, int>* fds, uint64_t index, const std::string& object, const std::string& missing) {
  auto it = fds->find(index);
  if (it == fds->end()) FailMessage(object + ": " + missing);
  int fd = it->second;
  fds->erase(it);
  return fd;
}

// write(2) and read(2), never send(2) or recv(2): once a seccomp profile is loaded
// (before the credentials, when noNewPrivileges is false, as with runc) these are the
// calls every program needs, and so every profile allows; a profile recorded from a
// workload need not list sendto or recvfrom. On the SOCK_SEQPACKET socket each call
// is still one whole message.
bool SendMessage(const std::string& message) {
  if (ctx.syncFd < 0) return false;
  ssize_t n;
  do {
    n = write(ctx.syncFd, message.data(), message.size());
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(message.size());
}

bool ReceiveMessage(std::string* message) {
  if (ctx.syncFd < 0) return false;
  // PROTOCOL.md bounds the parent's messages at 1 MiB (an `ack` may carry the state
  // JSON); one byte more tells a longer one, which read(2) would cut short without a
  // word. Not zero-filled: only what arrives is touched.
  const size_t limit = 1024 * 1024;
  std::unique_ptr<char[]> buf(new char[limit + 1]);
  ssize_t n;
  do {
    n = read(ctx.syncFd, buf.get(), limit + 1);
  } while (n < 0 && errno == EINTR);
  if (n <= 0 || static_cast<size_t>(n) > limit) return false;
  message->assign(buf.get(), static_cast<size_t>(n));
  return true;
}

// The parent died (a crash, a SIGKILL): nobody is left to tell, and the caller's
// stderr, which the container shares, is no place for it. Stop, as at EOF in `sync`.
bool ParentGone(int err) { return err == EPIPE || err == ECONNRESET || err == ENOTCONN; }

void SendOrStop(const std::string& message, const std::string& object) {
  if (SendMessage(message)) return;
  int err = ctx.syncFd < 0 ? EBADF : errno;
  if (ParentGone(err)) _exit(1);
  Fail(object, "write", err);
}

bool ReportToStart(const std::string& text) {
  if (ctx.startFd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(ctx.startFd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void FailMessage(const std::string& full) {
  // A message quotes its object (a path, a name from config.json), which may be
  // huge: keep it to one packet of the sync socket and a readable line.
  const size_t limit = 4096;
  std::string message = full.size() <= limit ? full : full.substr(0, limit / 2) + "..." + full.substr(full.size() - limit / 2);
  // To whoever waits for this init: create or run on the sync socket, or, after
  // `waitFifo`, start on the exec FIFO (`e` then the message), which fails with it.
  // With neither (the socket closed by `closeSync`, start gone) nobody reads them:
  // stderr is the only place left where the message can be seen.
  if (!SendMessage("error " + message) && !ReportToStart("e" + message)) {
    std::string line = "tsrun-init: " + message + "\n";
    (void)!write(2, line.data(), line.size());
  }
  _exit(1);
}

void Fail(const std::string& object, const char* syscall, int err) {
  FailMessage(object + ": " + syscall + ": " + ErrnoText(err));
}

void OpSync(const Args& a) {
  SendOrStop("sync " + a[0], "sync " + a[0]);
  std::string reply;
  // Anything but "ack" (normally "abort", or EOF when the parent died) means: stop here,
  // quietly, because the parent already knows why.
  if (!ReceiveMessage(&reply)) _exit(1);
  // `ack <payload>`: the parent hands over the state JSON for the `hook` ops that follow.
  if (reply.compare(0, 4, "ack ") == 0) ctx.hookState = reply.substr(4);
  else if (reply != "ack") _exit(1);
}

void OpNotify(const Args& a) { SendOrStop("notify " + a[0], "notify " + a[0]); }

void OpCloseSync(const Args&) {
  if (ctx.syncFd >= 0) ForceClose(ctx.syncFd);
  ctx.syncFd = -1;
}

void SendFd(int sock, const std::string& payload, int fd, const std::string& object) {
  if (tsrun_common::SendFd(sock, payload.data(), payload.size(), fd) >= 0) return;
  int err = errno;
  // To tsrun over the sync socket: as SendOrStop. (A console socket's reader is
  // someone else, and its going away is an error to report.)
  if (sock == ctx.syncFd && ParentGone(err)) _exit(1);
  Fail(object, "sendmsg", err);
}

}  // namespace init
