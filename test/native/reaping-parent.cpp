// tsrun-test-reaping-parent: runs a command the way a container shim (containerd's,
// conmon) does: as a child subreaper that reaps every child and orphan the moment it
// exits, so a container's first process that exits at once is gone, pid and all,
// before the runtime may look at it. Exits with the command's status (128 + signal).
// Usage: tsrun-test-reaping-parent PROGRAM ARGS...
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM ARGS...\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    fprintf(stderr, "%s: prctl: %s\n", argv[0], strerror(errno));
    return 2;
  }
  pid_t command = fork();
  if (command < 0) {
    fprintf(stderr, "%s: fork: %s\n", argv[0], strerror(errno));
    return 2;
  }
  if (command == 0) {
    execvp(argv[1], argv + 1);
    fprintf(stderr, "%s: exec %s: %s\n", argv[0], argv[1], strerror(errno));
    _exit(127);
  }
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) return 2;
    if (pid == command) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
}
