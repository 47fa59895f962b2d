// rtnetlink requests for linux.netDevices, shared by the addon (which moves a device
// out of the runtime's network namespace) and the init (which sets it up in the
// container's). Plain syscalls, no exceptions: each caller reports errors its way.
#pragma once

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <map>
#include <string>
#include <vector>

namespace tsrun_common {

// One request: header, the fixed struct of its type, then attributes.
class RtRequest {
 public:
  RtRequest(uint16_t type, uint16_t flags, const void* fixed, size_t fixedLen) : buf_(NLMSG_SPACE(fixedLen), 0) {
    nlmsghdr* h = Header();
    h->nlmsg_len = NLMSG_LENGTH(fixedLen);
    h->nlmsg_type = type;
    h->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    memcpy(NLMSG_DATA(h), fixed, fixedLen);
  }
  void Attr(uint16_t type, const void* data, size_t len) {
    size_t at = NLMSG_ALIGN(Header()->nlmsg_len);
    buf_.resize(at + RTA_SPACE(len), 0);
    rtattr* rta = reinterpret_cast<rtattr*>(buf_.data() + at);
    rta->rta_type = type;
    rta->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
    memcpy(RTA_DATA(rta), data, len);
    Header()->nlmsg_len = static_cast<uint32_t>(at + RTA_SPACE(len));
  }
  void Attr(uint16_t type, const std::string& text) { Attr(type, text.c_str(), text.size() + 1); }
  nlmsghdr* Header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }

 private:
  std::vector<char> buf_;  // malloc'd storage: aligned for nlmsghdr
};

// The attributes after a message's fixed part, indexed by type (small types only).
inline std::vector<std::string> RtAttributes(const nlmsghdr* h, size_t fixedLen) {
  std::vector<std::string> attrs(64);
  if (h->nlmsg_len < NLMSG_SPACE(fixedLen)) return attrs;
  const char* base = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(fixedLen);
  int len = static_cast<int>(h->nlmsg_len - NLMSG_SPACE(fixedLen));
  for (const rtattr* rta = reinterpret_cast<const rtattr*>(base); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    uint16_t type = rta->rta_type & NLA_TYPE_MASK;
    if (type < attrs.size()) attrs[type].assign(static_cast<const char*>(RTA_DATA(rta)), RTA_PAYLOAD(rta));
  }
  return attrs;
}

// A NETLINK_ROUTE socket; it belongs to the network namespace it was made in.
class Rtnetlink {
 public:
  explicit Rtnetlink(int fd) : fd_(fd) {}

  // Sends `req`, reads replies until its ack (or a dump's end) and passes each data
  // message to `onMessage`. Returns 0, or an errno with *failed naming the step:
  // "sendto", "recvfrom", or nullptr for the kernel's answer to the request itself.
  // Only the kernel's replies to this very request are read (sender 0, our sequence).
  template <typename F>
  int Exchange(RtRequest& req, F onMessage, const char** failed) {
    nlmsghdr* h = req.Header();
    if ((h->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP) h->nlmsg_flags |= NLM_F_ACK;
    h->nlmsg_seq = ++seq_;
    sockaddr_nl kernel = {};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
      *failed = "sendto";
      return errno;
    }
    std::vector<char> buf(65536);
    for (;;) {
      sockaddr_nl from = {};
      socklen_t fromLen = sizeof from;
      ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 0) {
        if (errno == EINTR) continue;
        *failed = "recvfrom";
        return errno;
      }
      if (from.nl_pid != 0) continue;
      int left = static_cast<int>(n);
      for (nlmsghdr* r = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(r, left); r = NLMSG_NEXT(r, left)) {
        if (r->nlmsg_seq != seq_) continue;
        if (r->nlmsg_type == NLMSG_DONE) return 0;
        if (r->nlmsg_type == NLMSG_ERROR) {
          *failed = nullptr;
          if (r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return EPROTO;
          return -static_cast<nlmsgerr*>(NLMSG_DATA(r))->error;  // 0: the ack
        }
        onMessage(r);
      }
    }
  }

 private:
  int fd_;
  uint32_t seq_ = 0;
};

// Every device of the socket's namespace: ifindex -> name.
inline int RtLinks(Rtnetlink& nl, std::map<int, std::string>* links, const char** failed) {
  ifinfomsg info = {};
  RtRequest req(RTM_GETLINK, NLM_F_DUMP, &info, sizeof info);
  return nl.Exchange(
      req,
      [&](const nlmsghdr* r) {
        if (r->nlmsg_type != RTM_NEWLINK || r->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return;
        std::string name = RtAttributes(r, sizeof(ifinfomsg))[IFLA_IFNAME];
        (*links)[static_cast<const ifinfomsg*>(NLMSG_DATA(r))->ifi_index] = name.c_str();  // without the NUL
      },
      failed);
}

// An address carried over to the container: the kernel drops a device's addresses
// when it changes namespace. Encoded as text to cross the sync socket.
struct RtAddress {
  uint8_t family = 0, prefixlen = 0, scope = 0;
  uint32_t flags = 0;  // the settable IFA_FLAGS
  std::string local, address, broadcast, label;
};

// The flags a user may give a new address (the others are the kernel's own state).
constexpr uint32_t kRtSettableAddressFlags =
    IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_NOPREFIXROUTE | IFA_F_MANAGETEMPADDR | IFA_F_MCAUTOJOIN;

inline std::string RtHex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out = bytes.empty() ? "-" : "";
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

inline bool RtUnhex(const std::string& text, std::string* bytes) {
  bytes->clear();
  if (text == "-") return true;
  if (text.size() % 2 != 0) return false;
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *bytes += static_cast<char>(hi << 4 | lo);
  }
  return true;
}

// "family prefixlen scope flags local address broadcast label" per address, ';' between.
inline std::string RtEncodeAddresses(const std::vector<RtAddress>& list) {
  std::string out;
  for (const RtAddress& a : list) {
    if (!out.empty()) out += ';';
    out += std::to_string(a.family) + ' ' + std::to_string(a.prefixlen) + ' ' + std::to_string(a.scope) + ' ' +
           std::to_string(a.flags) + ' ' + RtHex(a.local) + ' ' + RtHex(a.address) + ' ' + RtHex(a.broadcast) + ' ' +
           RtHex(a.label);
  }
  return out;
}

inline bool RtDecodeAddresses(const std::string& text, std::vector<RtAddress>* list) {
  list->clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> f;
    size_t at = start;
    while (at <= end) {
      size_t sp = text.find(' ', at);
      if (sp == std::string::npos || sp > end) sp = end;
      f.push_back(text.substr(at, sp - at));
      at = sp + 1;
    }
    if (f.size() != 8) return false;
    RtAddress a;
    char* rest = nullptr;
    unsigned long family = strtoul(f[0].c_str(), &rest, 10), prefixlen = strtoul(f[1].c_str(), &rest, 10),
                  scope = strtoul(f[2].c_str(), &rest, 10), flags = strtoul(f[3].c_str(), &rest, 10);
    if (family > 255 || prefixlen > 255 || scope > 255 || flags > 0xffffffffUL) return false;
    a.family = static_cast<uint8_t>(family);
    a.prefixlen = static_cast<uint8_t>(prefixlen);
    a.scope = static_cast<uint8_t>(scope);
    a.flags = static_cast<uint32_t>(flags) & kRtSettableAddressFlags;
    if (!RtUnhex(f[4], &a.local) || !RtUnhex(f[5], &a.address) || !RtUnhex(f[6], &a.broadcast) || !RtUnhex(f[7], &a.label)) return false;
    list->push_back(a);
    start = end + 1;
  }
  return true;
}

}  // namespace tsrun_common
