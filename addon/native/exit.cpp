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
// descriptor but a pidfd of its parent, and exits when that pidfd reports the parent
// gone. The parent's exit then drops only its own reference and is reported at once;
// the helper frees the memory after it (a few ms more in the caller's cgroup, with
// tsrun's command line) and is reaped as an orphan.
//
// Only where an orphan is sure to be reaped: in the initial pid namespace, whose
// init (or a subreaper below it: a shim, conmon) reaps every orphan. Pid 1 of a
// container's namespace may be a program that never waits for children it did not
// start: each helper would stay a zombie there. TSRUN_NO_EXIT_HELPER (set, any
// value) turns it off for a caller that must see tsrun's cgroup empty at once.
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addon.hpp"

namespace tsrun {
namespace {

alignas(64) char helperStack[16 * 1024];

// Runs on the parent's memory with the parent thread's TLS: raw syscalls only. Its
// one fd (0) is a pidfd of the parent, readable once the parent's last thread has
// exited and the parent's own parent has been told: then this exit frees the memory.
int FreeMemoryAfterParent(void*) {
  struct pollfd parent = {0, POLLIN, 0};
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
// then an ordinary one).
void HandOverAddressSpace() {
  if (getenv("TSRUN_NO_EXIT_HELPER") != nullptr || !InInitialPidNamespace()) return;
  // The helper inherits this mask: no handler of ours may ever run on its stack. The
  // raw syscall: glibc's wrapper keeps its own two real-time signals unblocked.
  sigset_t all;
  sigfillset(&all);
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, nullptr, _NSIG / 8) != 0) return;
  // Nor may it keep the caller's working directory busy (an unmount right after).
  if (syscall(SYS_chdir, "/") != 0) return;
  // A CLONE_VM child without CLONE_FILES gets a copy of the fd table: it must hold
  // nothing but the pidfd, or a pipe the caller reads to EOF, or a lock, would
  // outlive this process.
  if (syscall(SYS_close_range, 0U, ~0U, 0U) != 0) return;
  if (syscall(SYS_pidfd_open, getpid(), 0U) != 0) return;
  clone(FreeMemoryAfterParent, helperStack + sizeof helperStack, CLONE_VM | SIGCHLD, nullptr);
}

}  // namespace

// exitNow(code): _exit(2) with the memory freed by a helper (above).
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  int code = ArgInt(info, 0, "exitNow", "code");
  HandOverAddressSpace();
  _exit(code & 0xff);
}

}  // namespace tsrun
