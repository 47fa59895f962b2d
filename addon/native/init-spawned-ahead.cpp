// spawnInitAhead: start tsrun-init before its plan exists, on a thread of its own.
//
// A `create`, `run` or `exec` spends its first milliseconds loading JavaScript and
// planning, on one core; spawning the init (making its overlay, the vfork and the
// exec: 0.5-1 ms here) is work of the kernel that needs nothing of the plan. The
// launcher (scripts/launcher.js) asks for it as soon as the addon is loaded; the
// thread first reads the bundle parts the command loads next (external-source.cpp
// hands them to readLatin1 and readBytes), then spawns the init with nothing but a
// socket, while the JavaScript thread goes on. spawnInit (spawn.cpp) then sends the
// init the fds of its usual layout over that socket (PROTOCOL.md, "Spawned ahead").
// An init that is never used (the command failed before its spawn, or was not what
// the launcher took it for) is ended by releaseInitAhead, which every exit of tsrun
// calls: killed and reaped here, never left to the caller as an orphan. (A tsrun
// killed outright closes the socket all the same, and the init exits at its EOF.)
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "addon.hpp"
#include "posix-spawn.hpp"

namespace tsrun {

namespace {

// What the thread is at; guarded by gMutex. kNone: never asked for.
enum class Stage { kNone, kSpawning, kSpawned, kTaken };

std::mutex gMutex;
std::condition_variable gSpawned;
Stage gStage = Stage::kNone;
pid_t gPid = -1;
int gSock = -1;

// The layout message (PROTOCOL.md): its magic tells a message from a stray write.
constexpr uint32_t kLayoutMagic = 0x74736c61;  // "tsla"
// The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD).
constexpr size_t kMaxFdsInMessage = 253;

struct LayoutHeader {
  uint32_t magic;
  uint32_t preserve;
  uint32_t extra;
};

// -1 when any step fails: the ordinary spawn then does it all again and reports the
// failure with its own call and errno.
pid_t SpawnWaitingInit(int* parentSock) {
  SyscallFailure failure;
  int initExec = InitExecFd(&failure);
  if (initExec < 0) return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  UniqueFd parent(sv[0]);
  UniqueFd child(sv[1]);

  posix_spawnattr_t attr;
  if (InitDefaultSignalAttributes(&attr) != 0) return -1;
  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) {
    posix_spawnattr_destroy(&attr);
    return -1;
  }
  // The socket keeps its number (free in this process, so in the child too), with
  // FD_CLOEXEC cleared: dup2 onto itself. The rest is the init's to close.
  int rc = posix_spawn_file_actions_adddup2(&actions, child.get(), child.get());
  std::string execPath = "/proc/self/fd/" + std::to_string(initExec);
  std::string sockArg = std::to_string(child.get());
  char arg0[] = "tsrun-init";
  char await[] = "--await";
  char* argv[] = {arg0, await, sockArg.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  if (rc == 0) rc = posix_spawn(&pid, execPath.c_str(), &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return -1;
  *parentSock = parent.release();
  return pid;
}

void SpawnOnThisThread(const std::vector<std::string>& readFirst) {
  // The files come first: the JavaScript thread needs them within 1-2 ms, the init
  // only once its plan is ready.
  ReadFilesAhead(readFirst);
  int sock = -1;
  pid_t pid = SpawnWaitingInit(&sock);
  std::lock_guard<std::mutex> lock(gMutex);
  gPid = pid;
  gSock = sock;
  gStage = Stage::kSpawned;
  gSpawned.notify_all();
}

}  // namespace

// spawnInitAhead(readFirst?: string[]): the files are read first, on the same thread
// (external-source.cpp's readLatin1 and readBytes take them from there).
Napi::Value SpawnInitAhead(const Napi::CallbackInfo& info) {
  std::vector<std::string> readFirst;
  if (info.Length() > 0 && info[0].IsArray()) {
    Napi::Array paths = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < paths.Length(); i++) {
      Napi::Value path = paths.Get(i);
      if (path.IsString()) readFirst.push_back(path.As<Napi::String>().Utf8Value());
    }
  }
  std::lock_guard<std::mutex> lock(gMutex);
  if (gStage != Stage::kNone) return info.Env().Undefined();
  // The thread starts with every signal blocked: they stay the JavaScript thread's.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    std::thread(SpawnOnThisThread, std::move(readFirst)).detach();
    gStage = Stage::kSpawning;
  } catch (...) {
    // No thread: the init is spawned the ordinary way, when its plan is ready.
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return info.Env().Undefined();
}

std::optional<InitSpawnedAhead> TakeInitSpawnedAhead() {
  std::unique_lock<std::mutex> lock(gMutex);
  if (gStage != Stage::kSpawning && gStage != Stage::kSpawned) return std::nullopt;
  gSpawned.wait(lock, [] { return gStage == Stage::kSpawned; });
  gStage = Stage::kTaken;
  if (gPid < 0) return std::nullopt;
  return InitSpawnedAhead{gPid, UniqueFd(gSock)};
}

// initSpawnedAheadPid(): the pid of the init spawned ahead that the next spawnInit
// will hand its fds (waiting for its spawn if under way), or undefined: none. create
// records it before that spawnInit, as the init goes on by itself from then on.
Napi::Value InitSpawnedAheadPid(const Napi::CallbackInfo& info) {
  std::unique_lock<std::mutex> lock(gMutex);
  if (gStage != Stage::kSpawning && gStage != Stage::kSpawned) return info.Env().Undefined();
  gSpawned.wait(lock, [] { return gStage == Stage::kSpawned; });
  if (gPid < 0) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), gPid);
}

bool SendLayoutToInitAhead(const InitSpawnedAhead& init, int preserve, int extra, const std::vector<int>& fds) {
  if (fds.empty() || fds.size() > kMaxFdsInMessage) return false;
  LayoutHeader header{kLayoutMagic, static_cast<uint32_t>(preserve), static_cast<uint32_t>(extra)};
  iovec iov{&header, sizeof header};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()), 0);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  ssize_t n;
  do {
    n = sendmsg(init.sock.get(), &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof header);
}

void DiscardInitSpawnedAhead(InitSpawnedAhead* init) {
  // It would exit at the socket's EOF; killed, it cannot keep tsrun waiting here
  // (stopped by someone, say).
  init->sock.reset();
  kill(init->pid, SIGKILL);
  int status;
  while (waitpid(init->pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Napi::Value ReleaseInitAhead(const Napi::CallbackInfo& info) {
  std::optional<InitSpawnedAhead> unused = TakeInitSpawnedAhead();
  if (unused) DiscardInitSpawnedAhead(&*unused);
  return info.Env().Undefined();
}

}  // namespace tsrun
