// tsrun-test-stalled-chdir: runs a command whose chdir(2) calls, and those of every
// process it starts, stall until the command has exited: a seccomp filter hands each
// one to this program (a user notification), which does not answer while the command
// runs. Then, for each chdir still waiting, it writes "held chdir PID" to stderr and
// fails it with ENOSYS; as a child subreaper it reaps what the command left behind
// ("orphan PID exit N" / "orphan PID signal N") and exits with the command's status
// (128 + signal). For the exit helper's bound (addon/native/exit.cpp): a helper that
// never settles must not keep tsrun from exiting.
// Usage: tsrun-test-stalled-chdir PROGRAM ARGS...
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syscall-filter.hpp"

static int StatusCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

static int Fail(const char* self, const char* what) {
  fprintf(stderr, "%s: %s: %s\n", self, what, strerror(errno));
  return 2;
}

// Answers a chdir waiting now, or coming within 50 ms, with ENOSYS, naming its
// process. 1 when one was answered, 0 when none came, -1 on error.
static int ReleaseHeld(const char* self, int listener) {
  struct pollfd p = {listener, POLLIN, 0};
  int ready = poll(&p, 1, 50);
  if (ready < 0 && errno == EINTR) return 0;
  if (ready < 0) {
    Fail(self, "poll");
    return -1;
  }
  if (ready == 0 || !(p.revents & POLLIN)) return 0;
  struct seccomp_notif request;
  memset(&request, 0, sizeof request);
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) < 0) {
    Fail(self, "SECCOMP_IOCTL_NOTIF_RECV");
    return -1;
  }
  fprintf(stderr, "held chdir %d\n", request.pid);
  struct seccomp_notif_resp response;
  memset(&response, 0, sizeof response);
  response.id = request.id;
  response.error = -ENOSYS;
  // ENOENT: the caller was gone already; nothing to answer.
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) < 0 && errno != ENOENT) {
    Fail(self, "SECCOMP_IOCTL_NOTIF_SEND");
    return -1;
  }
  return 1;
}

static void ReportOrphan(pid_t pid, int status) {
  if (WIFEXITED(status)) fprintf(stderr, "orphan %d exit %d\n", pid, WEXITSTATUS(status));
  else fprintf(stderr, "orphan %d signal %d\n", pid, WTERMSIG(status));
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM ARGS...\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return Fail(argv[0], "prctl PR_SET_CHILD_SUBREAPER");
  // This program is under the filter too, and never calls chdir.
  int listener = InstallFilter(
      {
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_chdir, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      },
      SECCOMP_FILTER_FLAG_NEW_LISTENER);
  if (listener < 0) return Fail(argv[0], "seccomp");
  pid_t command = fork();
  if (command < 0) return Fail(argv[0], "fork");
  if (command == 0) {
    close(listener);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "%s: exec %s: %s\n", argv[0], argv[1], strerror(errno));
    _exit(127);
  }
  // Until the command has exited, its chdirs wait; its orphans are reaped as they go.
  int code = -1;
  while (code < 0) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return Fail(argv[0], "waitpid");
    if (pid == command) code = StatusCode(status);
    else ReportOrphan(pid, status);
  }
  // Then every chdir is failed, until nothing it left is alive.
  for (;;) {
    if (ReleaseHeld(argv[0], listener) < 0) return 2;
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) ReportOrphan(pid, status);
    if (pid < 0 && errno == ECHILD) return code;
    if (pid < 0 && errno != EINTR) return Fail(argv[0], "waitpid");
  }
}
