// Facts about namespace files that only an ioctl tells.
#include <errno.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

namespace {

bool SameFile(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

}  // namespace

// namespaceOwnedWithin(fd, userFd): whether the user namespace at userFd, or one of
// its descendants, owns the namespace open at fd (NS_GET_USERNS, then NS_GET_PARENT up
// the chain; EPERM from it: the chain left what we may see, or reached the top). exec
// and create join a namespace owned elsewhere (a network namespace the host's root
// made, say) while the init is still tsrun's: from inside the container's user
// namespace, which has no rights over it, the kernel refuses the setns.
Napi::Value NamespaceOwnedWithin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "namespaceOwnedWithin");
  int userFd = ArgFd(info, 1, "namespaceOwnedWithin");
  struct stat user;
  if (fstat(userFd, &user) < 0) ThrowErrno(env, errno, "fstat", std::to_string(userFd));
  UniqueFd owner(ioctl(fd, NS_GET_USERNS));
  if (owner.get() < 0) ThrowErrno(env, errno, "ioctl NS_GET_USERNS", std::to_string(fd));
  // User namespaces nest at most 32 deep.
  for (int depth = 0; depth <= 32; depth++) {
    struct stat st;
    if (fstat(owner.get(), &st) < 0) ThrowErrno(env, errno, "fstat", "owner of " + std::to_string(fd));
    if (SameFile(st, user)) return Napi::Boolean::New(env, true);
    int parent = ioctl(owner.get(), NS_GET_PARENT);
    if (parent < 0) {
      if (errno == EPERM) break;
      ThrowErrno(env, errno, "ioctl NS_GET_PARENT", "owner of " + std::to_string(fd));
    }
    owner.reset(parent);
  }
  return Napi::Boolean::New(env, false);
}

}  // namespace tsrun
