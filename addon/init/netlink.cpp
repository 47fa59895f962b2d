// Network namespaces. `loopbackUp`: a namespace the container gets new has its
// loopback down, and runc brings it up (127.0.0.1 is how a pod's containers talk).
// linux.netDevices (PROTOCOL.md, netns, netlinkSocket, exit). The init sends tsrun its
// network namespace (`netns`); tsrun then spawns a second, short-lived tsrun-init with
// its own credentials that joins that namespace, makes a NETLINK_ROUTE socket there
// and sends it (`netlinkSocket`), then exits (`exit`). A netlink socket acts in the
// namespace it was made in, with its maker's credentials: made so, it may configure
// the container's namespace and move devices out of it, and tsrun itself never
// enters a container's namespace (DESIGN.md §3).
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "init.hpp"

namespace init {
namespace {

// Sends `announce`, then `fd` in a packet of its own (as the seccomp listener goes),
// and waits for the parent's `ack`; anything else: the parent already knows why.
void HandOver(const std::string& announce, int fd) {
  SendOrStop(announce, announce);
  SendFd(ctx.syncFd, "fd", fd, announce);
  std::string reply;
  if (!ReceiveMessage(&reply) || reply != "ack") _exit(1);
}

}  // namespace

void OpLoopbackUp(const Args&) {
  // Any socket of the namespace reaches its interfaces' flags (SIOC[GS]IFFLAGS).
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) Fail("loopback", "socket", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) Fail("loopback", "ioctl SIOCGIFFLAGS", errno);
  if (ifr.ifr_flags & IFF_UP) return;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) Fail("loopback", "ioctl SIOCSIFFLAGS", errno);
}

void OpNetns(const Args&) {
  Fd ns(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ns) Fail("netns", "open /proc/thread-self/ns/net", errno);
  HandOver("netns", ns.get());
}

void OpNetlinkSocket(const Args&) {
  Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) Fail("netlink socket", "socket", errno);
  HandOver("netlink socket", sock.get());
}

void OpExit(const Args& a) { _exit(static_cast<int>(ParseU64(a[0], "exit") & 0xff)); }

}  // namespace init
