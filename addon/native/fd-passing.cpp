// Unix sockets that carry fds (SCM_RIGHTS): the one implementation behind the
// console socket and the seccomp listener, in both directions.
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

int ConnectUnixSocket(Napi::Env env, const std::string& path) {
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
  return fd.release();
}

int ReceiveOneFd(Napi::Env env, int sock, std::string* payload, const std::string& object) {
  std::vector<char> data(4096);
  struct iovec iov = {data.data(), data.size()};
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
  if (n < 0) ThrowErrno(env, errno, "recvmsg", object);
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
  if (fd >= 0 && (msg.msg_flags & MSG_CTRUNC)) {
    close(fd);
    ThrowErrno(env, EMSGSIZE, "recvmsg", object);
  }
  if (n == 0 && fd < 0) return -1;
  if (fd < 0) ThrowErrno(env, EBADMSG, "recvmsg", object + " (no fd in the message)");
  payload->assign(data.data(), static_cast<size_t>(n));
  return fd;
}

}  // namespace tsrun
