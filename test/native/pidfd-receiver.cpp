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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

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
  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (srv < 0) return Die("socket");
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) return Die("path too long");
  strcpy(addr.sun_path, argv[1]);
  if (bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return Die("bind");
  if (listen(srv, 1) < 0) return Die("listen");
  fprintf(stderr, "listening\n");
  int conn = accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return Die("accept");
  char message[256];
  struct iovec iov = {message, sizeof message - 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return Die("recvmsg");
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "pidfd-receiver: no fd received\n");
    return 2;
  }
  int pidfd;
  memcpy(&pidfd, CMSG_DATA(c), sizeof pidfd);
  message[n] = '\0';
  close(conn);
  close(srv);
  printf("pidfd %s %ld\n", message, PidOf(pidfd));
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    int sig = atoi(line);
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) printf("error %d\n", errno);
    else printf("sent %d\n", sig);
  }
  return 0;
}
