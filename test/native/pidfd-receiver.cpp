// tsrun-test-pidfd-receiver SOCKET: the --pidfd-socket receiver of the test suites
// (Node cannot receive SCM_RIGHTS), after runc's pidfd-kill. Listens on SOCKET,
// accepts one connection and receives one fd; prints "pidfd <message> <pid>" on
// stdout, the pid being what the kernel says the pidfd refers to (its fdinfo). Then
// each line of stdin is a signal number sent through the pidfd, answered "sent <n>"
// or "error <errno>"; EOF ends it.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "receive-one-fd.hpp"

static int Die(const char* what) {
  fprintf(stderr, "pidfd-receiver: %s: %s\n", what, strerror(errno));
  return 2;
}

// The "Pid:" line of the fd's fdinfo: present only for a pidfd.
static long PidOf(int fd) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
  FILE* f = fopen(path, "re");
  if (!f) return -1;
  char line[256];
  long pid = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Pid:", 4) == 0) pid = strtol(line + 4, nullptr, 10);
  fclose(f);
  return pid;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tsrun-test-pidfd-receiver SOCKET\n");
    return 2;
  }
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string message;
  const char* failed = nullptr;
  int pidfd = ReceiveOneFd(argv[1], &message, &failed);
  if (pidfd < 0) return Die(failed);
  printf("pidfd %s %ld\n", message.c_str(), PidOf(pidfd));
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    int sig = atoi(line);
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) printf("error %d\n", errno);
    else printf("sent %d\n", sig);
  }
  return 0;
}
