// The cgroup v2 device filter: load the BPF_PROG_TYPE_CGROUP_DEVICE program the
// TypeScript planned (src/cgroups/v2-devices-bpf.ts) and attach it to a cgroup,
// replacing what was attached there before without a moment with no filter.
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

static long Bpf(int cmd, union bpf_attr* attr) {
  long rc;
  do {
    rc = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
  } while (rc < 0 && errno == EINTR);
  return rc;
}

static UniqueFd OpenCgroup(Napi::Env env, const std::string& dir) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) ThrowErrno(env, errno, "open", dir);
  return fd;
}

// BPF_PROG_QUERY of the programs attached to this cgroup itself (not inherited ones).
// Returns their ids; `flags` gets the cgroup's attach flags for the device hook.
static std::vector<__u32> QueryPrograms(Napi::Env env, int cgroupFd, const std::string& dir, __u32* flags) {
  std::vector<__u32> ids(16);
  for (;;) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = static_cast<__u32>(cgroupFd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<__u64>(ids.data());
    attr.query.prog_cnt = static_cast<__u32>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) < 0) {
      // ENOSPC: more programs than room; prog_cnt says how many there are.
      if (errno == ENOSPC && attr.query.prog_cnt > ids.size()) {
        ids.resize(attr.query.prog_cnt);
        continue;
      }
      ThrowErrno(env, errno, "bpf(BPF_PROG_QUERY)", dir);
    }
    ids.resize(attr.query.prog_cnt);
    if (flags) *flags = attr.query.attach_flags;
    return ids;
  }
}

// Loads the program; on failure loads it again with the verifier's log, whose text
// goes into the error (a first load without the log keeps the common path cheap and
// cannot fail on a log buffer that is too small).
static UniqueFd LoadProgram(Napi::Env env, const Napi::Buffer<uint8_t>& insns) {
  static const char license[] = "Apache";
  auto load = [&](char* log, __u32 logSize) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<__u64>(insns.Data());
    attr.insn_cnt = static_cast<__u32>(insns.Length() / sizeof(struct bpf_insn));
    attr.license = reinterpret_cast<__u64>(license);
    if (log) {
      attr.log_buf = reinterpret_cast<__u64>(log);
      attr.log_size = logSize;
      attr.log_level = 1;
    }
    return static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
  };
  UniqueFd prog(load(nullptr, 0));
  if (prog) return prog;
  int err = errno;
  std::vector<char> log(1 << 20, '\0');
  UniqueFd again(load(log.data(), static_cast<__u32>(log.size())));
  if (again) return again;  // the kernel accepted it the second time: use it
  std::string text(log.data(), strnlen(log.data(), log.size()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  try {
    ThrowErrno(env, err, "bpf(BPF_PROG_LOAD)", "BPF_PROG_TYPE_CGROUP_DEVICE");
  } catch (Napi::Error& e) {
    if (!text.empty()) {
      std::string message = e.Message() + "; verifier log: " + text;
      e.Value().Set("message", Napi::String::New(env, message));
      e.Value().Set("verifierLog", Napi::String::New(env, text));
    }
    throw;
  }
}

// attachDeviceFilter(cgroupDir, insns): load, attach with BPF_F_ALLOW_MULTI, then
// detach what was attached there before (runc's order: the cgroup is never without
// a filter). A cgroup whose programs were attached without ALLOW_MULTI cannot take
// a multi program (EPERM); there the kernel replaces the one program in place when
// attached with the same flags.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = ArgString(info, 0, "attachDeviceFilter", "cgroupDir");
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(env, "attachDeviceFilter: insns must be a Buffer");
  auto insns = info[1].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0)
    throw Napi::TypeError::New(env, "attachDeviceFilter: insns must be a non-empty array of 8-byte struct bpf_insn");

  UniqueFd cgroup = OpenCgroup(env, dir);
  __u32 oldFlags = 0;
  std::vector<__u32> old = QueryPrograms(env, cgroup.get(), dir, &oldFlags);
  UniqueFd prog = LoadProgram(env, insns);

  bool replaceInPlace = !old.empty() && !(oldFlags & BPF_F_ALLOW_MULTI);
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<__u32>(cgroup.get());
  attr.attach_bpf_fd = static_cast<__u32>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = replaceInPlace ? oldFlags : BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0) ThrowErrno(env, errno, "bpf(BPF_PROG_ATTACH)", dir);
  if (replaceInPlace) return env.Undefined();

  for (__u32 id : old) {
    union bpf_attr get;
    memset(&get, 0, sizeof(get));
    get.prog_id = id;
    UniqueFd oldProg(static_cast<int>(Bpf(BPF_PROG_GET_FD_BY_ID, &get)));
    if (!oldProg) {
      if (errno == ENOENT) continue;  // detached meanwhile by someone else
      ThrowErrno(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)", std::to_string(id));
    }
    union bpf_attr detach;
    memset(&detach, 0, sizeof(detach));
    detach.target_fd = static_cast<__u32>(cgroup.get());
    detach.attach_bpf_fd = static_cast<__u32>(oldProg.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &detach) < 0 && errno != ENOENT)
      ThrowErrno(env, errno, "bpf(BPF_PROG_DETACH)", dir + " program " + std::to_string(id));
  }
  return env.Undefined();
}

// deviceFilterIds(cgroupDir): ids of the device programs attached to that cgroup.
Napi::Value DeviceFilterIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = ArgString(info, 0, "deviceFilterIds", "cgroupDir");
  UniqueFd cgroup = OpenCgroup(env, dir);
  std::vector<__u32> ids = QueryPrograms(env, cgroup.get(), dir, nullptr);
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return out;
}

}  // namespace tsrun
