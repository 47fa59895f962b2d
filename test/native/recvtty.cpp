// tsrun-test-recvtty SOCKET: the console-socket receiver of the test suites (Node
// cannot receive SCM_RIGHTS). Listens on SOCKET, accepts one connection, receives
// the pty master, reports "pty <name>" on stderr, then copies stdin to the master
// and the master to stdout until the pty's slave side is closed everywhere.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int Die(const char* what) {
  fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
  return 2;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tsrun-test-recvtty SOCKET\n");
    return 2;
  }
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
  char name[4096];
  struct iovec iov = {name, sizeof name - 1};
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
    fprintf(stderr, "recvtty: no fd received\n");
    return 2;
  }
  int master;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  name[n] = '\0';
  fprintf(stderr, "pty %s\n", name);
  close(conn);
  close(srv);
  bool stdinOpen = true;
  char buf[4096];
  for (;;) {
    struct pollfd p[2] = {{master, POLLIN, 0}, {0, POLLIN, 0}};
    int rc = poll(p, stdinOpen ? 2 : 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Die("poll");
    if (p[0].revents) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r <= 0) return 0;  // EIO: every slave fd is closed
      if (write(1, buf, static_cast<size_t>(r)) < 0) return Die("write stdout");
    }
    if (stdinOpen && p[1].revents) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) stdinOpen = false;
      else if (write(master, buf, static_cast<size_t>(r)) < 0) return Die("write master");
    }
  }
}
