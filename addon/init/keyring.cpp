// The container's own session keyring (runc's default; `--no-new-keyring` turns it
// off): without it the container shares the session keyring of whoever ran tsrun,
// and every key in it.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "init.hpp"

namespace init {

namespace {
constexpr long kKeyctlDescribe = 6;
constexpr long kKeyctlSetperm = 5;
constexpr long kKeyctlJoinSessionKeyring = 1;
// The calling process's session keyring, whatever its serial.
constexpr long kKeySpecSessionKeyring = -3;
}  // namespace

// sessionKeyring <name> <permBits>: join (create, or join an existing searchable
// one, as exec does) the keyring <name>, then add <permBits> (if any) to its
// permissions so that processes exec'd later can find it.
void OpSessionKeyring(const Args& a) {
  const std::string& name = a[0];
  std::string object = "session keyring " + name;
  uint64_t bits = ParseU64(a[1], object);
  if (bits > 0xffffffffULL) FailMessage(object + ": permission bits out of range");
  if (syscall(SYS_keyctl, kKeyctlJoinSessionKeyring, name.c_str()) < 0) {
    // A kernel without keyrings: nothing to isolate (runc's rule too).
    if (errno == ENOSYS) return;
    Fail(object, "keyctl(JOIN_SESSION_KEYRING)", errno);
  }
  // exec joins the container's keyring: not its owner, it leaves the permissions alone.
  if (bits == 0) return;
  // "type;uid;gid;perm;description", perm in hex, of the keyring just joined; the
  // description holds the name (up to a container id's length): ask for its size.
  long size = syscall(SYS_keyctl, kKeyctlDescribe, kKeySpecSessionKeyring, nullptr, 0);
  if (size <= 0) Fail(object, "keyctl(DESCRIBE)", size < 0 ? errno : EINVAL);
  std::string text(static_cast<size_t>(size), '\0');
  long n = syscall(SYS_keyctl, kKeyctlDescribe, kKeySpecSessionKeyring, text.data(), text.size());
  if (n < 0) Fail(object, "keyctl(DESCRIBE)", errno);
  if (n != size) FailMessage(object + ": its description changed while it was read");
  text.resize(static_cast<size_t>(n) - 1);  // the count includes the final NUL
  size_t at = 0;
  for (int field = 0; field < 3 && at != std::string::npos; field++) {
    at = text.find(';', at);
    if (at != std::string::npos) at++;
  }
  if (at == std::string::npos) FailMessage(object + ": unexpected description \"" + text + "\"");
  errno = 0;
  char* end = nullptr;
  unsigned long perm = strtoul(text.c_str() + at, &end, 16);
  if (errno != 0 || end == text.c_str() + at || *end != ';') FailMessage(object + ": unexpected description \"" + text + "\"");
  if (syscall(SYS_keyctl, kKeyctlSetperm, kKeySpecSessionKeyring, static_cast<unsigned long>(perm | bits)) < 0) {
    Fail(object, "keyctl(SETPERM)", errno);
  }
}

}  // namespace init
