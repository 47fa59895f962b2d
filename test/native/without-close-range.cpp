// tsrun-test-without-close-range: runs a command as on a kernel older than 5.11,
// where close_range(2) does not know CLOSE_RANGE_CLOEXEC: a seccomp filter, inherited
// by everything the command starts (tsrun's init too), makes close_range with that
// flag fail with EINVAL. Usage: tsrun-test-without-close-range PROGRAM ARGS...
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syscall-filter.hpp"

constexpr __u32 kCloseRangeCloexec = 1U << 2;

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM ARGS...\n", argv[0]);
    return 2;
  }
  int installed = InstallFilter(
      {
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 3),
          // The flags, the third argument's low word (little-endian x86_64).
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args) + 2 * sizeof(__u64)),
          BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kCloseRangeCloexec, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      },
      0);
  if (installed < 0) {
    fprintf(stderr, "%s: seccomp: %s\n", argv[0], strerror(errno));
    return 2;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "%s: exec %s: %s\n", argv[0], argv[1], strerror(errno));
  return 127;
}
