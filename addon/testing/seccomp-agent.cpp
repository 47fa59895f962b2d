// tsrun-test-seccomp-agent: a minimal seccomp notify listener for the tests (not
// shipped, not used by tsrun). Usage: tsrun-test-seccomp-agent SOCKET LOG ERRNO
// Listens on the unix socket SOCKET ("@name": an abstract one) and prints "listening" once it does; accepts one
// runtime connection, writes the container process state it received to LOG, then
// answers every notification with -ERRNO, logging "syscall <nr>" for each, until the
// last filtered process is gone.
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
  exit(1);
}

void Append(int fd, const std::string& line) {
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) Die("write log");
}

// True when text holds one whole JSON object (braces balanced outside strings).
bool JsonComplete(const std::string& text) {
  int depth = 0;
  bool inString = false, escaped = false, seen = false;
  for (char c : text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
      continue;
    }
    if (c == '"') inString = true;
    else if (c == '{') depth++, seen = true;
    else if (c == '}') depth--;
  }
  return seen && depth == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s SOCKET LOG ERRNO\n", argv[0]);
    return 2;
  }
  int answer = atoi(argv[3]);
  int log = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) Die("open log");

  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (srv < 0) Die("socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (strlen(argv[1]) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    Die("socket path");
  }
  strcpy(addr.sun_path, argv[1]);
  // "@name": the abstract namespace, the address exactly as long as the name.
  socklen_t length = sizeof addr;
  if (argv[1][0] == '@') {
    addr.sun_path[0] = '\0';
    length = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + strlen(argv[1]));
  }
  if (bind(srv, reinterpret_cast<struct sockaddr*>(&addr), length) < 0) Die("bind");
  if (listen(srv, 1) < 0) Die("listen");
  printf("listening\n");
  fflush(stdout);

  int conn = accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) Die("accept");
  std::vector<char> buf(1 << 16);
  struct iovec iov = {buf.data(), buf.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) Die("recvmsg");
  int notifyFd = -1;
  int fdCount = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      fdCount = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(&notifyFd, CMSG_DATA(c), sizeof notifyFd);
    }
  }
  std::string state(buf.data(), static_cast<size_t>(n));
  // The rest of the state, if the stream delivered it in parts: read until the JSON
  // object is complete (a runtime may keep the connection open).
  while (!JsonComplete(state)) {
    ssize_t m = recv(conn, buf.data(), buf.size(), 0);
    if (m <= 0) break;
    state.append(buf.data(), static_cast<size_t>(m));
  }
  close(conn);
  Append(log, "fds " + std::to_string(fdCount) + "\n");
  Append(log, "state " + state + "\n");
  if (notifyFd < 0) {
    errno = EBADMSG;
    Die("no fd received");
  }

  struct seccomp_notif_sizes sizes = {};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) Die("SECCOMP_GET_NOTIF_SIZES");
  std::vector<char> req(sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif));
  std::vector<char> resp(sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ? sizes.seccomp_notif_resp
                                                                                        : sizeof(struct seccomp_notif_resp));
  for (;;) {
    struct pollfd p = {notifyFd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (!(p.revents & POLLIN)) break;  // POLLHUP: no process uses the filter any more
    memset(req.data(), 0, req.size());
    auto* notif = reinterpret_cast<struct seccomp_notif*>(req.data());
    if (ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_RECV, notif) < 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      Die("SECCOMP_IOCTL_NOTIF_RECV");
    }
    Append(log, "syscall " + std::to_string(notif->data.nr) + "\n");
    memset(resp.data(), 0, resp.size());
    auto* r = reinterpret_cast<struct seccomp_notif_resp*>(resp.data());
    r->id = notif->id;
    r->error = -answer;
    r->val = 0;
    // ENOENT: the process was killed meanwhile; nothing to answer.
    if (ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_SEND, r) < 0 && errno != ENOENT) Die("SECCOMP_IOCTL_NOTIF_SEND");
  }
  Append(log, "done\n");
  return 0;
}
