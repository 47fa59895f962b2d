// The receiving end the test suites give --console-socket and --pidfd-socket (Node
// cannot receive SCM_RIGHTS): listen on a path ("@name": in the abstract namespace,
// as Go's dialer reads it for runc), accept one connection, take one message and the
// fd it carries.
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "../../addon/common/send-fd.hpp"

// Says "listening" on stderr once connections can come, then returns the fd received
// and its message in *message; -1 with `*failed` naming the call that failed (errno set).
inline int ReceiveOneFd(const char* path, std::string* message, const char** failed) {
  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (srv < 0) return *failed = "socket", -1;
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return errno = ENAMETOOLONG, *failed = "bind", -1;
  strcpy(addr.sun_path, path);
  const bool abstract = path[0] == '@';
  if (abstract) addr.sun_path[0] = '\0';
  // An abstract name is as long as it is, no NUL after it (what a dialer connects to).
  const socklen_t length = abstract ? static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + strlen(path)) : sizeof addr;
  if (bind(srv, reinterpret_cast<sockaddr*>(&addr), length) < 0) return *failed = "bind", -1;
  if (listen(srv, 1) < 0) return *failed = "listen", -1;
  fprintf(stderr, "listening\n");
  int conn = accept4(srv, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return *failed = "accept", -1;
  char text[4096];
  int fd = -1;
  ssize_t n = tsrun_common::ReceiveFd(conn, text, sizeof text, &fd);
  if (n < 0) return *failed = "recvmsg", -1;
  if (fd < 0) return errno = EBADMSG, *failed = "recvmsg (no fd in the message)", -1;
  message->assign(text, static_cast<size_t>(n));
  close(conn);
  close(srv);
  return fd;
}
