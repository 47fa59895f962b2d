// The part of libseccomp's ABI (libseccomp.so.2, seccomp.h of libseccomp 2.x) that
// tsrun uses, declared here so the build needs no libseccomp-dev: the library is
// dlopen()ed at run time, only when a config asks for seccomp.
#pragma once

#include <stdint.h>

namespace tsrun::scmp {

using FilterCtx = void*;
using Datum = uint64_t;

// struct scmp_arg_cmp
struct ArgCmp {
  unsigned int arg;
  int op;  // enum scmp_compare
  Datum datumA;
  Datum datumB;
};

// struct scmp_version
struct Version {
  unsigned int major;
  unsigned int minor;
  unsigned int micro;
};

// seccomp_syscall_resolve_name's "unknown" answer (__NR_SCMP_ERROR).
constexpr int kNrError = -1;

// Function pointer types of the entry points we resolve with dlsym.
using InitFn = FilterCtx (*)(uint32_t defAction);
using ReleaseFn = void (*)(FilterCtx ctx);
using ArchResolveNameFn = uint32_t (*)(const char* archName);
using ArchAddFn = int (*)(FilterCtx ctx, uint32_t archToken);
using SyscallResolveNameFn = int (*)(const char* name);
using SyscallResolveNameArchFn = int (*)(uint32_t archToken, const char* name);
using RuleAddArrayFn = int (*)(FilterCtx ctx, uint32_t action, int syscall, unsigned int argCnt, const ArgCmp* args);
using ExportBpfFn = int (*)(FilterCtx ctx, int fd);
using VersionFn = const Version* (*)();

}  // namespace tsrun::scmp
