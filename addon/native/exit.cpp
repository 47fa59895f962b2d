// Ending the process: _exit, with the address space freed after the parent has
// been told.
//
// Node's own exit joins its worker and thread-pool threads and tears the isolate
// down first, which no caller of a short-lived CLI needs: every write tsrun makes is
// synchronous, so nothing is left to flush. And the kernel frees a process's memory
// before it tells the parent of the exit: whichever task drops the last reference to
// an address space unmaps it, and for Node's (about 40 MB resident, most of it the
// node binary's pages) that takes 4-6 ms on this kind of VM, ~10% of a whole `run`,
// which every caller (a shim, conmon, a shell) waits for. So the last reference is
// handed to a helper: a process that shares the address space (CLONE_VM, not a
// thread), has every signal blocked, "/" as its working directory and no file
// descriptor but a pidfd of its parent (settled before the parent exits), and exits
// when that pidfd reports the parent gone. The parent's exit then drops only its own
// reference and is reported at once; the helper frees the memory after it (a few ms
// more in the caller's cgroup, with tsrun's command line) and is reaped as an orphan.
//
// Only where an orphan is sure to be reaped: in the initial pid namespace, whose
// init (or a subreaper below it: a shim, conmon) reaps every orphan. Pid 1 of a
// container's namespace may be a program that never waits for children it did not
// start: each helper would stay a zombie there. TSRUN_NO_EXIT_HELPER (set, any
// value) turns it off for a caller that must see tsrun's cgroup empty at once.
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>

#include "addon.hpp"

namespace tsrun {
namespace {

alignas(64) char helperStack[16 * 1024];
// Set by the helper once it holds nothing of ours but the pidfd (a futex word: the
// helper shares this memory).
std::atomic<int> helperSettled{0};
int helperPidfd = -1;

void Settle() {
  helperSettled.store(1);
  syscall(SYS_futex, &helperSettled, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

// Runs on the parent's memory with the parent thread's TLS: raw syscalls only. It has
// a copy of the parent's fd table and working directory (no CLONE_FILES, no CLONE_FS):
// it drops all of them but the pidfd, which is readable once the parent's last thread
// has exited and the parent's own parent has been told: then its exit frees the memory.
int FreeMemoryAfterParent(void*) {
  const unsigned pidfd = static_cast<unsigned>(helperPidfd);
  bool dropped = (pidfd == 0 || syscall(SYS_close_range, 0U, pidfd - 1, 0U) == 0) &&
                 syscall(SYS_close_range, pidfd + 1, ~0U, 0U) == 0 && syscall(SYS_chdir, "/") == 0;
  Settle();
  if (!dropped) syscall(SYS_exit, 0);  // the parent frees its memory itself
  struct pollfd parent = {static_cast<int>(pidfd), POLLIN, 0};
  while (syscall(SYS_ppoll, &parent, 1, nullptr, nullptr, 0) < 0 && errno == EINTR) {
  }
  syscall(SYS_exit, 0);
  return 0;
}

// Whether this process is in the initial pid namespace, whose nsfs inode number the
// kernel fixes (PROC_PID_INIT_INO). Not from NSpid in /proc/self/status: a container
// with a /proc of its own lists only its own level there.
bool InInitialPidNamespace() {
  constexpr ino_t kInitialPidNamespaceInode = 0xEFFFFFFCU;
  struct stat st;
  return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == kInitialPidNamespaceInode;
}

// Starts the helper, or does nothing when one cannot be made safely (the exit is
// then an ordinary one). Nothing of the parent's is closed or changed: its other
// threads still run until the exit_group. (A version that closed the parent's fds
// first saw 1 in ~400 parallel `run -d` die of SIGABRT with nothing on stderr, three
// times, then not again in 800 runs; none since in ~4,000 with this one.)
void HandOverAddressSpace() {
  if (getenv("TSRUN_NO_EXIT_HELPER") != nullptr || !InInitialPidNamespace()) return;
  // The helper inherits this thread's mask: no handler of ours may ever run on its
  // stack. The raw syscall: glibc's wrapper keeps its own two real-time signals open.
  sigset_t all;
  sigfillset(&all);
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, _NSIG / 8) != 0) return;
  helperPidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0U));
  if (helperPidfd < 0) return;
  if (clone(FreeMemoryAfterParent, helperStack + sizeof helperStack, CLONE_VM | SIGCHLD, nullptr) < 0) return;
  // Until the helper holds nothing but the pidfd: a pipe the caller reads to EOF, or a
  // lock, must not outlive this process by a moment. Bounded, should it never run.
  struct timespec limit = {1, 0};
  while (helperSettled.load() == 0) {
    if (syscall(SYS_futex, &helperSettled, FUTEX_WAIT_PRIVATE, 0, &limit, nullptr, 0) < 0 && errno == ETIMEDOUT) break;
  }
}

}  // namespace

// exitNow(code[, helper = true]): _exit(2), with the memory freed by a helper (above)
// unless helper is false.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  int code = ArgInt(info, 0, "exitNow", "code");
  const bool helper = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
  if (helper) HandOverAddressSpace();
  _exit(code & 0xff);
}

// releaseHungUpStdio() -> the fds put aside: each of fds 0-2 that is a terminal hung
// up (tcgetattr fails with EIO: the caller's ssh went away during run -t) gets
// /dev/null in its place. Node's exit puts each stdio terminal back in the mode it
// had at start and aborts the process when tcsetattr fails (nodejs/node#51519, in
// Node 20): a file that is no longer the one it saw at start is skipped there. Output
// to a hung-up terminal is lost either way.
Napi::Value ReleaseHungUpStdio(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array released = Napi::Array::New(env);
  for (int fd = 0; fd <= 2; fd++) {
    struct termios mode;
    if (tcgetattr(fd, &mode) == 0 || errno != EIO) continue;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) ThrowErrno(env, errno, "open", "/dev/null");
    int rc = dup2(null, fd);
    int err = errno;
    close(null);
    if (rc < 0) ThrowErrno(env, err, "dup2", "fd " + std::to_string(fd));
    released.Set(released.Length(), Napi::Number::New(env, fd));
  }
  return released;
}

}  // namespace tsrun
