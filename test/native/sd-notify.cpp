// tsrun-test-sd-notify: sends its argument as one datagram to the socket named by
// $NOTIFY_SOCKET, as systemd-notify does (sd_notify(3)), so tests can see a runtime
// relay a container's READY=1 to its caller. Static: it runs inside busybox containers.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tsrun-test-sd-notify <state, e.g. READY=1>\n");
    return 2;
  }
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') {
    fprintf(stderr, "NOTIFY_SOCKET is not set\n");
    return 1;
  }
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "NOTIFY_SOCKET is too long\n");
    return 1;
  }
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "socket: %s\n", strerror(errno));
    return 1;
  }
  if (sendto(fd, argv[1], strlen(argv[1]), 0, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    fprintf(stderr, "sendto %s: %s\n", path, strerror(errno));
    return 1;
  }
  close(fd);
  return 0;
}
