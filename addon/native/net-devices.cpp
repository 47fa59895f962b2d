// moveNetDevice(netnsFd, netlinkFd, hostName, name): linux.netDevices. Moves a device
// out of tsrun's own network namespace into the container's (netnsFd), renames it,
// gives it back its permanent global addresses (the kernel drops them on the move)
// and sets it up. All of it is done by tsrun, which has CAP_NET_ADMIN over both
// namespaces (an init in a user namespace of its own has not, over a namespace it
// joined or to move a device out). It reaches the container's namespace through
// netlinkFd: a NETLINK_ROUTE socket made there, with tsrun's credentials, by a
// helper tsrun-init (src/lifecycle/net-devices.ts), so that tsrun itself never enters
// a container's namespace. Should a step fail once the device has left, it is moved
// back (best effort) and the error says where the device is. checkNetDevice, with the
// same arguments, makes only the checks that come before the move; returnNetDevice
// (hostName, then the name it has in the container) moves one back, for a create
// whose later device failed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cstdio>

#include "addon.hpp"
#include "fd.hpp"
#include "rtnetlink.hpp"

namespace tsrun {

namespace {

struct Link {
  int index = 0;  // 0: no such device
  std::string name;
  unsigned flags = 0;  // IFF_*
};

// An address to carry over. The spec keeps the permanent ones of global scope.
struct Address {
  ifaddrmsg msg;
  uint32_t flags;  // IFA_FLAGS, the settable ones
  std::string local, address, broadcast, label, priority, proto;
};

// The flags a user may give a new address (the others are the kernel's own state).
constexpr uint32_t kSettableAddressFlags = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;

// "10.0.0.2/24", for messages.
std::string AddressText(const Address& a) {
  const std::string& bytes = a.local.empty() ? a.address : a.local;
  char text[INET6_ADDRSTRLEN] = "?";
  if (bytes.size() == (a.msg.ifa_family == AF_INET ? 4u : 16u)) inet_ntop(a.msg.ifa_family, bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(a.msg.ifa_prefixlen);
}

// An IPv4 label is the device's name or "<name>:<alias>": it follows a rename.
std::string RenamedLabel(const std::string& label, const std::string& from, const std::string& to) {
  if (label.compare(0, from.size(), from) != 0) return "";
  std::string renamed = to + label.substr(from.size());
  return renamed.size() < IFNAMSIZ ? renamed : "";
}

RtRequest AddAddressRequest(const Address& a, int index, const std::string& from, const std::string& to) {
  ifaddrmsg msg = a.msg;
  msg.ifa_index = static_cast<uint32_t>(index);
  msg.ifa_flags = 0;
  RtRequest add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &msg, sizeof msg);
  if (!a.local.empty()) add.Attr(IFA_LOCAL, a.local.data(), a.local.size());
  if (!a.address.empty()) add.Attr(IFA_ADDRESS, a.address.data(), a.address.size());
  if (!a.broadcast.empty()) add.Attr(IFA_BROADCAST, a.broadcast.data(), a.broadcast.size());
  std::string label = a.label.empty() ? "" : RenamedLabel(a.label, from, to);
  if (!label.empty()) add.Attr(IFA_LABEL, label);
  if (a.flags != 0) add.Attr(IFA_FLAGS, &a.flags, sizeof a.flags);
  if (!a.priority.empty()) add.Attr(IFA_RT_PRIORITY, a.priority.data(), a.priority.size());
  if (!a.proto.empty()) add.Attr(IFA_PROTO, a.proto.data(), a.proto.size());
  return add;
}

RtRequest SetUpRequest(int index, bool up) {
  ifinfomsg msg = {};
  msg.ifi_index = index;
  msg.ifi_flags = up ? IFF_UP : 0;
  msg.ifi_change = IFF_UP;
  return RtRequest(RTM_NEWLINK, 0, &msg, sizeof msg);
}

// Moves device `index` into namespace nsFd, named `name` there (see MoveNetDevice).
RtRequest MoveRequest(int index, int nsFd, const std::string& name) {
  ifinfomsg msg = {};
  msg.ifi_index = index;
  RtRequest req(RTM_NEWLINK, 0, &msg, sizeof msg);
  uint32_t fd = static_cast<uint32_t>(nsFd);
  req.Attr(IFLA_NET_NS_FD, &fd, sizeof fd);
  req.Attr(IFLA_IFNAME, name);
  return req;
}

// RTM_GETLINK by name (an alternative name matches too) or, with index, by index.
// Returns 0 with *link filled (index 0: no such device), or an errno with *failed
// naming the step (see Rtnetlink::Exchange).
int LookUpLink(Rtnetlink& nl, const std::string& name, int index, Link* link, const char** failed) {
  ifinfomsg query = {};
  query.ifi_index = index;
  RtRequest req(RTM_GETLINK, 0, &query, sizeof query);
  if (index == 0) req.Attr(IFLA_IFNAME, name);
  *link = Link();
  int err = nl.Exchange(
      req,
      [&](const nlmsghdr* r) {
        if (r->nlmsg_type != RTM_NEWLINK || r->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
        const ifinfomsg* msg = static_cast<const ifinfomsg*>(NLMSG_DATA(r));
        link->index = msg->ifi_index;
        link->flags = msg->ifi_flags;
        link->name = RtString(RtAttributes(r, sizeof(ifinfomsg))[IFLA_IFNAME]);
      },
      failed);
  return err == ENODEV && !*failed ? 0 : err;
}

// Requests of one device move; every failure throws naming the device and the step.
class NetDeviceMove {
 public:
  NetDeviceMove(Napi::Env env, std::string object) : env_(env), object_(std::move(object)) {}

  Link GetLink(Rtnetlink& nl, const std::string& name, int index, const std::string& where) {
    Link link;
    const char* failed = nullptr;
    int err = LookUpLink(nl, name, index, &link, &failed);
    Check(err, failed, "RTM_GETLINK", " (looking up " + (index == 0 ? name : "ifindex " + std::to_string(index)) + " in " + where + ")");
    return link;
  }

  // `where`: the namespace nl talks to, for messages.
  std::vector<Address> PermanentGlobalAddresses(Rtnetlink& nl, int index, const char* where) {
    for (int attempt = 0;; attempt++) {
      ifaddrmsg query = {};
      query.ifa_index = static_cast<uint32_t>(index);
      RtRequest req(RTM_GETADDR, NLM_F_DUMP, &query, sizeof query);
      std::vector<Address> found;
      const char* failed = nullptr;
      int err = nl.Exchange(
          req,
          [&](const nlmsghdr* r) {
            if (r->nlmsg_type != RTM_NEWADDR || r->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) return;
            const ifaddrmsg* msg = static_cast<const ifaddrmsg*>(NLMSG_DATA(r));
            if (static_cast<int>(msg->ifa_index) != index || msg->ifa_scope != RT_SCOPE_UNIVERSE) return;
            std::vector<std::string> attrs = RtAttributes(r, sizeof(ifaddrmsg));
            uint32_t flags = msg->ifa_flags;
            if (attrs[IFA_FLAGS].size() == sizeof flags) memcpy(&flags, attrs[IFA_FLAGS].data(), sizeof flags);
            if (!(flags & IFA_F_PERMANENT)) return;
            found.push_back({*msg, flags & kSettableAddressFlags, attrs[IFA_LOCAL], attrs[IFA_ADDRESS], attrs[IFA_BROADCAST],
                             RtString(attrs[IFA_LABEL]), attrs[IFA_RT_PRIORITY], attrs[IFA_PROTO]});
          },
          &failed);
      // The address table changed during the dump: the answer may miss some; ask again.
      if (err == EINTR && failed && attempt < 10) continue;
      Check(err, failed, "RTM_GETADDR", std::string(" (its addresses in ") + where + ")");
      return found;
    }
  }

  void Send(Rtnetlink& nl, RtRequest req, const char* request, const std::string& what) {
    const char* failed = nullptr;
    int err = nl.Exchange(req, [](const nlmsghdr*) {}, &failed);
    Check(err, failed, request, what);
  }

  void Check(int err, const char* failed, const char* request, const std::string& what) {
    if (err != 0) ThrowErrno(env_, err, failed ? failed : request, object_ + what);
  }

 private:
  Napi::Env env_;
  std::string object_;
};

// Best effort, once a step after the move has failed: the device back into the
// runtime's namespace under its own name, with its addresses and its up state. Never
// throws; says where the device is, for the error message. labelsOf: the device name
// the addresses' labels begin with (hostName for addresses read on the host, the
// container's name for ones read there), put back to hostName.
std::string MoveBack(Rtnetlink& container, Rtnetlink& host, int index, const std::string& nameNow, int ownNsFd, const std::string& hostName,
                     const std::vector<Address>& addresses, const std::string& labelsOf, bool wasUp) {
  const char* failed = nullptr;
  auto ignore = [](const nlmsghdr*) {};
  RtRequest moveBack = MoveRequest(index, ownNsFd, hostName);
  if (container.Exchange(moveBack, ignore, &failed) != 0) return "it is left in the container's network namespace as " + nameNow;
  // Found again by its name: its ifindex may have changed on the way back.
  Link back;
  if (LookUpLink(host, hostName, 0, &back, &failed) != 0 || back.index == 0)
    return "it was moved back to the runtime's network namespace, but not under its name";
  int hostIndex = back.index;
  bool complete = true;
  for (const Address& a : addresses) {
    RtRequest add = AddAddressRequest(a, hostIndex, labelsOf, hostName);
    if (host.Exchange(add, ignore, &failed) != 0) complete = false;
  }
  RtRequest up = SetUpRequest(hostIndex, wasUp);
  if (host.Exchange(up, ignore, &failed) != 0) complete = false;
  return complete ? "it was moved back to the runtime's network namespace" : "it was moved back to the runtime's network namespace, without all of its settings";
}

// "tsrun" and 8 random hex digits: the device's name between the move and the rename.
std::string TemporaryName(Napi::Env env) {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) ThrowErrno(env, errno, "getrandom");
  char name[IFNAMSIZ];
  snprintf(name, sizeof name, "tsrun%08x", r);
  return name;
}

const char kRuntimeNs[] = "the runtime's network namespace";
const char kContainerNs[] = "the container's network namespace";

// One call's arguments (netnsFd, netlinkFd, hostName, name) and what both calls
// talk through: the runtime's own namespace and a netlink socket in it.
struct DeviceCall {
  DeviceCall(const Napi::CallbackInfo& info, const char* fn)
      : env(info.Env()),
        netnsFd(ArgFd(info, 0, fn)),
        containerFd(ArgFd(info, 1, fn)),
        hostName(ArgString(info, 2, fn, "hostName")),
        name(ArgString(info, 3, fn, "name")),
        object("network device " + hostName),
        ownNs(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)),
        hostFd(ownNs ? socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) : -1),
        host(hostFd.get()),
        container(containerFd) {
    if (!ownNs) ThrowErrno(env, errno, "open", "/proc/thread-self/ns/net");
    if (!hostFd) ThrowErrno(env, errno, "socket", "AF_NETLINK");
  }

  Napi::Env env;
  int netnsFd, containerFd;
  std::string hostName, name, object;
  UniqueFd ownNs, hostFd;
  Rtnetlink host, container;
};

// What must hold before a device leaves the runtime's namespace (the spec asks for the
// check before the move): the device, found by its name; the container's namespace
// another one, with no device of the new name in it. Returns the device.
Link CheckMovable(DeviceCall& c, NetDeviceMove& move) {
  // A container joined to tsrun's own namespace would have the device already: the
  // "move" would only rename it on the host.
  struct stat target, own;
  if (fstat(c.netnsFd, &target) < 0) ThrowErrno(c.env, errno, "fstat", "the container's network namespace");
  if (fstat(c.ownNs.get(), &own) < 0) ThrowErrno(c.env, errno, "fstat", "/proc/thread-self/ns/net");
  if (target.st_dev == own.st_dev && target.st_ino == own.st_ino)
    throw Napi::Error::New(c.env, c.object + ": the container's network namespace is the runtime's own; a device can only move into another one");

  Link device = move.GetLink(c.host, c.hostName, 0, kRuntimeNs);
  if (device.index == 0) throw Napi::Error::New(c.env, c.object + " does not exist in the runtime's network namespace");
  if (device.name != c.hostName)
    throw Napi::Error::New(c.env, c.object + ": that is an alternative name of " + device.name + "; name the device by its name");
  // The kernel would find the clash only at the rename, after the device has left the
  // runtime's namespace. (An alternative name counts: the lookup finds those too.)
  if (c.name.find('%') == std::string::npos && move.GetLink(c.container, c.name, 0, kContainerNs).index != 0)
    throw Napi::Error::New(c.env, c.object + ": a device named " + c.name + " exists in the container's network namespace already");
  return device;
}

}  // namespace

Napi::Value CheckNetDevice(const Napi::CallbackInfo& info) {
  DeviceCall c(info, "checkNetDevice");
  NetDeviceMove move(c.env, c.object);
  CheckMovable(c, move);
  return c.env.Undefined();
}

Napi::Value MoveNetDevice(const Napi::CallbackInfo& info) {
  DeviceCall c(info, "moveNetDevice");
  Napi::Env env = c.env;
  const std::string &hostName = c.hostName, &name = c.name;
  Rtnetlink &host = c.host, &container = c.container;
  NetDeviceMove move(env, c.object);
  // Again at the move itself: tsrun's checks of the config's other devices came
  // before, and the host may have changed since.
  Link device = CheckMovable(c, move);
  bool isTemplate = name.find('%') != std::string::npos;
  std::vector<Address> addresses = move.PermanentGlobalAddresses(host, device.index, kRuntimeNs);

  // Moved under a name of its own first: the kernel keeps a device's name across
  // namespaces (taking this one only if its own is taken there) and renames it to
  // this one; by it the device is found in the container's namespace whatever its
  // ifindex has become.
  std::string temporary = TemporaryName(env);
  move.Send(host, MoveRequest(device.index, c.netnsFd, temporary), "RTM_NEWLINK", " (moving it into the container's network namespace)");

  // Without its index the device cannot be moved back: the error says where it is.
  Link moved;
  try {
    moved = move.GetLink(container, temporary, 0, kContainerNs);
  } catch (Napi::Error& e) {
    e.Value().Set("message", Napi::String::New(env, e.Message() + "; it is left in the container's network namespace as " + temporary));
    throw;
  }
  if (moved.index == 0) throw Napi::Error::New(env, c.object + ": moved as " + temporary + ", but not found in the container's network namespace");
  std::string nameNow = temporary;
  try {
    ifinfomsg renameMsg = {};
    renameMsg.ifi_index = moved.index;
    RtRequest rename(RTM_NEWLINK, 0, &renameMsg, sizeof renameMsg);
    rename.Attr(IFLA_IFNAME, name);
    move.Send(container, rename, "RTM_NEWLINK", " (renaming " + temporary + " to " + name + " in the container's network namespace)");
    nameNow = isTemplate ? move.GetLink(container, "", moved.index, kContainerNs).name : name;
    for (const Address& a : addresses)
      move.Send(container, AddAddressRequest(a, moved.index, hostName, nameNow), "RTM_NEWADDR", " (adding its address " + AddressText(a) + " in the container's network namespace)");
    move.Send(container, SetUpRequest(moved.index, true), "RTM_NEWLINK", " (setting it up in the container's network namespace)");
  } catch (Napi::Error& e) {
    std::string fate = MoveBack(container, host, moved.index, nameNow, c.ownNs.get(), hostName, addresses, hostName, (device.flags & IFF_UP) != 0);
    e.Value().Set("message", Napi::String::New(env, e.Message() + "; " + fate));
    throw;
  }
  // What returnNetDevice needs should a later device fail.
  Napi::Object result = Napi::Object::New(env);
  result.Set("name", Napi::String::New(env, nameNow));
  result.Set("wasUp", Napi::Boolean::New(env, (device.flags & IFF_UP) != 0));
  return result;
}

Napi::Value ReturnNetDevice(const Napi::CallbackInfo& info) {
  DeviceCall c(info, "returnNetDevice");
  bool wasUp = info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  NetDeviceMove move(c.env, c.object);
  Link moved = move.GetLink(c.container, c.name, 0, kContainerNs);
  if (moved.index == 0) return Napi::String::New(c.env, "it is not in the container's network namespace as " + c.name + " any more");
  // Its addresses as they are there now: the ones it took along.
  std::vector<Address> addresses = move.PermanentGlobalAddresses(c.container, moved.index, kContainerNs);
  return Napi::String::New(c.env, MoveBack(c.container, c.host, moved.index, c.name, c.ownNs.get(), c.hostName, addresses, c.name, wasUp));
}

}  // namespace tsrun
