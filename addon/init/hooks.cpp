// The `hook` op: OCI hooks that run in the container's namespaces (createContainer
// before pivot_root, startContainer after `start` released the init). The state JSON
// the parent sent with an `ack` (ctx.hookState) is the hook's stdin.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>

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

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ForceClose(fd);
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

// In the forked child: stdin from the pipe, every fd >= 3 closed at exec, then execve.
// An execve error travels back over errPipe as an int.
[[noreturn]] void ExecHook(int stdinFd, int errFd, const std::string& path, std::vector<char*>& argv,
                           std::vector<char*>& envp) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int err = 0;
  if (dup2(stdinFd, 0) < 0) err = errno;
  if (err == 0 && syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 65536; fd++)
      if (fd != errFd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (err == 0) {
    execve(path.c_str(), argv.data(), envp.data());
    err = errno;
  }
  (void)!write(errFd, &err, sizeof err);
  _exit(127);
}

// Waits for the hook; timeoutSecs 0 waits without limit. Returns the wait status.
int WaitHook(pid_t pid, uint64_t timeoutSecs, const std::string& object) {
  if (timeoutSecs > 0) {
    Fd pidfd;
    pidfd.fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd.fd < 0) {
      int err = errno;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      Fail(object, "pidfd_open", err);
    }
    struct pollfd p = {pidfd.fd, POLLIN, 0};
    // poll's int timeout in ms caps a wait at ~24 days; a longer timeout is that.
    int ms = timeoutSecs > 2000000 ? 2000000000 : static_cast<int>(timeoutSecs * 1000);
    int n;
    do {
      n = poll(&p, 1, ms);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      Fail(object, "poll", err);
    }
    if (n == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      FailMessage(object + " timed out after " + std::to_string(timeoutSecs) + "s");
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

// hook <kind> <index> <timeoutSecs> <path> <argc> <args[argc]...> <env...>
void OpHook(const Args& a) {
  const std::string& kind = a[0];
  const std::string& path = a[3];
  const std::string object = kind + " hook #" + a[1] + " (" + path + ")";
  uint64_t timeoutSecs = ParseU64(a[2], object + " timeout");
  uint64_t argc = ParseU64(a[4], object + " argc");
  if (argc > a.size() - 5) FailMessage("plan: op hook: argc " + a[4] + " exceeds its arguments");

  std::vector<char*> argv;
  for (uint64_t i = 0; i < argc; i++) argv.push_back(const_cast<char*>(a[5 + i].c_str()));
  // Like runc (Go's exec.Cmd): no args means argv is just the path.
  if (argv.empty()) argv.push_back(const_cast<char*>(path.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (size_t i = 5 + argc; i < a.size(); i++) envp.push_back(const_cast<char*>(a[i].c_str()));
  envp.push_back(nullptr);

  Pipe in;
  FillStdin(&in, object);
  Pipe err;
  if (pipe2(err.fds, O_CLOEXEC) < 0) Fail(object, "pipe2", errno);

  pid_t pid = fork();
  if (pid < 0) Fail(object, "fork", errno);
  if (pid == 0) ExecHook(in.fds[0], err.fds[1], path, argv, envp);
  in.CloseEnd(0);
  err.CloseEnd(1);

  int execErr = 0;
  ssize_t n;
  do {
    n = read(err.fds[0], &execErr, sizeof execErr);
  } while (n < 0 && errno == EINTR);
  int status = WaitHook(pid, n == sizeof execErr ? 0 : timeoutSecs, object);
  if (n == sizeof execErr) Fail(object, "execve", execErr);
  if (WIFSIGNALED(status)) FailMessage(object + " failed: killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    FailMessage(object + " failed: exit status " + std::to_string(WEXITSTATUS(status)));
}

}  // namespace init
