// The `hook` op: OCI hooks that run in the container's namespaces (createContainer
// before pivot_root, startContainer after `start` released the init). The state JSON
// the parent sent with an `ack` (ctx.hookState) is the hook's stdin. Its stdout and
// stderr are captured apart, as runc does: the init's own are the container's, and
// a hook must not write into the container's output; a failing hook's error carries
// both, in runc's form.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/close_range.h>

#include <cstddef>

#include "init.hpp"

namespace init {

namespace {

// Closes both ends on every path out, including Fail's _exit-free returns.
struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ForceClose(fd);
  }
  void CloseEnd(int i) {
    if (fds[i] >= 0) ForceClose(fds[i]);
    fds[i] = -1;
  }
};

// Fills the pipe with the whole state before the hook exists: the init never blocks on
// a hook that does not read stdin, and never gets SIGPIPE from one that exits early.
void FillStdin(Pipe* in, const std::string& object) {
  if (pipe2(in->fds, O_CLOEXEC) < 0) Fail(object, "pipe2", errno);
  const std::string& data = ctx.hookState;
  if (data.size() > 65536 && fcntl(in->fds[1], F_SETPIPE_SZ, static_cast<int>(data.size())) < 0)
    Fail(object, "fcntl(F_SETPIPE_SZ)", errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(in->fds[1], data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail(object, "write", errno);
    done += static_cast<size_t>(n);
  }
  in->CloseEnd(1);
}

// What a hook wrote to each stream, kept to its last kOutputKeep bytes for the error:
// both tails fit in one message to the parent (4 KiB, sync.cpp), whose cut would
// otherwise fall in the middle, taking the end of stdout and the start of stderr.
constexpr size_t kOutputKeep = 1536;

// Reads from the non-blocking fd at most what one pipe holds, so that a writer that
// never stops cannot keep the init here; false once there is nothing more to watch.
bool DrainOutput(int fd, std::string* out, bool* dropped) {
  char buf[4096];
  for (size_t total = 0; total < 65536;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      if (out->size() > 2 * kOutputKeep) {
        out->erase(0, out->size() - kOutputKeep);
        *dropped = true;
      }
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;  // nothing more for now; EOF or an error: stop watching
  }
  return true;
}

// The output kept of one stream, marked where its start was dropped.
std::string Kept(const std::string& output, bool dropped) {
  if (output.size() <= kOutputKeep && !dropped) return output;
  return "[...]" + output.substr(output.size() > kOutputKeep ? output.size() - kOutputKeep : 0);
}

// What the hook wrote, as runc words it after the reason: ", stdout: ..., stderr: ...".
struct HookOutput {
  std::string out, err;
  bool outDropped = false, errDropped = false;
  std::string Said() const { return ", stdout: " + Kept(out, outDropped) + ", stderr: " + Kept(err, errDropped); }
};

// In the forked child: stdin from the pipe, stdout and stderr into their pipes,
// every fd >= 3 closed at exec, then (with cwdFd >= 0) fchdir there and execve. An
// execve (or fchdir) error travels back over execErrFd as an int.
[[noreturn]] void ExecHook(int stdinFd, int outFd, int errOutFd, int execErrFd, int cwdFd, const std::string& path,
                           std::vector<char*>& argv, std::vector<char*>& envp) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  RestoreParkedSignals();
  int err = 0;
  if (dup2(stdinFd, 0) < 0 || dup2(outFd, 1) < 0 || dup2(errOutFd, 2) < 0) err = errno;
  if (err == 0 && ctx.inheritedFdsMarked) {
    // A seccomp filter may be in force, which need not allow close_range: above the
    // preserved fds everything is close-on-exec already (MarkInheritedFdsCloseOnExec).
    for (int fd = 3; fd < 3 + ctx.preserveFds; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  } else if (err == 0 && syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 65536; fd++)
      if (fd != execErrFd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (err == 0 && cwdFd >= 0 && fchdir(cwdFd) < 0) err = errno;
  if (err == 0) {
    execve(path.c_str(), argv.data(), envp.data());
    err = errno;
  }
  (void)!write(execErrFd, &err, sizeof err);
  _exit(127);
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits for the hook while collecting its output (a hook that fills a pipe must
// not block); timeoutSecs 0 waits without limit. A process the hook left behind may
// keep the pipes open: once the hook exits, only what is already there is read.
// Returns the wait status.
int WaitHook(pid_t pid, int outFd, int errOutFd, uint64_t timeoutSecs, const std::string& object, HookOutput* output) {
  Fd pidfd;
  pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0) {
    int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    Fail(object, "pidfd_open", err);
  }
  // poll's int timeout in ms caps a wait at ~24 days; a longer timeout is that.
  const int64_t limitMs = timeoutSecs == 0 ? -1 : (timeoutSecs > 2000000 ? 2000000000 : static_cast<int64_t>(timeoutSecs) * 1000);
  const int64_t deadline = NowMs() + limitMs;
  bool outOpen = true, errOpen = true;
  for (;;) {
    struct pollfd p[3] = {{pidfd.get(), POLLIN, 0}, {outOpen ? outFd : -1, POLLIN, 0}, {errOpen ? errOutFd : -1, POLLIN, 0}};
    const int64_t left = deadline - NowMs();
    int ms = limitMs < 0 ? -1 : static_cast<int>(left < 0 ? 0 : left);
    int n = poll(p, 3, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      Fail(object, "poll", err);
    }
    // A hook that writes without pause keeps poll returning before the deadline:
    // the deadline is checked on every pass, not only when poll times out.
    if (n == 0 || (limitMs >= 0 && left <= 0 && !(p[0].revents & POLLIN))) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      FailMessage(object + ": timed out after " + std::to_string(timeoutSecs) + "s" + output->Said());
    }
    if (outOpen && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) outOpen = DrainOutput(outFd, &output->out, &output->outDropped);
    if (errOpen && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) errOpen = DrainOutput(errOutFd, &output->err, &output->errDropped);
    if (p[0].revents & POLLIN) {
      if (outOpen) DrainOutput(outFd, &output->out, &output->outDropped);
      if (errOpen) DrainOutput(errOutFd, &output->err, &output->errDropped);
      break;
    }
  }
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) Fail(object, "waitpid", errno);
  return status;
}

}  // namespace

// hook <kind> <index> <timeoutSecs> <path> <envFrom> <argc> <args[argc]...> <env...>
void OpHook(const Args& a) {
  const std::string& kind = a[0];
  const std::string& path = a[3];
  const std::string& envFrom = a[4];
  // runc's words ("error running <kind> hook #<n>:"), which callers' tests look for.
  const std::string object = "error running " + kind + " hook #" + a[1] + ": " + path;
  uint64_t timeoutSecs = ParseU64(a[2], object + " timeout");
  uint64_t argc = ParseU64(a[5], object + " argc");
  if (argc > a.size() - 6) FailMessage("plan: op hook: argc " + a[5] + " exceeds its arguments");
  const size_t envAt = 6 + argc;

  std::vector<char*> argv;
  for (uint64_t i = 0; i < argc; i++) argv.push_back(const_cast<char*>(a[6 + i].c_str()));
  // Like runc (Go's exec.Cmd): no args means argv is just the path.
  if (argv.empty()) argv.push_back(const_cast<char*>(path.c_str()));
  argv.push_back(nullptr);
  // `hook`: the trailing fields, none meaning an empty environment. `process`: what the
  // `env` op (and `defaultHome`) made for the container's process, which only exists
  // once they ran: the planner chose this, so anything else is its bug.
  const std::vector<std::string>* env = nullptr;
  Args own;
  if (envFrom == "hook") {
    own.assign(a.begin() + static_cast<std::ptrdiff_t>(envAt), a.end());
    env = &own;
  } else if (envFrom == "process") {
    if (envAt != a.size()) FailMessage("plan: op hook: envFrom process with environment fields");
    if (!ctx.envSet) FailMessage("plan: op hook: envFrom process before the env op");
    env = &ctx.env;
  } else {
    FailMessage("plan: op hook: unknown envFrom \"" + envFrom + "\"");
  }
  std::vector<char*> envp;
  for (const std::string& kv : *env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);

  Pipe in;
  FillStdin(&in, object);
  Pipe out, errOut;
  for (Pipe* p : {&out, &errOut}) {
    if (pipe2(p->fds, O_CLOEXEC | O_NONBLOCK) < 0) Fail(object, "pipe2", errno);
    // The hook's end blocks as a normal stdout or stderr would.
    int flags = fcntl(p->fds[1], F_GETFL);
    if (flags < 0 || fcntl(p->fds[1], F_SETFL, flags & ~O_NONBLOCK) < 0) Fail(object, "fcntl", errno);
  }
  Pipe err;
  if (pipe2(err.fds, O_CLOEXEC) < 0) Fail(object, "pipe2", errno);

  // createContainer runs before the pivot in the rootfs, as with runc (whose init has
  // chdir'd there); startContainer where the process will run (after its chdir op).
  int cwdFd = kind == "createContainer" ? ctx.rootFd : -1;
  pid_t pid = fork();
  if (pid < 0) Fail(object, "fork", errno);
  if (pid == 0) ExecHook(in.fds[0], out.fds[1], errOut.fds[1], err.fds[1], cwdFd, path, argv, envp);
  in.CloseEnd(0);
  out.CloseEnd(1);
  errOut.CloseEnd(1);
  err.CloseEnd(1);

  int execErr = 0;
  ssize_t n;
  do {
    n = read(err.fds[0], &execErr, sizeof execErr);
  } while (n < 0 && errno == EINTR);
  HookOutput output;
  int status = WaitHook(pid, out.fds[0], errOut.fds[0], n == sizeof execErr ? 0 : timeoutSecs, object, &output);
  if (n == sizeof execErr) Fail(object, "execve", execErr);
  // Go's words for a wait status, as runc's error has them.
  if (WIFSIGNALED(status)) FailMessage(object + ": signal: " + tsrun_common::SignalText(WTERMSIG(status)) + output.Said());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    FailMessage(object + ": exit status " + std::to_string(WEXITSTATUS(status)) + output.Said());
}

}  // namespace init
