// The sd_notify relay (NOTIFY_SOCKET): a datagram socket in the container's state dir
// that the container's process reports READY=1 on, and the datagrams passed on to the
// caller's socket (systemd, podman). See src/lifecycle/sd-notify.ts.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {
namespace {

constexpr const char* kSocketName = "notify.sock";

// An AF_UNIX address for `path`: "@name" is an abstract one (as systemd and Go write
// them). A path too long for sun_path is reached through an O_PATH fd of its
// directory (/proc/self/fd/<n>/<name>), which `dirFd` then holds.
bool AddressOf(const std::string& path, struct sockaddr_un* addr, socklen_t* len, UniqueFd* dirFd) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  std::string name = path;
  if (!path.empty() && path[0] == '@') {
    if (path.size() > sizeof addr->sun_path) {
      errno = ENAMETOOLONG;
      return false;
    }
    memcpy(addr->sun_path + 1, path.data() + 1, path.size() - 1);
    *len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size());
    return true;
  }
  if (path.size() >= sizeof addr->sun_path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
      errno = ENAMETOOLONG;
      return false;
    }
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    *dirFd = UniqueFd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!*dirFd) return false;
    name = "/proc/self/fd/" + std::to_string(dirFd->get()) + path.substr(slash);
    if (name.size() >= sizeof addr->sun_path) {
      errno = ENAMETOOLONG;
      return false;
    }
  }
  memcpy(addr->sun_path, name.data(), name.size());
  *len = static_cast<socklen_t>(sizeof *addr);
  return true;
}

// The first line starting with READY= among the datagrams queued on fd, "" when none.
// -1 (errno set) on a read error other than "nothing queued".
int TakeReady(int fd, std::string* ready) {
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    std::string datagram(buf, static_cast<size_t>(n));
    size_t at = 0;
    while (at <= datagram.size()) {
      size_t end = datagram.find('\n', at);
      if (end == std::string::npos) end = datagram.size();
      if (datagram.compare(at, 6, "READY=") == 0) {
        *ready = datagram.substr(at, end - at);
        return 1;
      }
      at = end + 1;
    }
  }
}

struct AwaitResult {
  int error = 0;           // errno of the failing call
  const char* syscall = nullptr;
  bool ready = false;
  std::string line;        // the READY= line
};

// Until a READY= line arrives on the socket or the process ends (its pidfd turns
// readable); what it queued before its end still counts. pid 0: gone already.
AwaitResult AwaitReady(int fd, int pid, const std::string& startTime) {
  AwaitResult r;
  UniqueFd pidfd(pid > 0 ? PidfdOpen(pid) : -1);
  bool gone = !pidfd || (!startTime.empty() && StartTimeOf(pid) != startTime);
  if (!pidfd && pid > 0 && errno != ESRCH) {
    r.error = errno;
    r.syscall = "pidfd_open";
    return r;
  }
  for (;;) {
    int took = TakeReady(fd, &r.line);
    if (took < 0) {
      r.error = errno;
      r.syscall = "recv";
      return r;
    }
    if (took > 0) {
      r.ready = true;
      return r;
    }
    if (gone) return r;
    struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int rc = poll(p, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      r.error = errno;
      r.syscall = "poll";
      return r;
    }
    // One more look at the socket first: the process may have written just before its end.
    if (p[1].revents) gone = true;
  }
}

Napi::Value AwaitResultValue(Napi::Env env, const AwaitResult& r) {
  if (r.error != 0) ThrowErrno(env, r.error, r.syscall, "notify socket");
  return r.ready ? Napi::Value(Napi::String::New(env, r.line)) : env.Null();
}

std::string OptionalString(const Napi::CallbackInfo& info, size_t index) {
  return info.Length() > index && info[index].IsString() ? info[index].As<Napi::String>().Utf8Value() : std::string();
}

class AwaitReadyWorker : public Napi::AsyncWorker {
 public:
  AwaitReadyWorker(Napi::Env env, int fd, int pid, std::string startTime)
      : Napi::AsyncWorker(env, "tsrun:notifyAwaitReady"), fd_(fd), pid_(pid), startTime_(std::move(startTime)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { result_ = AwaitReady(fd_, pid_, startTime_); }
  void OnOK() override {
    try {
      deferred_.Resolve(AwaitResultValue(Env(), result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  int fd_;
  int pid_;
  std::string startTime_;
  AwaitResult result_;
  Napi::Promise::Deferred deferred_;
};

}  // namespace

// notifyListen(dir): a datagram socket bound at <dir>/notify.sock, which anyone may
// write to (0777: the container's process may run as any user), O_CLOEXEC. A socket
// file left there by an earlier start is replaced; any other file is an error. Bound
// through an fd of dir, so a long --root does not overflow sun_path.
Napi::Value NotifyListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = ArgString(info, 0, "notifyListen", "dir");
  std::string object = dir + "/" + kSocketName;
  UniqueFd dirFd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dirFd) ThrowErrno(env, errno, "open", dir);
  struct stat st;
  if (fstatat(dirFd.get(), kSocketName, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISSOCK(st.st_mode)) ThrowErrno(env, EEXIST, "bind", object + " (not a socket)");
    if (unlinkat(dirFd.get(), kSocketName, 0) < 0) ThrowErrno(env, errno, "unlinkat", object);
  } else if (errno != ENOENT) {
    ThrowErrno(env, errno, "fstatat", object);
  }
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string viaFd = "/proc/self/fd/" + std::to_string(dirFd.get()) + "/" + kSocketName;
  memcpy(addr.sun_path, viaFd.data(), viaFd.size());
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) ThrowErrno(env, errno, "socket", object);
  if (bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) ThrowErrno(env, errno, "bind", object);
  if (fchmodat(dirFd.get(), kSocketName, 0777, 0) < 0) ThrowErrno(env, errno, "fchmodat", object);
  return Napi::Number::New(env, sock.release());
}

// notifyAwaitReady(fd, pid[, startTime]): the first READY= line the process (or
// another of the container) sends on fd, or null once the process has ended without
// one; blocks this thread. With startTime (as state.json records it) a pid reused
// since counts as ended.
Napi::Value NotifyAwaitReady(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "notifyAwaitReady");
  int pid = ArgInt(info, 1, "notifyAwaitReady", "pid");
  return AwaitResultValue(info.Env(), AwaitReady(fd, pid, OptionalString(info, 2)));
}

// notifyAwaitReadyAsync(fd, pid[, startTime]): the same, on a thread of libuv's pool.
Napi::Value NotifyAwaitReadyAsync(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "notifyAwaitReadyAsync");
  int pid = ArgInt(info, 1, "notifyAwaitReadyAsync", "pid");
  auto* worker = new AwaitReadyWorker(info.Env(), fd, pid, OptionalString(info, 2));  // deletes itself
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// notifySend(target, messages): each message as one datagram to the AF_UNIX datagram
// socket `target` ("@name": abstract), in order.
Napi::Value NotifySend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = ArgString(info, 0, "notifySend", "target");
  if (info.Length() < 2 || !info[1].IsArray()) throw Napi::TypeError::New(env, "notifySend: messages must be an array of strings");
  Napi::Array messages = info[1].As<Napi::Array>();
  struct sockaddr_un addr;
  socklen_t len = 0;
  UniqueFd dirFd;
  if (target.empty()) ThrowErrno(env, EINVAL, "connect", "(empty NOTIFY_SOCKET)");
  if (!AddressOf(target, &addr, &len, &dirFd)) ThrowErrno(env, errno, "connect", target);
  UniqueFd sock(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) ThrowErrno(env, errno, "socket", target);
  int rc;
  do {
    rc = connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), len);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) ThrowErrno(env, errno, "connect", target);
  for (uint32_t i = 0; i < messages.Length(); i++) {
    std::string message = messages.Get(i).As<Napi::String>().Utf8Value();
    ssize_t n;
    do {
      n = send(sock.get(), message.data(), message.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) ThrowErrno(env, errno, "send", target);
  }
  return env.Undefined();
}

}  // namespace tsrun
