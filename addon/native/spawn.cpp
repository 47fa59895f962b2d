// spawnInit: posix_spawn the init program from a binary no container can write to.
//
// glibc's posix_spawn runs the child on a separate stack with
// clone(CLONE_VM|CLONE_VFORK) and only performs the file actions and the exec
// there, which is what DESIGN.md section 3 requires of a child of a multi-threaded
// Node process. Everything beyond the exec happens in the init program. An init the
// launcher had spawned ahead (init-spawned-ahead.cpp) gets the same fds over its
// socket instead.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "addon.hpp"
#include "fd.hpp"
#include "posix-spawn.hpp"

namespace tsrun {

int MemfdCreate(const char* name, unsigned flags, unsigned execFlag) {
  int fd = memfd_create(name, flags | execFlag);
  if (fd < 0 && errno == EINVAL) fd = memfd_create(name, flags);
  return fd;
}

namespace {

constexpr unsigned kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;


void WriteAll(Napi::Env env, int fd, const uint8_t* data, size_t len, const char* what) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, errno, "write", what);
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
}

// What /proc/<pid>/exe shows a container of every init spawned here must never be
// writable (the CVE-2019-5736 class), so the init is never exec'd from its plain
// path. One way or the other is chosen once per Node process and kept.
std::mutex gInitMutex;
int gInitExecFd = -1;

// First choice (runc 1.2's): the init's directory as the top layer of an overlayfs
// that is never attached to any mount namespace (fsopen/fsmount). Without an upper
// layer an overlay is read-only and overlayfs refuses to remount it read-write, so
// no capability in a container makes the exe writable; and nothing is copied: every
// init maps the one page-cache copy of the file. The second, empty layer is there
// because overlayfs mounts no fewer than two lower layers without an upper one; it
// must not contain or lie within the first (the build makes it beside it). Needs
// CAP_SYS_ADMIN over our mount namespace (not rootless) and Linux 5.2: -1 when any
// step fails, and the caller copies instead.
int InitOnDetachedOverlay(const std::string& initDir) {
  // overlayfs splits lowerdir at a colon and takes a backslash as an escape: a directory
  // whose path holds either would name other layers, whose own tsrun-init would be
  // exec'd. Such an install, or a relative path, goes the copying way.
  if (initDir.empty() || initDir[0] != '/' || initDir.find_first_of(":\\") != std::string::npos) return -1;
  UniqueFd context(fsopen("overlay", FSOPEN_CLOEXEC));
  if (!context) return -1;
  std::string layers = initDir + ":" + initDir + "/../tsrun-init-floor";
  if (fsconfig(context.get(), FSCONFIG_SET_STRING, "lowerdir", layers.c_str(), 0) < 0) return -1;
  if (fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return -1;
  UniqueFd mount(fsmount(context.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  if (!mount) return -1;
  // The open file keeps the detached mount alive; the mount goes with its last user.
  // Not through a symlink (an absolute one would lead out of the overlay, to the host
  // file itself): the init must be a regular file of this very overlay, or it is copied.
  UniqueFd init(openat(mount.get(), "tsrun-init", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!init) return -1;
  struct stat st {};
  struct statfs fs {};
  if (fstat(init.get(), &st) < 0 || !S_ISREG(st.st_mode)) return -1;
  if (fstatfs(init.get(), &fs) < 0 || fs.f_type != OVERLAYFS_SUPER_MAGIC) return -1;
  return init.release();
}

// Else a sealed memfd copy: its pages are a copy per tsrun process, pinned by each
// init spawned from it for as long as that init runs (a parked one too). -1 with the
// failing call in `failure`: this may run off the JavaScript thread
// (init-spawned-ahead.cpp).
int InitInSealedMemfd(const std::string& path, SyscallFailure* failure) {
  UniqueFd src(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!src) return failure->Set(errno, "open", path);
  struct stat st {};
  if (fstat(src.get(), &st) < 0) return failure->Set(errno, "fstat", path);

  UniqueFd mem(MemfdCreate("tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING, MFD_EXEC));
  // EACCES: vm.memfd_noexec 2 refuses an executable memfd (runc would copy into an
  // O_TMPFILE instead): said, with why this is the way taken at all.
  if (!mem && errno == EACCES) return failure->Set(errno, "memfd_create", "tsrun-init (vm.memfd_noexec forbids an executable memfd, and the init's read-only overlay could not be made: it needs CAP_SYS_ADMIN over tsrun's mount namespace and fsopen(2))");
  if (!mem) return failure->Set(errno, "memfd_create", "tsrun-init");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(mem.get(), src.get(), nullptr, static_cast<size_t>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure->Set(errno, "sendfile", path);
    }
    if (n == 0) return failure->Set(EIO, "sendfile", path + " (file shrank while copying)");
    left -= n;
  }
  if (fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) return failure->Set(errno, "fcntl(F_ADD_SEALS)", "tsrun-init memfd");

  // exec refuses a file that has a writable open file description (ETXTBSY), and the
  // memfd_create() fd is O_RDWR: keep only a read-only reopening of it.
  std::string self = "/proc/self/fd/" + std::to_string(mem.get());
  UniqueFd ro(open(self.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ro) return failure->Set(errno, "open", self);
  return ro.release();
}

std::string AddonDirectory() {
  // The init is built next to the addon; asking the dynamic loader where this very
  // module came from avoids any hard-coded install path.
  Dl_info dl{};
  if (dladdr(reinterpret_cast<void*>(&AddonDirectory), &dl) == 0 || dl.dli_fname == nullptr) return "";
  std::string self = dl.dli_fname;
  size_t slash = self.rfind('/');
  return slash == std::string::npos ? "." : self.substr(0, slash);
}

}  // namespace

int InitExecFd(SyscallFailure* failure) {
  std::lock_guard<std::mutex> lock(gInitMutex);
  if (gInitExecFd >= 0) return gInitExecFd;
  std::string dir = AddonDirectory();
  if (dir.empty()) return failure->Set(ENOENT, "dladdr", "the addon file (to find tsrun-init beside it)");
  int fd = InitOnDetachedOverlay(dir);
  if (fd < 0) fd = InitInSealedMemfd(dir + "/tsrun-init", failure);
  if (fd >= 0) gInitExecFd = fd;
  return gInitExecFd;
}

namespace {

// What spawnInit returns (src/native.ts SpawnedInit).
Napi::Object SpawnedInit(Napi::Env env, pid_t pid, int syncFd) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, pid));
  result.Set("syncFd", Napi::Number::New(env, syncFd));
  return result;
}

UniqueFd SealedPlanMemfd(Napi::Env env, const uint8_t* data, size_t len) {
  UniqueFd mem(MemfdCreate("tsrun-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL));
  if (!mem) ThrowErrno(env, errno, "memfd_create", "tsrun-plan");
  WriteAll(env, mem.get(), data, len, "plan memfd");
  if (fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) ThrowErrno(env, errno, "fcntl(F_ADD_SEALS)", "plan memfd");
  return mem;
}

int NonNegativeInt(Napi::Env env, Napi::Value v, const std::string& what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "spawnInit: " + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 1 << 20) || d != static_cast<int>(d))
    throw Napi::TypeError::New(env, "spawnInit: " + what + " must be a small non-negative integer");
  return static_cast<int>(d);
}

std::vector<int> FdArray(Napi::Env env, Napi::Value v, const std::string& what) {
  std::vector<int> out;
  if (v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, "spawnInit: " + what + " must be an array of fds");
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++)
    out.push_back(NonNegativeInt(env, arr.Get(i), what + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

Napi::Value SpawnInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "spawnInit: options must be an object");
  Napi::Object options = info[0].As<Napi::Object>();

  Napi::Value planValue = options.Get("plan");
  if (!planValue.IsBuffer()) throw Napi::TypeError::New(env, "spawnInit: plan must be a Buffer");
  Napi::Buffer<uint8_t> plan = planValue.As<Napi::Buffer<uint8_t>>();
  std::vector<int> stdio = FdArray(env, options.Get("stdio"), "stdio");
  if (stdio.size() != 3) throw Napi::TypeError::New(env, "spawnInit: stdio must hold exactly 3 fds");
  int preserve = NonNegativeInt(env, options.Get("preserveFds"), "preserveFds");
  std::vector<int> extra = FdArray(env, options.Get("extraFds"), "extraFds");

  // Child layout (PROTOCOL.md): 0-2 stdio, 3..3+N-1 preserved, B plan, B+1 sync, B+2.. extra.
  const int base = 3 + preserve;
  const int limit = base + 2 + static_cast<int>(extra.size());

  for (int fd = 3; fd < base; fd++)
    if (fcntl(fd, F_GETFD) < 0) ThrowErrno(env, errno, "fcntl", "preserved fd " + std::to_string(fd));

  UniqueFd planFd = SealedPlanMemfd(env, plan.Data(), plan.Length());
  // Spawned ahead by the launcher: the same fds reach it in one message instead.
  std::optional<InitSpawnedAhead> ahead = TakeInitSpawnedAhead();
  // The thread that spawned it made its socket before the command checked the
  // caller's fds (socket-activation.ts): never passed on as a preserved one. Node's
  // event-loop fds take the lowest free numbers first, so that check stops a short
  // range before it reaches this one; this makes sure of it.
  if (ahead && ahead->sock.get() >= 3 && ahead->sock.get() < base) {
    int own = ahead->sock.get();
    DiscardInitSpawnedAhead(&*ahead);
    throw Napi::Error::New(env, "preserved fd " + std::to_string(own) +
                                    " is tsrun's own (its init's socket): the caller passed fewer fds than --preserve-fds (and LISTEN_FDS) ask for");
  }
  if (ahead) {
    std::vector<int> fds = {planFd.get(), stdio[0], stdio[1], stdio[2]};
    for (int fd = 3; fd < base; fd++) fds.push_back(fd);
    fds.insert(fds.end(), extra.begin(), extra.end());
    if (SendLayoutToInitAhead(*ahead, preserve, static_cast<int>(extra.size()), fds)) {
      Napi::Object result = SpawnedInit(env, ahead->pid, ahead->sock.release());
      result.Set("spawnedAhead", Napi::Boolean::New(env, true));
      return result;
    }
    // More fds than one message carries, or the init is gone: spawned anew below.
    DiscardInitSpawnedAhead(&*ahead);
  }

  SyscallFailure failure;
  int initExec = InitExecFd(&failure);
  if (initExec < 0) ThrowErrno(env, failure.err, failure.call, failure.object);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, errno, "socketpair", "sync socket");
  UniqueFd parentSock(sv[0]);
  UniqueFd childSock(sv[1]);

  // All temporaries are O_CLOEXEC: whatever the file actions do not place is closed by exec.
  std::vector<UniqueFd> temps;
  FileActions actions(env);
  for (int i = 0; i < 3; i++) {
    temps.push_back(DupAbove(env, stdio[i], limit, "stdio[" + std::to_string(i) + "]"));
    actions.Dup2(temps.back().get(), i);
  }
  // dup2(fd, fd) is how posix_spawn clears FD_CLOEXEC on an fd kept at its number.
  for (int fd = 3; fd < base; fd++) actions.Dup2(fd, fd);
  temps.push_back(DupAbove(env, planFd.get(), limit, "plan memfd"));
  actions.Dup2(temps.back().get(), base);
  temps.push_back(DupAbove(env, childSock.get(), limit, "sync socket"));
  actions.Dup2(temps.back().get(), base + 1);
  for (size_t k = 0; k < extra.size(); k++) {
    temps.push_back(DupAbove(env, extra[k], limit, "extraFds[" + std::to_string(k) + "]"));
    actions.Dup2(temps.back().get(), base + 2 + static_cast<int>(k));
  }
  // The exec path must name an fd that survives the file actions, hence above the limit too.
  temps.push_back(DupAbove(env, initExec, limit, "init binary"));
  std::string execPath = "/proc/self/fd/" + std::to_string(temps.back().get());

  std::string arg1 = std::to_string(base), arg2 = std::to_string(base + 1);
  char arg0[] = "tsrun-init";
  char* argv[] = {arg0, arg1.data(), arg2.data(), nullptr};
  char* envp[] = {nullptr};

  SpawnAttributes attr(env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, execPath.c_str(), actions.get(), attr.get(), argv, envp);
  if (rc != 0) ThrowErrno(env, rc, "posix_spawn", "tsrun-init");

  return SpawnedInit(env, pid, parentSock.release());
}

}  // namespace tsrun
