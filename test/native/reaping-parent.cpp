// tsrun-test-reaping-parent: runs a command the way a container shim (containerd's,
// conmon) does: as a child subreaper that reaps every child and orphan the moment it
// exits, so a container's first process that exits at once is gone, pid and all,
// before the runtime may look at it. Exits with the command's status (128 + signal).
// With --report-orphans it also waits, after the command, for every orphan it was
// given, and writes to stderr what each one held when the command had been reaped
// ("orphan PID fd TARGET") and how each ended ("orphan PID exit N" / "signal N").
// Usage: tsrun-test-reaping-parent [--report-orphans] PROGRAM ARGS...
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int StatusCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

static void ReportOrphan(pid_t pid, int status) {
  if (WIFEXITED(status)) fprintf(stderr, "orphan %d exit %d\n", pid, WEXITSTATUS(status));
  else fprintf(stderr, "orphan %d signal %d\n", pid, WTERMSIG(status));
}

// The fds of every child still there (they are orphans: the command is reaped).
static void ReportOrphanFds() {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", getpid());
  FILE* children = fopen(path, "r");
  if (!children) return;
  int pid;
  while (fscanf(children, "%d", &pid) == 1) {
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR* fds = opendir(path);
    if (!fds) continue;
    while (struct dirent* e = readdir(fds)) {
      if (e->d_name[0] == '.') continue;
      char link[PATH_MAX + 80], target[PATH_MAX];
      snprintf(link, sizeof link, "%s/%s", path, e->d_name);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = '\0';
      fprintf(stderr, "orphan %d fd %s\n", pid, target);
    }
    closedir(fds);
  }
  fclose(children);
}

int main(int argc, char** argv) {
  bool reportOrphans = argc > 1 && strcmp(argv[1], "--report-orphans") == 0;
  char** command = argv + 1 + (reportOrphans ? 1 : 0);
  if (!*command) {
    fprintf(stderr, "usage: %s [--report-orphans] PROGRAM ARGS...\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    fprintf(stderr, "%s: prctl: %s\n", argv[0], strerror(errno));
    return 2;
  }
  pid_t commandPid = fork();
  if (commandPid < 0) {
    fprintf(stderr, "%s: fork: %s\n", argv[0], strerror(errno));
    return 2;
  }
  if (commandPid == 0) {
    execvp(command[0], command);
    fprintf(stderr, "%s: exec %s: %s\n", argv[0], command[0], strerror(errno));
    _exit(127);
  }
  int code = -1;
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return errno == ECHILD && code >= 0 ? code : 2;
    if (pid != commandPid) {
      if (reportOrphans) ReportOrphan(pid, status);
      continue;
    }
    code = StatusCode(status);
    if (!reportOrphans) return code;
    ReportOrphanFds();
  }
}
