// tsrun-test-notify-receiver <path>: a stand-in for systemd's notify socket. Binds a
// datagram socket at <path> and prints each datagram it receives on a line of its own
// (a newline inside one as \n, a backslash as \\), until killed. Runs on the host.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tsrun-test-notify-receiver <socket path>\n");
    return 2;
  }
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) {
    fprintf(stderr, "socket path too long\n");
    return 1;
  }
  strcpy(addr.sun_path, argv[1]);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    fprintf(stderr, "bind %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "recv: %s\n", strerror(errno));
      return 1;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') fputs("\\n", stdout);
      else if (buf[i] == '\\') fputs("\\\\", stdout);
      else putchar(buf[i]);
    }
    putchar('\n');
    fflush(stdout);
  }
}
