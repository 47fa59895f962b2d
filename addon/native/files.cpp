// Small file services: close, O_PATH open, pipes, isatty, flock, rename without replacing.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addon.hpp"

namespace tsrun {

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "closeFd");
  // No EINTR retry: on Linux the fd is gone even when close reports EINTR.
  if (close(fd) < 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close", std::to_string(fd));
  return info.Env().Undefined();
}

// pipe(): [readFd, writeFd], both close-on-exec (spawnInit dups what a child gets).
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) ThrowErrno(info.Env(), errno, "pipe2");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  out.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return out;
}

// isatty(fd): without Node's tty module, which loads net (milliseconds) on every run.
Napi::Value Isatty(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "isatty");
  return Napi::Boolean::New(info.Env(), isatty(fd) == 1);
}

// inForeground(fd): whether we are in the foreground process group of terminal fd. A
// background job that reads its terminal gets SIGTTIN, and with SIGTTIN caught (run
// forwards it) the read is retried for ever.
Napi::Value InForeground(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "inForeground");
  pid_t group = tcgetpgrp(fd);
  return Napi::Boolean::New(info.Env(), group >= 0 && group == getpgrp());
}

Napi::Value OpenPath(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "openPath", "path");
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), errno, "open", path);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0, "flock");
  if (info.Length() < 3 || !info[1].IsBoolean() || !info[2].IsBoolean())
    throw Napi::TypeError::New(env, "flock: exclusive and nonBlocking must be booleans");
  bool exclusive = info[1].As<Napi::Boolean>().Value();
  bool nonBlocking = info[2].As<Napi::Boolean>().Value();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonBlocking ? LOCK_NB : 0);
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    if (nonBlocking && errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "flock", std::to_string(fd));
  }
  return Napi::Boolean::New(env, true);
}

// renameNoReplace(from, to): renameat2(RENAME_NOREPLACE). Unlike rename(2), it never
// replaces an existing (empty) directory: EEXIST instead.
Napi::Value RenameNoReplace(const Napi::CallbackInfo& info) {
  std::string from = ArgString(info, 0, "renameNoReplace", "from");
  std::string to = ArgString(info, 1, "renameNoReplace", "to");
  const unsigned int kRenameNoReplace = 1;  // RENAME_NOREPLACE
  if (syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), kRenameNoReplace) < 0)
    ThrowErrno(info.Env(), errno, "renameat2", to);
  return info.Env().Undefined();
}

// exchangeFiles(from, to): renameat2(RENAME_EXCHANGE), both names swapped at once.
// False where there is nothing to swap with (ENOENT: `to` does not exist yet) or the
// filesystem cannot swap (EINVAL): the caller renames instead.
Napi::Value ExchangeFiles(const Napi::CallbackInfo& info) {
  std::string from = ArgString(info, 0, "exchangeFiles", "from");
  std::string to = ArgString(info, 1, "exchangeFiles", "to");
  const unsigned int kRenameExchange = 2;  // RENAME_EXCHANGE
  if (syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), kRenameExchange) < 0) {
    if (errno == ENOENT || errno == EINVAL) return Napi::Boolean::New(info.Env(), false);
    ThrowErrno(info.Env(), errno, "renameat2", to);
  }
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace tsrun
