// linux.netDevices (PROTOCOL.md, netlinkSocket): a NETLINK_ROUTE socket made in the
// container's network namespace as soon as the init is in it, and handed to tsrun,
// which moves the devices in and sets them up through it (src/lifecycle/net-devices.ts).
// A netlink socket acts in the namespace it was made in, with the credentials of its
// maker: made here, right after the setns or unshare that entered the namespace, it
// carries credentials that may configure that namespace (the host's for one joined
// before the init leaves the host's user namespace; the container's root's for one
// made in the container's user namespace). So tsrun never enters the namespace itself.
#include <errno.h>
#include <sys/socket.h>

#include <linux/netlink.h>

#include "init.hpp"

namespace init {

void OpNetlinkSocket(const Args&) {
  const std::string object = "netlink socket";
  Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) Fail(object, "socket", errno);
  // Announced, then sent in a packet of its own, as the seccomp listener is.
  SendOrStop("netlink socket", object);
  SendFd(ctx.syncFd, "fd", sock.get(), object);
  std::string reply;
  // The parent answers once it holds the socket; anything else: it already knows why.
  if (!ReceiveMessage(&reply) || reply != "ack") _exit(1);
}

}  // namespace init
