// tsrun-test-recvtty SOCKET: the console-socket receiver of the test suites (Node
// cannot receive SCM_RIGHTS). Listens on SOCKET, accepts one connection, receives
// the pty master, reports "pty <name>" on stderr, then copies stdin to the master
// and the master to stdout until the pty's slave side is closed everywhere.
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "receive-one-fd.hpp"

static int Die(const char* what) {
  fprintf(stderr, "recvtty: %s: %s\n", what, strerror(errno));
  return 2;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: tsrun-test-recvtty SOCKET\n");
    return 2;
  }
  std::string name;
  const char* failed = nullptr;
  int master = ReceiveOneFd(argv[1], &name, &failed);
  if (master < 0) return Die(failed);
  fprintf(stderr, "pty %s\n", name.c_str());
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
