// --pidfd-socket (runc 1.2's flag): the process that will exec the container's (or
// an exec'd) program sends a pidfd of itself to the caller's socket. Sent from here,
// in the process itself, the pidfd can only ever name it: a parent opening it by pid
// could race the process's exit and a reuse of its pid.
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

namespace init {

// pidfdSocket <fd> <name>: name is runc's ("standard" for a container's process,
// "setns" for an exec'd one); receivers take the fd, not the name.
void OpPidfdSocket(const Args& a) {
  const std::string object = "pidfd socket";
  int sock = static_cast<int>(ParseU64(a[0], object));
  // getpid() is the pid in our own pid namespace, the one pidfd_open reads it in.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (pidfd.get() < 0) Fail(object, "pidfd_open", errno);
  SendFd(sock, a[1], pidfd.get(), object);
  ForceClose(sock);
}

}  // namespace init
