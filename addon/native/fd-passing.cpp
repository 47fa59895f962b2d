// Unix sockets that carry fds (SCM_RIGHTS): the one implementation behind the
// console socket and the seccomp listener, in both directions.
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vector>

#include "../common/send-fd.hpp"
#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

// A path starting with '@' names a socket in the abstract namespace, as Go's net
// package (runc's dialer) reads it: the '@' becomes the leading NUL, and the address
// is exactly as long as the name (an abstract name's trailing NULs would count).
int ConnectUnixSocket(Napi::Env env, const std::string& path) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  const bool abstract = !path.empty() && path[0] == '@';
  // A file path needs room for its terminating NUL; an abstract name does not have one.
  if (path.empty() || path.size() > sizeof addr.sun_path - (abstract ? 0 : 1)) ThrowErrno(env, ENAMETOOLONG, "connect", path);
  memcpy(addr.sun_path, path.data(), path.size());
  if (abstract) addr.sun_path[0] = '\0';
  const socklen_t length = abstract ? static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size()) : sizeof addr;
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) ThrowErrno(env, errno, "socket", path);
  int rc;
  do {
    rc = connect(fd.get(), reinterpret_cast<struct sockaddr*>(&addr), length);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "connect", path);
  return fd.release();
}

int ReceiveOneFd(Napi::Env env, int sock, std::string* payload, const std::string& object) {
  std::vector<char> data(4096);
  int fd = -1;
  ssize_t n = tsrun_common::ReceiveFd(sock, data.data(), data.size(), &fd);
  if (n < 0) ThrowErrno(env, errno, "recvmsg", object);
  if (n == 0 && fd < 0) return -1;
  if (fd < 0) ThrowErrno(env, EBADMSG, "recvmsg", object + " (no fd in the message)");
  payload->assign(data.data(), static_cast<size_t>(n));
  return fd;
}

}  // namespace tsrun
