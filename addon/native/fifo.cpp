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

namespace {

// Reads what is there now into *out (at most kReportLimit kept); returns 0 at EOF,
// 1 when it read something or nothing was there yet (EAGAIN), -1 with errno set.
constexpr size_t kReportLimit = 64 * 1024;

int ReadSome(int fd, std::string* out) {
  char buf[4096];
  ssize_t n;
  do {
    n = read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return 0;
  if (n < 0) return errno == EAGAIN ? 1 : -1;
  // The init writes a few KiB at most; a bound keeps a runaway writer from growing this.
  if (out->size() < kReportLimit) out->append(buf, static_cast<size_t>(n));
  return 1;
}

}  // namespace

// Waits for whichever comes first: the init's handshake byte on the FIFO or the init's
// death (its pidfd becomes readable). `fd` is the FIFO's read end, opened O_NONBLOCK by
// the caller (a reader's open never waits for a writer; poll does the waiting), who
// hands it over here. Returns { fd, head }: that fd, still open (the caller passes it
// to drainFifo), and what was read so far (the handshake first); or null, the fd
// closed, when the init died or was gone before it wrote anything. start calls both
// without the container's lock: an init that cannot answer (stopped by SIGSTOP) or
// startContainer hooks that take forever must not keep a kill or delete waiting, as
// with runc. Every wait is an event the kernel wakes us for: no timeout and no
// polling loop.
Napi::Value ReleaseFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int raw = ArgInt(info, 0, "releaseFifo", "fd");
  if (raw < 0) throw Napi::TypeError::New(env, "releaseFifo: fd must not be negative");
  UniqueFd fifo(raw);
  int pid = ArgInt(info, 1, "releaseFifo", "pid");
  if (pid <= 0) throw Napi::TypeError::New(env, "releaseFifo: pid must be positive");

  std::string report;
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    if (errno != ESRCH) ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
    // Gone and reaped already: the caller's open of the FIFO released it, and a
    // process that exits at once may be reaped (by a shim or conmon) before this
    // looks. Its handshake, if it wrote one, waits in the FIFO; no more can come.
    if (ReadSome(fifo.get(), &report) < 0) ThrowErrno(env, errno, "read", "exec fifo");
    if (report.empty()) return env.Null();
  }

  // The FIFO is checked before the pidfd: an init that wrote its byte and then exec'd
  // a process that exited at once was still released.
  while (report.empty()) {
    struct pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int rc = poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, errno, "poll", "exec fifo");
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      int got = ReadSome(fifo.get(), &report);
      if (got < 0) ThrowErrno(env, errno, "read", "exec fifo");
      if (got == 0) return env.Null();  // EOF: a writer came and went without writing
      continue;                         // read something, or a spurious wakeup
    }
    if (fds[1].revents) return env.Null();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("head", Napi::String::New(env, report));
  result.Set("fd", Napi::Number::New(env, fifo.release()));
  return result;
}

// Reads the FIFO fd releaseFifo returned until EOF, i.e. until no writer is left: the
// init's end closes at the execve of the container's process (close-on-exec) or when
// it exits. Only the init holds the write end (its hooks' children lose it at their
// execve), so its death ends this wait too. Closes fd, also on failure. Returns what
// it read.
Napi::Value DrainFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int raw = ArgInt(info, 0, "drainFifo", "fd");
  if (raw < 0) throw Napi::TypeError::New(env, "drainFifo: fd must not be negative");
  UniqueFd fifo(raw);
  std::string report;
  for (;;) {
    struct pollfd fd = {fifo.get(), POLLIN, 0};
    int rc = poll(&fd, 1, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, errno, "poll", "exec fifo");
    }
    int got = ReadSome(fifo.get(), &report);
    if (got < 0) ThrowErrno(env, errno, "read", "exec fifo");
    if (got == 0) break;
  }
  return Napi::String::New(env, report);
}

}  // namespace tsrun
