// Seccomp services of the addon: build a BPF program with libseccomp (loaded at run
// time, see libseccomp-abi.hpp) from the filter the TypeScript planner described,
// and hand a seccomp notify fd from the init to the listener the config names.
// The init only loads the raw program: it stays small, static and libseccomp-free.
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "addon.hpp"
#include "../common/send-fd.hpp"
#include "fd.hpp"
#include "libseccomp-abi.hpp"

namespace tsrun {
namespace {

struct Libseccomp {
  scmp::InitFn init;
  scmp::ReleaseFn release;
  scmp::ArchResolveNameFn archResolveName;
  scmp::ArchAddFn archAdd;
  scmp::SyscallResolveNameFn syscallResolveName;
  scmp::SyscallResolveNameArchFn syscallResolveNameArch;
  scmp::RuleAddArrayFn ruleAddArray;
  scmp::ExportBpfFn exportBpf;
  scmp::VersionFn version;
};

// Loads the library once per process (per soname). Returns nullptr and sets *error
// when it or one of its symbols is missing: the caller turns that into one clear error.
const Libseccomp* LoadLibseccomp(const std::string& soname, std::string* error) {
  static std::string loadedName;
  static Libseccomp lib;
  static bool loaded = false;
  if (loaded && loadedName == soname) return &lib;
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    *error = why ? why : "dlopen failed";
    return nullptr;
  }
  Libseccomp l{};
  struct Symbol {
    const char* name;
    void** slot;
  } symbols[] = {
      {"seccomp_init", reinterpret_cast<void**>(&l.init)},
      {"seccomp_release", reinterpret_cast<void**>(&l.release)},
      {"seccomp_arch_resolve_name", reinterpret_cast<void**>(&l.archResolveName)},
      {"seccomp_arch_add", reinterpret_cast<void**>(&l.archAdd)},
      {"seccomp_syscall_resolve_name", reinterpret_cast<void**>(&l.syscallResolveName)},
      {"seccomp_syscall_resolve_name_arch", reinterpret_cast<void**>(&l.syscallResolveNameArch)},
      {"seccomp_rule_add_array", reinterpret_cast<void**>(&l.ruleAddArray)},
      {"seccomp_export_bpf", reinterpret_cast<void**>(&l.exportBpf)},
      {"seccomp_version", reinterpret_cast<void**>(&l.version)},
  };
  for (Symbol& s : symbols) {
    *s.slot = dlsym(handle, s.name);
    if (!*s.slot) {
      *error = std::string("symbol ") + s.name + " not found";
      dlclose(handle);
      return nullptr;
    }
  }
  lib = l;
  loadedName = soname;
  loaded = true;
  return &lib;
}

// libseccomp reports failures as negative errno values.
[[noreturn]] void ThrowScmp(Napi::Env env, int rc, const char* call, const std::string& object) {
  ThrowErrno(env, rc < 0 ? -rc : EINVAL, call, object);
}

uint64_t ParseDatum(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string("seccompCompile: ") + what + " must be a decimal string");
  std::string s = v.As<Napi::String>().Utf8Value();
  char* end = nullptr;
  errno = 0;
  unsigned long long n = strtoull(s.c_str(), &end, 10);
  if (s.empty() || errno != 0 || *end != '\0' || s[0] == '-')
    throw Napi::TypeError::New(env, std::string("seccompCompile: ") + what + " is not a 64-bit number: " + s);
  return n;
}

uint32_t GetU32(Napi::Env env, const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("seccompCompile: ") + key + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 4294967295.0 || d != static_cast<double>(static_cast<uint32_t>(d)))
    throw Napi::TypeError::New(env, std::string("seccompCompile: ") + key + " must be a 32-bit unsigned integer");
  return static_cast<uint32_t>(d);
}

const Libseccomp* LoadOrThrow(Napi::Env env, const std::string& soname) {
  std::string why;
  const Libseccomp* lib = LoadLibseccomp(soname, &why);
  if (!lib) {
    Napi::Error error = Napi::Error::New(env, "seccomp requested but " + soname + " could not be loaded: " + why);
    error.Set("code", Napi::String::New(env, "ELIBSECCOMP"));
    throw error;
  }
  return lib;
}

std::string VersionOf(const Libseccomp* lib) {
  const scmp::Version* v = lib->version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

// libseccomp's token of an architecture name; an error with code EARCH (and the name)
// when this libseccomp does not know it.
uint32_t ArchTokenOrThrow(Napi::Env env, const Libseccomp* lib, const std::string& arch) {
  uint32_t token = lib->archResolveName(arch.c_str());
  if (token == 0) {
    Napi::Error error = Napi::Error::New(env, "architecture " + arch + " is not known to libseccomp " + VersionOf(lib));
    error.Set("code", Napi::String::New(env, "EARCH"));
    error.Set("architecture", Napi::String::New(env, arch));
    throw error;
  }
  return token;
}

std::vector<std::string> StringArray(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string(what) + " must hold strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

class FilterGuard {
 public:
  FilterGuard(const Libseccomp* lib, scmp::FilterCtx ctx) : lib_(lib), ctx_(ctx) {}
  FilterGuard(const FilterGuard&) = delete;
  FilterGuard& operator=(const FilterGuard&) = delete;
  ~FilterGuard() {
    if (ctx_) lib_->release(ctx_);
  }

 private:
  const Libseccomp* lib_;
  scmp::FilterCtx ctx_;
};

}  // namespace

// seccompCompile(filter, soname) -> { bpf: Buffer, unknownSyscalls: string[], version: string }
Napi::Value SeccompCompile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "seccompCompile: filter must be an object");
  Napi::Object filter = info[0].As<Napi::Object>();
  std::string soname = ArgString(info, 1, "seccompCompile", "soname");
  const Libseccomp* lib = LoadOrThrow(env, soname);

  uint32_t defaultAction = GetU32(env, filter, "defaultAction");
  scmp::FilterCtx ctx = lib->init(defaultAction);
  if (!ctx) ThrowErrno(env, EINVAL, "seccomp_init", "default action");
  FilterGuard guard(lib, ctx);

  for (const std::string& arch : StringArray(env, filter.Get("architectures"), "seccompCompile: architectures")) {
    uint32_t token = ArchTokenOrThrow(env, lib, arch);
    int rc = lib->archAdd(ctx, token);
    // The native architecture is in every new filter already.
    if (rc < 0 && rc != -EEXIST) ThrowScmp(env, rc, "seccomp_arch_add", arch);
  }

  Napi::Value rulesValue = filter.Get("rules");
  if (!rulesValue.IsArray()) throw Napi::TypeError::New(env, "seccompCompile: rules must be an array");
  Napi::Array rules = rulesValue.As<Napi::Array>();
  std::vector<std::string> unknown;
  for (uint32_t i = 0; i < rules.Length(); i++) {
    if (!rules.Get(i).IsObject()) throw Napi::TypeError::New(env, "seccompCompile: a rule must be an object");
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    Napi::Value nameValue = rule.Get("syscall");
    if (!nameValue.IsString()) throw Napi::TypeError::New(env, "seccompCompile: syscall must be a string");
    std::string name = nameValue.As<Napi::String>().Utf8Value();
    uint32_t action = GetU32(env, rule, "action");
    Napi::Value condsValue = rule.Get("conditions");
    if (!condsValue.IsArray()) throw Napi::TypeError::New(env, "seccompCompile: conditions must be an array");
    Napi::Array conds = condsValue.As<Napi::Array>();
    std::vector<scmp::ArgCmp> cmps;
    for (uint32_t j = 0; j < conds.Length(); j++) {
      if (!conds.Get(j).IsObject()) throw Napi::TypeError::New(env, "seccompCompile: a condition must be an object");
      Napi::Object c = conds.Get(j).As<Napi::Object>();
      scmp::ArgCmp cmp{};
      cmp.arg = GetU32(env, c, "arg");
      cmp.op = static_cast<int>(GetU32(env, c, "op"));
      cmp.datumA = ParseDatum(env, c.Get("a"), "a");
      cmp.datumB = ParseDatum(env, c.Get("b"), "b");
      cmps.push_back(cmp);
    }
    // A name this libseccomp does not know (a newer syscall, a typo): skipped and
    // reported, as runc does, so one profile serves several kernels.
    int nr = lib->syscallResolveName(name.c_str());
    if (nr == scmp::kNrError) {
      bool seen = false;
      for (const std::string& u : unknown) seen = seen || u == name;
      if (!seen) unknown.push_back(name);
      continue;
    }
    int rc = lib->ruleAddArray(ctx, action, nr, static_cast<unsigned int>(cmps.size()), cmps.data());
    if (rc < 0) ThrowScmp(env, rc, "seccomp_rule_add", "syscall " + name);
  }

  UniqueFd mem(MemfdCreate("tsrun-seccomp-bpf", MFD_CLOEXEC, MFD_NOEXEC_SEAL));
  if (!mem) ThrowErrno(env, errno, "memfd_create", "seccomp bpf");
  int rc = lib->exportBpf(ctx, mem.get());
  if (rc < 0) ThrowScmp(env, rc, "seccomp_export_bpf", "filter");
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size < 0) ThrowErrno(env, errno, "lseek", "seccomp bpf");
  std::vector<uint8_t> bpf(static_cast<size_t>(size));
  size_t got = 0;
  while (got < bpf.size()) {
    ssize_t n = pread(mem.get(), bpf.data() + got, bpf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ThrowErrno(env, errno, "pread", "seccomp bpf");
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bpf.resize(got);

  Napi::Object result = Napi::Object::New(env);
  result.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, bpf.data(), bpf.size()));
  Napi::Array unknownArray = Napi::Array::New(env, unknown.size());
  for (size_t i = 0; i < unknown.size(); i++) unknownArray.Set(static_cast<uint32_t>(i), Napi::String::New(env, unknown[i]));
  result.Set("unknownSyscalls", unknownArray);
  result.Set("version", Napi::String::New(env, VersionOf(lib)));
  return result;
}

// The device and inode of the file mapped at `address` in this process, from
// /proc/self/maps; false when no file mapping holds it.
bool MappedFileAt(uintptr_t address, dev_t* dev, ino_t* ino) {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (maps == nullptr) return false;
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start = 0, end = 0, offset = 0, inode = 0;
    unsigned int major = 0, minor = 0;
    char perms[8] = {};
    if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &offset, &major, &minor, &inode) != 7) continue;
    if (address < start || address >= end || inode == 0) continue;
    *dev = makedev(major, minor);
    *ino = static_cast<ino_t>(inode);
    found = true;
  }
  fclose(maps);
  return found;
}

// seccompLibrary(soname) -> { version, path, dev, ino, size, mtimeNs }: the library
// seccompCompile builds with, loaded now, and the file it was loaded from, so that a
// program kept for later names what made it. The path the linker found is stat'ed and
// must be the very file mapped (a library replaced since the load is another file):
// otherwise `path` is "" and nothing is to be kept.
Napi::Value SeccompLibrary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string soname = ArgString(info, 0, "seccompLibrary", "soname");
  const Libseccomp* lib = LoadOrThrow(env, soname);
  Napi::Object result = Napi::Object::New(env);
  result.Set("version", Napi::String::New(env, VersionOf(lib)));
  result.Set("path", Napi::String::New(env, ""));
  Dl_info where{};
  if (dladdr(reinterpret_cast<void*>(lib->init), &where) == 0 || where.dli_fname == nullptr) return result;
  dev_t dev = 0;
  ino_t ino = 0;
  struct stat st {};
  if (!MappedFileAt(reinterpret_cast<uintptr_t>(lib->init), &dev, &ino)) return result;
  if (stat(where.dli_fname, &st) != 0 || st.st_dev != dev || st.st_ino != ino) return result;
  result.Set("path", Napi::String::New(env, where.dli_fname));
  result.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  result.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  result.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set("mtimeNs", Napi::String::New(env, std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec)));
  return result;
}

// seccompHighestSyscalls(architectures, names, soname) -> number[]: for each
// architecture (libseccomp's name), the highest number any of `names` has on it, or
// -1 when none has one there. Names unknown on an architecture, and libseccomp's
// negative pseudo-numbers (a name only some architectures have), do not count. The
// planner bounds its ENOSYS stub with these (src/linux/seccomp-enosys.ts).
Napi::Value SeccompHighestSyscalls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2) throw Napi::TypeError::New(env, "seccompHighestSyscalls: architectures and names are required");
  std::vector<std::string> arches = StringArray(env, info[0], "seccompHighestSyscalls: architectures");
  std::vector<std::string> names = StringArray(env, info[1], "seccompHighestSyscalls: names");
  std::string soname = ArgString(info, 2, "seccompHighestSyscalls", "soname");
  const Libseccomp* lib = LoadOrThrow(env, soname);
  Napi::Array result = Napi::Array::New(env, arches.size());
  for (size_t i = 0; i < arches.size(); i++) {
    uint32_t token = ArchTokenOrThrow(env, lib, arches[i]);
    int highest = -1;
    for (const std::string& name : names) {
      int nr = lib->syscallResolveNameArch(token, name.c_str());
      if (nr > highest) highest = nr;
    }
    result.Set(static_cast<uint32_t>(i), Napi::Number::New(env, highest));
  }
  return result;
}

// seccompFilterFlagsSupported(flags) -> boolean: whether this kernel takes a filter
// with these SECCOMP_FILTER_FLAG_* bits. seccomp(2) refuses flags it does not know
// (EINVAL) before it reads the filter, so with no filter at all a known set fails with
// EFAULT instead; nothing is ever installed (runc probes the same way).
Napi::Value SeccompFilterFlagsSupported(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int flags = ArgInt(info, 0, "seccompFilterFlagsSupported", "flags");
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, static_cast<unsigned int>(flags), nullptr);
  int err = errno;
  if (rc == 0) throw Napi::Error::New(env, "seccompFilterFlagsSupported: seccomp took a NULL filter");
  if (err != EFAULT && err != EINVAL) ThrowErrno(env, err, "seccomp", "SECCOMP_SET_MODE_FILTER probe");
  return Napi::Boolean::New(env, err == EFAULT);
}

constexpr long kSendTimeoutSecs = 10;

// seccompSendToListener(path, stateJson, fd): connect to the listener's unix socket and
// send the container process state with the notify fd (runtime spec, "listenerPath").
Napi::Value SeccompSendToListener(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "seccompSendToListener", "path");
  std::string state = ArgString(info, 1, "seccompSendToListener", "state");
  int notifyFd = ArgFd(info, 2, "seccompSendToListener");
  UniqueFd sock(ConnectUnixSocket(env, path));
  // An agent that stops taking the state (larger than the socket's buffer) would hold
  // create here for good, where not even a SIGTERM is acted on (this call holds Node's
  // only thread): the sends share one deadline, kSendTimeoutSecs from now.
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += kSendTimeoutSecs;
  auto waitNoLonger = [&]() {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = (deadline.tv_sec - now.tv_sec) * 1000000LL + (deadline.tv_nsec - now.tv_nsec) / 1000;
    struct timeval timeout = {static_cast<time_t>(left > 0 ? left / 1000000 : 0), static_cast<suseconds_t>(left > 0 ? left % 1000000 : 1)};
    if (setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0) ThrowErrno(env, errno, "setsockopt SO_SNDTIMEO", path);
  };
  auto fail = [&](int err, const char* syscall) {
    if (err == EAGAIN || err == EWOULDBLOCK)
      throw Napi::Error::New(env, "seccomp listener " + path + ": the agent did not take the container's state within " + std::to_string(kSendTimeoutSecs) + " s");
    ThrowErrno(env, err, syscall, path);
  };
  waitNoLonger();
  ssize_t n = tsrun_common::SendFd(sock.get(), state.data(), state.size(), notifyFd);
  if (n < 0) fail(errno, "sendmsg");
  // A stream socket may take the state in parts: the fd went with the first one.
  size_t sent = static_cast<size_t>(n);
  while (sent < state.size()) {
    waitNoLonger();
    do {
      n = send(sock.get(), state.data() + sent, state.size() - sent, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) fail(errno, "send");
    sent += static_cast<size_t>(n);
  }
  return env.Undefined();
}

}  // namespace tsrun
