// linux.netDevices, the container's half (PROTOCOL.md, netDevice): tsrun moves the
// device into the init's network namespace at a sync point (only a process with
// CAP_NET_ADMIN over the runtime's namespace may); the init then finds it, adds the
// addresses tsrun read before the move (the kernel drops them on the way) and sets it
// up, with a netlink socket of its own namespace.
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "../common/rtnetlink.hpp"
#include "init.hpp"

namespace init {

using tsrun_common::RtAddress;
using tsrun_common::RtRequest;
using tsrun_common::Rtnetlink;

namespace {

void Check(const std::string& object, int err, const char* failed, const char* request) {
  if (err != 0) Fail(object, failed ? failed : request, err);
}

std::map<int, std::string> Links(Rtnetlink& nl, const std::string& object) {
  std::map<int, std::string> links;
  const char* failed = nullptr;
  Check(object, tsrun_common::RtLinks(nl, &links, &failed), failed, "RTM_GETLINK");
  return links;
}

// An IPv4 label is the device's name or "<name>:<alias>": it follows a rename.
std::string RenamedLabel(const std::string& label, const std::string& from, const std::string& to) {
  std::string text(label.c_str());  // the attribute holds its terminating NUL
  if (to.find('%') != std::string::npos || text.compare(0, from.size(), from) != 0) return "";
  std::string renamed = to + text.substr(from.size());
  return renamed.size() < IFNAMSIZ ? renamed : "";
}

}  // namespace

void OpNetDevice(const Args& a) {
  const std::string& from = a[0];
  const std::string& to = a[1];
  std::string object = "netDevice " + from;
  Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) Fail(object, "socket AF_NETLINK", errno);
  Rtnetlink nl(sock.get());
  // The kernel moves a device under its own name and renames it after: with the new
  // name taken here, the device would be moved and the rename fail (EEXIST). The spec
  // asks for the check before the move.
  std::map<int, std::string> before = Links(nl, object);
  if (to.find('%') == std::string::npos) {
    for (const auto& link : before)
      if (link.second == to) FailMessage(object + ": a device named " + to + " exists in the container's network namespace already");
  }

  std::string payload;
  SyncWithParent("netDevice " + from, &payload);
  std::vector<RtAddress> addresses;
  if (!tsrun_common::RtDecodeAddresses(payload, &addresses)) FailMessage(object + ": malformed address list from tsrun");

  // The kernel keeps the ifindex unless the namespace has it taken; either way the
  // moved device is the one index that was not there before.
  int moved = 0;
  for (const auto& link : Links(nl, object)) {
    int index = link.first;
    if (before.count(index) != 0) continue;
    if (moved != 0) FailMessage(object + ": more than one new device appeared in the container's network namespace");
    moved = index;
  }
  if (moved == 0) FailMessage(object + ": not found in the container's network namespace after the move");

  const char* failed = nullptr;
  for (const RtAddress& addr : addresses) {
    ifaddrmsg msg = {};
    msg.ifa_family = addr.family;
    msg.ifa_prefixlen = addr.prefixlen;
    msg.ifa_scope = addr.scope;
    msg.ifa_index = static_cast<uint32_t>(moved);
    RtRequest add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &msg, sizeof msg);
    if (!addr.local.empty()) add.Attr(IFA_LOCAL, addr.local.data(), addr.local.size());
    if (!addr.address.empty()) add.Attr(IFA_ADDRESS, addr.address.data(), addr.address.size());
    if (!addr.broadcast.empty()) add.Attr(IFA_BROADCAST, addr.broadcast.data(), addr.broadcast.size());
    std::string label = addr.label.empty() ? "" : RenamedLabel(addr.label, from, to);
    if (!label.empty()) add.Attr(IFA_LABEL, label);
    if (addr.flags != 0) add.Attr(IFA_FLAGS, &addr.flags, sizeof addr.flags);
    Check(object, nl.Exchange(add, [](const nlmsghdr*) {}, &failed), failed, "RTM_NEWADDR");
  }

  ifinfomsg up = {};
  up.ifi_index = moved;
  up.ifi_flags = IFF_UP;
  up.ifi_change = IFF_UP;
  RtRequest set(RTM_NEWLINK, 0, &up, sizeof up);
  Check(object, nl.Exchange(set, [](const nlmsghdr*) {}, &failed), failed, "RTM_NEWLINK (set up)");
}

}  // namespace init
