// tsrun-test-keyring: prints the session keyring of the calling process as
// "<serial> <type>;<uid>;<gid>;<perm hex>;<description>" (KEYCTL_DESCRIBE), so tests
// can see whether a container got a session keyring of its own. Static: it runs
// inside busybox containers.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {
constexpr long kKeyctlGetKeyringId = 0;
constexpr long kKeyctlDescribe = 6;
constexpr long kKeySpecSessionKeyring = -3;
}  // namespace

int main() {
  // create = 0: report the keyring the process has, never make one.
  long id = syscall(SYS_keyctl, kKeyctlGetKeyringId, kKeySpecSessionKeyring, 0);
  if (id < 0) {
    fprintf(stderr, "keyctl(GET_KEYRING_ID): %s\n", strerror(errno));
    return 1;
  }
  char description[512];
  long n = syscall(SYS_keyctl, kKeyctlDescribe, id, description, sizeof description);
  if (n < 0) {
    fprintf(stderr, "keyctl(DESCRIBE %ld): %s\n", id, strerror(errno));
    return 1;
  }
  description[sizeof description - 1] = '\0';
  printf("%ld %s\n", id, description);
  return 0;
}
