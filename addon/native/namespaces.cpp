// Facts about namespace files that only an ioctl tells.
#include <errno.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

// namespaceOwner(fd): { dev, ino } of the user namespace that owns the namespace
// open at fd (NS_GET_USERNS). exec compares it with the container's user namespace:
// a namespace some other user namespace owns (a network namespace the host's root
// made, say) must be joined while the exec's init is still tsrun's, not from inside
// the container's user namespace, which has no rights over it.
Napi::Value NamespaceOwner(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "namespaceOwner");
  UniqueFd owner(ioctl(fd, NS_GET_USERNS));
  if (owner.get() < 0) ThrowErrno(env, errno, "ioctl NS_GET_USERNS", std::to_string(fd));
  struct stat st;
  if (fstat(owner.get(), &st) < 0) ThrowErrno(env, errno, "fstat", "owner of " + std::to_string(fd));
  Napi::Object out = Napi::Object::New(env);
  out.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  out.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  return out;
}

}  // namespace tsrun
