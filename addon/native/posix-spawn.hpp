// posix_spawn's attributes and file actions as owned objects, and the fd duplication
// its dup2 actions need (spawn.cpp's init, hook-process.cpp's hooks).
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <string>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

// Duplicates a source fd above every target number of the child, so that no dup2
// in the file actions can overwrite a source that a later action still needs.
inline UniqueFd DupAbove(Napi::Env env, int fd, int floor, const std::string& what) {
  UniqueFd dup(fcntl(fd, F_DUPFD_CLOEXEC, floor));
  if (!dup) ThrowErrno(env, errno, "dup", what + " (fd " + std::to_string(fd) + ")");
  return dup;
}

// Every signal at its default action and none blocked in the child. Without a Napi
// env, for a spawn off the JavaScript thread (init-spawned-ahead.cpp): 0 or an errno.
inline int InitDefaultSignalAttributes(posix_spawnattr_t* attr) {
  int rc = posix_spawnattr_init(attr);
  if (rc != 0) return rc;
  sigset_t all, none;
  sigfillset(&all);
  // sigfillset leaves out glibc's two reserved signals (32, 33), and its posix_spawn
  // ignores those in the child unless the default set names them (sigaddset refuses
  // them): their bits are set directly, so that they too start at SIG_DFL, as in a
  // child of runc's.
  constexpr size_t kBits = 8 * sizeof all.__val[0];
  for (int sig = 32; sig <= 33; sig++) all.__val[(sig - 1) / kBits] |= 1UL << ((sig - 1) % kBits);
  sigemptyset(&none);
  // Node ignores SIGPIPE, and ignored dispositions survive exec.
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  return 0;
}

class SpawnAttributes {
 public:
  explicit SpawnAttributes(Napi::Env env) {
    int rc = InitDefaultSignalAttributes(&attr_);
    if (rc != 0) ThrowErrno(env, rc, "posix_spawnattr_init");
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

class FileActions {
 public:
  explicit FileActions(Napi::Env env) : env_(env) {
    int rc = posix_spawn_file_actions_init(&actions_);
    if (rc != 0) ThrowErrno(env, rc, "posix_spawn_file_actions_init");
  }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  void Dup2(int from, int to) {
    int rc = posix_spawn_file_actions_adddup2(&actions_, from, to);
    if (rc != 0) ThrowErrno(env_, rc, "posix_spawn_file_actions_adddup2");
  }
  // Every fd from `lowest` up closed in the child, whether close-on-exec or not: what
  // tsrun's caller left open for it (glibc 2.34's closefrom action).
  void CloseFrom(int lowest) {
    int rc = posix_spawn_file_actions_addclosefrom_np(&actions_, lowest);
    if (rc != 0) ThrowErrno(env_, rc, "posix_spawn_file_actions_addclosefrom_np");
  }
  void Chdir(const std::string& dir) {
    int rc = posix_spawn_file_actions_addchdir_np(&actions_, dir.c_str());
    if (rc != 0) ThrowErrno(env_, rc, "posix_spawn_file_actions_addchdir_np", dir);
  }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  Napi::Env env_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace tsrun
