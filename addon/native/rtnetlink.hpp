// rtnetlink requests for linux.netDevices (net-devices.cpp): building a request,
// reading its replies, and the attributes of a reply. Errors are returned as an errno
// with the failing step named; the caller reports them.
#pragma once

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <string>
#include <vector>

namespace tsrun {

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

// A string attribute without its terminating NUL.
inline std::string RtString(const std::string& attr) { return std::string(attr.c_str()); }

// A NETLINK_ROUTE socket (not owned); it belongs to the network namespace it was made in.
class Rtnetlink {
 public:
  explicit Rtnetlink(int fd) : fd_(fd) {}

  // Sends `req`, reads replies until its ack (or a dump's end) and passes each data
  // message to `onMessage`. Returns 0, or an errno with *failed naming the step:
  // "sendto", "recvfrom", "dump interrupted" (EINTR: the table changed during the
  // dump; ask again), or nullptr for the kernel's answer to the request itself.
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
    bool interrupted = false;
    for (;;) {
      sockaddr_nl from = {};
      socklen_t fromLen = sizeof from;
      // MSG_TRUNC: the datagram's real length, so a reply larger than the buffer is
      // an error rather than a silently shortened answer.
      ssize_t n = recvfrom(fd_, buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || static_cast<size_t>(n) > buf.size()) {
        *failed = "recvfrom";
        return n < 0 ? errno : EMSGSIZE;
      }
      if (from.nl_pid != 0) continue;
      int left = static_cast<int>(n);
      for (nlmsghdr* r = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(r, left); r = NLMSG_NEXT(r, left)) {
        if (r->nlmsg_seq != seq_) continue;
        if (r->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (r->nlmsg_type == NLMSG_DONE) {
          // A dump that failed part-way ends with its error in the DONE message.
          int status = 0;
          if (r->nlmsg_len >= NLMSG_LENGTH(sizeof status)) memcpy(&status, NLMSG_DATA(r), sizeof status);
          *failed = status < 0 ? nullptr : interrupted ? "dump interrupted" : nullptr;
          return status < 0 ? -status : interrupted ? EINTR : 0;
        }
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

}  // namespace tsrun
