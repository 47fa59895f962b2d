// oomEventFd(memoryCgroupDir): the cgroup v1 way to hear of OOM kills (runc `events`).
// An eventfd registered with the memory cgroup's cgroup.event_control on its
// memory.oom_control: the kernel signals it at each OOM in the cgroup, and once more
// when the cgroup is removed. (On cgroup v2, memory.events is watched instead.)
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

Napi::Value OomEventFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = ArgString(info, 0, "oomEventFd", "memoryCgroupDir");
  std::string controlPath = dir + "/memory.oom_control";
  std::string registerPath = dir + "/cgroup.event_control";
  // Only needed while the registration is written: the kernel looks it up then.
  UniqueFd control(open(controlPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!control) ThrowErrno(env, errno, "open", controlPath);
  UniqueFd event(eventfd(0, EFD_CLOEXEC));
  if (!event) ThrowErrno(env, errno, "eventfd");
  UniqueFd registration(open(registerPath.c_str(), O_WRONLY | O_CLOEXEC));
  if (!registration) ThrowErrno(env, errno, "open", registerPath);
  std::string line = std::to_string(event.get()) + " " + std::to_string(control.get());
  ssize_t n = write(registration.get(), line.data(), line.size());
  if (n < 0) ThrowErrno(env, errno, "write", registerPath);
  if (static_cast<size_t>(n) != line.size()) ThrowErrno(env, EIO, "write", registerPath + " (short write)");
  return Napi::Number::New(env, event.release());
}

}  // namespace tsrun
