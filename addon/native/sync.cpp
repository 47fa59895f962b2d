// The parent's side of the sync socket (SOCK_SEQPACKET: one message per packet).
#include <errno.h>
#include <sys/socket.h>

#include <vector>

#include "addon.hpp"

namespace tsrun {

// PROTOCOL.md bounds the init's messages at 64 KiB (MSG_TRUNC tells us if it broke
// that) and ours at 1 MiB: an `ack` carries the state JSON, annotations and all
// (Kubernetes allows 256 KiB of them).
static constexpr size_t kMaxMessage = 64 * 1024;
static constexpr size_t kMaxSent = 1024 * 1024;

Napi::Value SyncRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "syncRecv");
  std::vector<char> buf(kMaxMessage);
  ssize_t n;
  do {
    n = recv(fd, buf.data(), buf.size(), MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "recv", "sync socket");
  if (n == 0) return env.Null();
  if (static_cast<size_t>(n) > buf.size()) ThrowErrno(env, EMSGSIZE, "recv", "sync socket");
  return Napi::String::New(env, buf.data(), static_cast<size_t>(n));
}

// syncRecvFd(syncFd, what) -> fd: the packet with an fd that follows an init message
// announcing one (`seccomp listener`, `netns`, `netlink socket`). EOF there is an error.
Napi::Value SyncRecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string what = ArgString(info, 1, "syncRecvFd", "what");
  std::string payload;
  int received = ReceiveOneFd(env, ArgFd(info, 0, "syncRecvFd"), &payload, what);
  if (received < 0) ThrowErrno(env, EPIPE, "recvmsg", what);
  return Napi::Number::New(env, received);
}

Napi::Value SyncSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "syncSend");
  std::string message = ArgString(info, 1, "syncSend", "message");
  if (message.empty() || message.size() > kMaxSent) ThrowErrno(env, EMSGSIZE, "send", "sync socket");
  // A packet must fit the socket's send buffer whole (about 200 KiB by default): made
  // room for, as root past net.core.wmem_max too.
  int buffer = 0;
  socklen_t len = sizeof buffer;
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, &len) == 0 && static_cast<size_t>(buffer) < 2 * message.size()) {
    int want = static_cast<int>(2 * message.size() + 4096);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) < 0) (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
  }
  ssize_t n;
  do {
    // MSG_NOSIGNAL: a dead init must surface as EPIPE, not as SIGPIPE.
    n = send(fd, message.data(), message.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "send", "sync socket");
  return env.Undefined();
}

}  // namespace tsrun
