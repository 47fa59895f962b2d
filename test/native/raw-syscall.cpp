// tsrun-test-syscall: makes raw system calls by number and prints what each returned,
// so seccomp tests can call numbers no libc wraps (past the highest one a profile
// names), other ABIs' numbers and full 64-bit arguments. Each argument is one call:
// NR (the native ABI), i386:NR (int $0x80, x86_64 only) or x32:NR (NR with the x32
// bit, x86_64 only), then up to six call arguments after commas (decimal or 0x hex,
// all 64 bits; missing ones are 0): "39,0x8000000000000001". Prints one line per
// call, "<argument> <errno name>", or "<argument> ok" when it succeeded. Static: it
// runs inside busybox containers. Only calls the test's filter refuses, that no
// kernel has, or that ignore their arguments (getpid) are meant to be made.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

constexpr long kX32SyscallBit = 0x40000000;
constexpr int kMaxArgs = 6;

struct Call {
  long nr = 0;
  unsigned long args[kMaxArgs] = {};
};

long Native(const Call& c) {
  long rc = syscall(c.nr, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]);
  return rc < 0 ? -errno : rc;
}

#if defined(__x86_64__)
// The i386 ABI from a 64-bit process: the kernel takes int $0x80 as a compat call
// (seccomp sees AUDIT_ARCH_I386) when it has IA32 emulation. Returns -errno.
// The i386 ABI passes 32-bit arguments: the upper halves are dropped.
long I386(const Call& c) {
  long rc = c.nr;
  asm volatile("int $0x80"
               : "+a"(rc)
               : "b"(c.args[0]), "c"(c.args[1]), "d"(c.args[2]), "S"(c.args[3]), "D"(c.args[4])
               : "memory");
  return rc;
}
#endif

// "NR[,ARG]...": false when it is not that.
bool ParseCall(const char* s, Call* out) {
  char* end = nullptr;
  errno = 0;
  long nr = strtol(s, &end, 0);
  if (errno != 0 || end == s || nr < 0) return false;
  out->nr = nr;
  for (int i = 0; *end == ','; i++) {
    if (i == kMaxArgs) return false;
    const char* start = end + 1;
    errno = 0;
    out->args[i] = strtoul(start, &end, 0);
    if (errno != 0 || end == start || *start == '-') return false;
  }
  return *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s [i386:|x32:]NR[,ARG]...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    const char* arg = argv[i];
    Call call;
    long rc = 0;
    if (strncmp(arg, "i386:", 5) == 0 && ParseCall(arg + 5, &call)) {
#if defined(__x86_64__)
      rc = I386(call);
#else
      fprintf(stderr, "%s: i386 calls need an x86_64 build\n", arg);
      return 2;
#endif
    } else if (strncmp(arg, "x32:", 4) == 0 && ParseCall(arg + 4, &call)) {
#if defined(__x86_64__)
      call.nr |= kX32SyscallBit;
      rc = Native(call);
#else
      fprintf(stderr, "%s: x32 calls need an x86_64 build\n", arg);
      return 2;
#endif
    } else if (ParseCall(arg, &call)) {
      rc = Native(call);
    } else {
      fprintf(stderr, "%s: not a call (NR[,ARG]...)\n", arg);
      return 2;
    }
    if (rc >= 0) {
      printf("%s ok\n", arg);
    } else {
      const char* name = strerrorname_np(static_cast<int>(-rc));
      if (name) {
        printf("%s %s\n", arg, name);
      } else {
        printf("%s errno %ld\n", arg, -rc);
      }
    }
  }
  return 0;
}
