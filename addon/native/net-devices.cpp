// moveNetDevice(pid, hostName, name): the runtime's half of linux.netDevices. Moves a
// device out of tsrun's own network namespace into that of process `pid` (the init,
// blocked at its `netDevice` sync point), renamed to `name` in the same request, and
// returns the device's permanent global addresses, encoded for the init, which adds
// them again on its side (the kernel drops them on the move). The move needs
// CAP_NET_ADMIN over the runtime's namespace, which an init in a user namespace of
// its own no longer has: that is why this half runs in tsrun.
#include <fcntl.h>

#include "addon.hpp"
#include "fd.hpp"
#include "../common/rtnetlink.hpp"

namespace tsrun {

using tsrun_common::RtAddress;
using tsrun_common::RtRequest;
using tsrun_common::Rtnetlink;

namespace {

void Check(Napi::Env env, int err, const char* failed, const char* request, const std::string& object) {
  if (err != 0) ThrowErrno(env, err, failed ? failed : request, object);
}

std::vector<RtAddress> PermanentGlobalAddresses(Napi::Env env, Rtnetlink& nl, int index, const std::string& object) {
  ifaddrmsg query = {};
  RtRequest req(RTM_GETADDR, NLM_F_DUMP, &query, sizeof query);
  std::vector<RtAddress> found;
  const char* failed = nullptr;
  int err = nl.Exchange(
      req,
      [&](const nlmsghdr* r) {
        if (r->nlmsg_type != RTM_NEWADDR || r->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
        const ifaddrmsg* msg = static_cast<const ifaddrmsg*>(NLMSG_DATA(r));
        if (static_cast<int>(msg->ifa_index) != index || msg->ifa_scope != RT_SCOPE_UNIVERSE) return;
        std::vector<std::string> attrs = tsrun_common::RtAttributes(r, sizeof(ifaddrmsg));
        uint32_t flags = msg->ifa_flags;
        if (attrs[IFA_FLAGS].size() == sizeof flags) memcpy(&flags, attrs[IFA_FLAGS].data(), sizeof flags);
        if (!(flags & IFA_F_PERMANENT)) return;
        RtAddress a;
        a.family = msg->ifa_family;
        a.prefixlen = msg->ifa_prefixlen;
        a.scope = msg->ifa_scope;
        a.flags = flags & tsrun_common::kRtSettableAddressFlags;
        a.local = attrs[IFA_LOCAL];
        a.address = attrs[IFA_ADDRESS];
        a.broadcast = attrs[IFA_BROADCAST];
        a.label = attrs[IFA_LABEL];
        found.push_back(a);
      },
      &failed);
  Check(env, err, failed, "RTM_GETADDR", object);
  return found;
}

}  // namespace

Napi::Value MoveNetDevice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "moveNetDevice", "pid");
  std::string hostName = ArgString(info, 1, "moveNetDevice", "hostName");
  std::string name = ArgString(info, 2, "moveNetDevice", "name");
  std::string object = "network device " + hostName;

  std::string nsPath = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd netns(open(nsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) ThrowErrno(env, errno, "open", nsPath);
  UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) ThrowErrno(env, errno, "socket", "AF_NETLINK");
  Rtnetlink nl(sock.get());

  ifinfomsg query = {};
  RtRequest get(RTM_GETLINK, 0, &query, sizeof query);
  get.Attr(IFLA_IFNAME, hostName);
  int index = 0;
  const char* failed = nullptr;
  int err = nl.Exchange(
      get,
      [&](const nlmsghdr* r) {
        if (r->nlmsg_type == RTM_NEWLINK && r->nlmsg_len >= NLMSG_LENGTH(sizeof(ifinfomsg)))
          index = static_cast<const ifinfomsg*>(NLMSG_DATA(r))->ifi_index;
      },
      &failed);
  if (err == ENODEV && !failed) throw Napi::Error::New(env, "network device " + hostName + " does not exist in the runtime's network namespace");
  Check(env, err, failed, "RTM_GETLINK", object);
  if (index == 0) throw Napi::Error::New(env, "RTM_GETLINK " + object + ": no device in the answer");

  std::vector<RtAddress> addresses = PermanentGlobalAddresses(env, nl, index, object);

  // One request: the kernel moves the device under its own name (the init has checked
  // that the new one is free in the container), then renames it there; a "%d"
  // template gets the first free number.
  ifinfomsg move = {};
  move.ifi_index = index;
  RtRequest req(RTM_NEWLINK, 0, &move, sizeof move);
  uint32_t nsFd = static_cast<uint32_t>(netns.get());
  req.Attr(IFLA_NET_NS_FD, &nsFd, sizeof nsFd);
  req.Attr(IFLA_IFNAME, name);
  err = nl.Exchange(req, [](const nlmsghdr*) {}, &failed);
  Check(env, err, failed, "RTM_NEWLINK", object + " (moving it to the container's network namespace as " + name + ")");
  return Napi::String::New(env, tsrun_common::RtEncodeAddresses(addresses));
}

}  // namespace tsrun
