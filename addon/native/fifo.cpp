// The exec FIFO: created by `create`, opened for reading by `start` to release the init.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "mkfifo", "path");
  int mode = ArgInt(info, 1, "mkfifo", "mode");
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) < 0) ThrowErrno(info.Env(), errno, "mkfifo", path);
  return info.Env().Undefined();
}

// Waits for whichever comes first: the init's byte on the FIFO or the init's death
// (its pidfd becomes readable). Both are events the kernel wakes us for: no timeout
// and no polling loop.
Napi::Value ReleaseFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "releaseFifo", "fifoPath");
  int pid = ArgInt(info, 1, "releaseFifo", "pid");
  if (pid <= 0) throw Napi::TypeError::New(env, "releaseFifo: pid must be positive");

  // The pidfd first: if the init is already gone, opening the FIFO would be pointless.
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    if (errno == ESRCH) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
  }
  // O_NONBLOCK: a reader open never waits for a writer; poll does the waiting.
  UniqueFd fifo(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) ThrowErrno(env, errno, "open", path);

  for (;;) {
    struct pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int rc = poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, errno, "poll", path);
    }
    // The FIFO is checked before the pidfd: an init that wrote its byte and then
    // exec'd a process that exited at once was still released.
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char byte;
      ssize_t n;
      do {
        n = read(fifo.get(), &byte, 1);
      } while (n < 0 && errno == EINTR);
      if (n == 1) return Napi::Boolean::New(env, true);
      if (n < 0 && errno == EAGAIN) continue;  // spurious wakeup: nothing to read yet
      if (n < 0) ThrowErrno(env, errno, "read", path);
      // EOF: a writer came and went without writing.
      return Napi::Boolean::New(env, false);
    }
    if (fds[1].revents) return Napi::Boolean::New(env, false);
  }
}

}  // namespace tsrun
