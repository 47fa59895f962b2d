// A seccomp filter on one system call of this architecture for the test programs
// (test/native): installed with no_new_privs, inherited by everything the program
// then starts. The rules after the architecture check are the caller's; a call of
// another architecture is allowed.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

// The statements that load the call's number, for a native (x86_64) call only.
inline std::vector<sock_filter> NativeCallNumber() {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
  };
}

// Installs NativeCallNumber() followed by `rules`; seccomp(2)'s result (a listener fd
// with SECCOMP_FILTER_FLAG_NEW_LISTENER), -1 with errno on failure.
inline int InstallFilter(const std::vector<sock_filter>& rules, unsigned flags) {
  std::vector<sock_filter> program = NativeCallNumber();
  program.insert(program.end(), rules.begin(), rules.end());
  struct sock_fprog prog = {static_cast<unsigned short>(program.size()), program.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
  return static_cast<int>(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
}
