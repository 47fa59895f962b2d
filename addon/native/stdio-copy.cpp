// Copying a foreground container's stdio between its pipes and the caller's files, on
// a thread of its own (src/lifecycle/foreground-stdio.ts): the main thread meanwhile
// blocks in the container's wait, and nothing of Node's (streams, the net module, the
// event loop) is needed for it. One copier per process: run and exec have one
// container process each.
//
// startStdioCopy(stdinTo, stdoutFrom, stderrFrom): each a pipe end of ours, or -1 for
// none. fd 0 is copied into stdinTo (set non-blocking here: a container that does not
// read its stdin must not hold the copier), stdoutFrom into fd 1, stderrFrom into
// fd 2. The pipe ends become the copier's, closed when their copy ends; fds 0-2 are
// the caller's and stay open.
// finishStdioCopy(): stops feeding stdin (the container gets EOF there), then waits
// until both outputs have reached EOF (every writer of the pipes gone, as runc waits).
// abandonStdioCopy(): stops every copy at its next wake-up (a failed start); a write
// to a caller's file that blocks (a FIFO nobody reads) is waited for, as by runc.
// Both may be called after the copy has ended, and again.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {
namespace {

constexpr uint64_t kFinish = 1;
constexpr uint64_t kAbandon = 2;

// Writes all of buf to fd, a caller's file: blocking, or waiting for room where the
// caller made it non-blocking. False on an error.
bool WriteAll(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd room = {fd, POLLOUT, 0};
      if (poll(&room, 1, -1) < 0 && errno != EINTR) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// The thread: every signal blocked from its first instruction (they are the main
// thread's to handle and forward), a poll over what is still open. An output ends at EOF or at a failed
// write (the caller's file full or gone: the container's next write gets EPIPE, as
// with runc); stdin at our EOF, at the container's EPIPE, or at finish. Every pipe
// end is closed when its copy ends, the last ones when the thread does.
void Copy(UniqueFd stdinTo, UniqueFd stdoutFrom, UniqueFd stderrFrom, int wake) {
  UniqueFd* outputs[2] = {&stdoutFrom, &stderrFrom};
  const int targets[2] = {1, 2};
  std::vector<char> out(64 * 1024);
  // What was read from our stdin and not yet taken by the container's pipe.
  std::vector<char> in(64 * 1024);
  size_t inFrom = 0, inTo = 0;
  bool finishing = false;
  for (;;) {
    if (finishing) stdinTo.reset();
    if (!stdinTo && !stdoutFrom && !stderrFrom) return;
    // [wake, stdout, stderr, stdin]; a closed one is -1, which poll skips.
    struct pollfd fds[4] = {{wake, POLLIN, 0}, {stdoutFrom.get(), POLLIN, 0}, {stderrFrom.get(), POLLIN, 0}, {-1, 0, 0}};
    // Stdin: the container's pipe when something waits for room there, else our fd 0
    // for more (a file is always readable).
    if (stdinTo) fds[3] = inFrom < inTo ? pollfd{stdinTo.get(), POLLOUT, 0} : pollfd{0, POLLIN, 0};
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t what = 0;
      if (read(wake, &what, sizeof what) == static_cast<ssize_t>(sizeof what) && (what & kAbandon)) return;
      finishing = true;
      continue;
    }
    for (int i = 0; i < 2; i++) {
      if (!*outputs[i] || fds[1 + i].revents == 0) continue;
      ssize_t got = read(outputs[i]->get(), out.data(), out.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0 || !WriteAll(targets[i], out.data(), static_cast<size_t>(got))) outputs[i]->reset();
    }
    if (!stdinTo || fds[3].revents == 0) continue;
    ssize_t n = inFrom < inTo ? write(stdinTo.get(), in.data() + inFrom, inTo - inFrom) : read(0, in.data(), in.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // Our EOF (0 read) is the container's; a failed write (EPIPE) means it closed its stdin.
    if (n <= 0) {
      stdinTo.reset();
    } else if (inFrom < inTo) {
      inFrom += static_cast<size_t>(n);
    } else {
      inFrom = 0;
      inTo = static_cast<size_t>(n);
    }
  }
}

struct Copier {
  UniqueFd wake;  // eventfd: kFinish, then maybe kAbandon
  std::thread thread;
  // Destroyed while still copying only at the process's exit (a path that neither
  // finished nor abandoned it): a joinable std::thread's destructor would abort the
  // process, and a join could wait on a blocked write. Told to stop and left to the
  // exit, with its eventfd.
  ~Copier() {
    if (!thread.joinable()) return;
    const uint64_t what = kAbandon;
    (void)!write(wake.get(), &what, sizeof what);
    (void)wake.release();
    thread.detach();
  }
};
std::unique_ptr<Copier> gCopier;

UniqueFd OptionalFd(const Napi::CallbackInfo& info, size_t index) {
  if (info[index].IsNumber() && info[index].As<Napi::Number>().Int32Value() == -1) return UniqueFd();
  return UniqueFd(ArgFd(info, index, "startStdioCopy"));
}

// Tells the copier what to do, and waits until it has ended.
void StopCopier(Napi::Env env, uint64_t what, const char* fn) {
  if (!gCopier) return;
  if (write(gCopier->wake.get(), &what, sizeof what) != static_cast<ssize_t>(sizeof what)) ThrowErrno(env, errno, "write", std::string(fn) + " eventfd");
  gCopier->thread.join();
  gCopier.reset();
}

}  // namespace

Napi::Value StartStdioCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (gCopier) ThrowErrno(env, EBUSY, "startStdioCopy", "a copier is running");
  // Owned from here: closed on any failure below, by the thread once it runs.
  UniqueFd stdinTo = OptionalFd(info, 0);
  UniqueFd stdoutFrom = OptionalFd(info, 1);
  UniqueFd stderrFrom = OptionalFd(info, 2);
  if (stdinTo) {
    int flags = fcntl(stdinTo.get(), F_GETFL);
    if (flags < 0 || fcntl(stdinTo.get(), F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(env, errno, "fcntl", "stdin pipe");
  }
  auto copier = std::make_unique<Copier>();
  copier->wake.reset(eventfd(0, EFD_CLOEXEC));
  if (!copier->wake) ThrowErrno(env, errno, "eventfd", "stdio copier");
  // Born with every signal blocked: the forwarding handler must never run on it.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int err = 0;
  try {
    copier->thread = std::thread(Copy, std::move(stdinTo), std::move(stdoutFrom), std::move(stderrFrom), copier->wake.get());
  } catch (const std::system_error& e) {
    err = e.code().value();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (err != 0) ThrowErrno(env, err, "pthread_create", "stdio copier");
  gCopier = std::move(copier);
  return env.Undefined();
}

Napi::Value FinishStdioCopy(const Napi::CallbackInfo& info) {
  StopCopier(info.Env(), kFinish, "finishStdioCopy");
  return info.Env().Undefined();
}

Napi::Value AbandonStdioCopy(const Napi::CallbackInfo& info) {
  StopCopier(info.Env(), kAbandon, "abandonStdioCopy");
  return info.Env().Undefined();
}

}  // namespace tsrun
