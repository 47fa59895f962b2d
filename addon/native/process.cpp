// Process services: waiting for children, subreaping, and pid-reuse-safe signals.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

static Napi::Object WaitResultObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  if (WIFEXITED(status)) {
    result.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(status)));
    result.Set("signal", env.Null());
  } else if (WIFSIGNALED(status)) {
    result.Set("exitCode", env.Null());
    result.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  } else {
    result.Set("exitCode", env.Null());
    result.Set("signal", env.Null());
  }
  return result;
}

// The session of a process (a zombie's too), from /proc/<pid>/stat; -1 when it is gone.
static pid_t SessionOf(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return -1;
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // "pid (comm) state ppid pgrp session ...": comm may hold anything but ends at the last ')'.
  const char* end = strrchr(buf, ')');
  if (end == nullptr) return -1;
  char state;
  int ppid, pgrp, session;
  if (sscanf(end + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4) return -1;
  return session;
}

static pid_t WaitRetrying(pid_t pid, int* status) {
  pid_t rc;
  do {
    rc = waitpid(pid, status, 0);
  } while (rc < 0 && errno == EINTR);
  return rc;
}

// Waits for pid and returns what waitpid does (errno set on -1). With reapOthers,
// every other child of ours that ends first is reaped on the way: as a subreaper, the
// orphans of a container without a pid namespace become ours, and each one left a
// zombie would count against its pids limit until we exit (runc reaps them too). A
// container's processes are in sessions of their own (its init and every exec'd
// process call setsid); a child in ours is Node's (child_process), which Node reaps
// itself: at the first such one, only pid is waited for.
static pid_t WaitForChild(pid_t pid, bool reapOthers, int* status) {
  if (!reapOthers) return WaitRetrying(pid, status);
  const pid_t ourSession = getsid(0);
  for (;;) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    const pid_t ended = info.si_pid;
    if (ended == pid) break;
    const pid_t session = SessionOf(ended);
    if (session < 0) {
      // Reaped meanwhile by whoever else waits: look again. Still there but unreadable
      // (hidepid, no fds left): not known to be the container's, so leave it be.
      siginfo_t again;
      memset(&again, 0, sizeof again);
      if (waitid(P_PID, static_cast<id_t>(ended), &again, WEXITED | WNOHANG | WNOWAIT) == 0 && again.si_pid == ended) break;
      continue;
    }
    if (session == ourSession) break;
    int ignored;
    (void)waitpid(ended, &ignored, WNOHANG);
  }
  return WaitRetrying(pid, status);
}

// waitPid(pid, reapOthers = false): pid's wait result, blocking this thread; for
// reapOthers see WaitForChild.
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  int pid = ArgInt(info, 0, "waitPid", "pid");
  bool reapOthers = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  int status = 0;
  pid_t rc = WaitForChild(pid, reapOthers, &status);
  if (rc < 0) ThrowErrno(info.Env(), errno, "waitpid", std::to_string(pid));
  return WaitResultObject(info.Env(), rc, status);
}

namespace {

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid, bool reapOthers)
      : Napi::AsyncWorker(env, "tsrun:waitPid"), pid_(pid), reapOthers_(reapOthers), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    result_ = WaitForChild(pid_, reapOthers_, &status_);
    if (result_ < 0) error_ = errno;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (error_ != 0) {
      try {
        ThrowErrno(env, error_, "waitpid", std::to_string(pid_));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
      return;
    }
    deferred_.Resolve(WaitResultObject(env, result_, status_));
  }

 private:
  pid_t pid_;
  bool reapOthers_;
  pid_t result_ = -1;
  int status_ = 0;
  int error_ = 0;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

// waitPidAsync(pid, reapOthers = false): resolves with pid's wait result, waited for
// on a thread of libuv's pool while the event loop goes on. reapOthers (WaitForChild)
// is only for a caller with no other child whose end it waits for.
Napi::Value WaitPidAsync(const Napi::CallbackInfo& info) {
  int pid = ArgInt(info, 0, "waitPidAsync", "pid");
  bool reapOthers = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  auto* worker = new WaitWorker(info.Env(), pid, reapOthers);  // the AsyncWorker deletes itself
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  // Default on; `false` gives orphans back to the system's init (tests that were one).
  unsigned long on = info.Length() > 0 && info[0].IsBoolean() && !info[0].As<Napi::Boolean>().Value() ? 0 : 1;
  if (prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0) < 0) ThrowErrno(info.Env(), errno, "prctl", "PR_SET_CHILD_SUBREAPER");
  return info.Env().Undefined();
}

// Field 22 of /proc/<pid>/stat (the start time in clock ticks), "" when unreadable.
std::string StartTimeOf(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  char buf[1024];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string text(buf, static_cast<size_t>(n));
  size_t at = text.rfind(')');  // comm may hold spaces and parentheses
  if (at == std::string::npos) return "";
  // After ") " come fields 3..: the start time is field 22, the 20th of those.
  size_t pos = at + 2;
  for (int field = 3; field < 22 && pos != std::string::npos; field++) pos = text.find(' ', pos) + 1;
  if (pos == 0 || pos >= text.size()) return "";
  return text.substr(pos, text.find(' ', pos) - pos);
}

// pidfdKill(pid, signal[, startTime]): the pidfd pins the process; with startTime the
// process is checked to be the one recorded (not a later one that reused the pid)
// after the pidfd is open and before the signal, so no reuse can slip in between.
Napi::Value PidfdKill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "pidfdKill", "pid");
  int sig = ArgInt(info, 1, "pidfdKill", "signal");
  if (pid <= 0) ThrowErrno(env, ESRCH, "pidfd_open", std::to_string(pid));
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
  if (info.Length() > 2 && info[2].IsString()) {
    std::string expected = info[2].As<Napi::String>().Utf8Value();
    if (!expected.empty() && StartTimeOf(pid) != expected) ThrowErrno(env, ESRCH, "pidfd_send_signal", std::to_string(pid) + " (pid reused)");
  }
  if (PidfdSendSignal(pidfd.get(), sig) < 0) ThrowErrno(env, errno, "pidfd_send_signal", std::to_string(pid));
  return env.Undefined();
}

// pidfdGetFd(pid, fd): a copy of fd of process pid (pidfd_getfd(2), close-on-exec), as
// runc takes the init's seccomp listener: the init only names it (a write), so a filter
// may NOTIFY sendmsg without the init stopping on its own handover.
Napi::Value PidfdGetFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "pidfdGetFd", "pid");
  int target = ArgFd(info, 1, "pidfdGetFd");
  if (pid <= 0) ThrowErrno(env, ESRCH, "pidfd_open", std::to_string(pid));
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
  int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), target, 0U));
  if (fd < 0) ThrowErrno(env, errno, "pidfd_getfd", "fd " + std::to_string(target) + " of " + std::to_string(pid));
  return Napi::Number::New(env, fd);
}

// Waits for a process that need not be our child: a pidfd becomes readable when the
// process exits, so there is no polling loop and no window for pid reuse.
Napi::Value WaitExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "waitExit", "pid");
  int timeout = ArgInt(info, 1, "waitExit", "timeoutMs");
  if (pid <= 0) return Napi::Boolean::New(env, true);
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    if (errno == ESRCH) return Napi::Boolean::New(env, true);
    ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
  }
  struct pollfd p = {pidfd.get(), POLLIN, 0};
  int rc;
  do {
    rc = poll(&p, 1, timeout);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "poll", "pidfd " + std::to_string(pid));
  return Napi::Boolean::New(env, rc > 0);
}

}  // namespace tsrun
