// Console sockets: the AF_UNIX connection to a caller's --console-socket, a socket
// pair for when tsrun receives the pty master itself, and SCM_RIGHTS reception.
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

// connectUnix(path): a SOCK_STREAM connection to path (O_CLOEXEC), as runc makes
// to --console-socket.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "connectUnix", "path");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) ThrowErrno(env, ENAMETOOLONG, "connect", path);
  memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) ThrowErrno(env, errno, "socket", path);
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "connect", path);
  return Napi::Number::New(env, fd.release());
}

// socketPair(): [a, b], AF_UNIX SOCK_STREAM, both O_CLOEXEC.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, errno, "socketpair", "console");
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

// recvFd(socket): blocks for one message carrying one fd (SCM_RIGHTS); returns
// { fd, name } (name: the message's bytes, the pty path), or null at EOF.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgFd(info, 0, "recvFd");
  std::vector<char> name(4096);
  struct iovec iov = {name.data(), name.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, errno, "recvmsg", "console socket");
  int fd = -1;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; i++) {
      if (fd < 0) fd = fds[i];
      else close(fds[i]);  // only one is expected; never leak the others
    }
  }
  if (n == 0 && fd < 0) return env.Null();
  if (fd < 0) ThrowErrno(env, EBADMSG, "recvmsg", "console socket (no fd in the message)");
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("name", Napi::String::New(env, name.data(), static_cast<size_t>(n)));
  return out;
}

Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "setWindowSize");
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(ArgInt(info, 1, "setWindowSize", "rows"));
  ws.ws_col = static_cast<unsigned short>(ArgInt(info, 2, "setWindowSize", "cols"));
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) ThrowErrno(env, errno, "ioctl(TIOCSWINSZ)", "console");
  return env.Undefined();
}

}  // namespace tsrun
