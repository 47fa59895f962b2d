// The file operations of a container's start and stop (state files, cgroup files,
// /proc), each one call into plain syscalls. Node's fs does the same work through
// JavaScript that is compiled the first time each function is called, in every
// process: ~0.05-0.2 ms per fs function a command uses once, and 10-30 us per call
// after that on top of the syscall, where tsrun makes ~130 such calls to start a
// container. Errors have the shape of Node's fs errors (code, errno, syscall, path,
// "ENOENT: no such file or directory, open '/x'"): what callers were written against,
// and what the CLI turns into runc's words (src/cli/system-error.ts).
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "addon.hpp"
#include "fd.hpp"
#include "../common/errno-text.hpp"

namespace tsrun {
namespace {

// As Node's fs throws it; without a path for a call on an fd, with a dest for rename.
[[noreturn]] void ThrowFsError(Napi::Env env, int err, const char* syscall, const std::string& path = "",
                               const std::string& dest = "") {
  std::string code = tsrun_common::ErrnoName(err);
  std::string message = code + ": " + tsrun_common::ErrnoDescription(err) + ", " + syscall;
  if (!path.empty()) message += " '" + path + "'";
  if (!dest.empty()) message += " -> '" + dest + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Set("path", Napi::String::New(env, path));
  if (!dest.empty()) error.Set("dest", Napi::String::New(env, dest));
  throw error;
}

// Until EOF: /proc and cgroup files report a size of 0.
bool ReadToEnd(int fd, std::string* out, int* err) {
  struct stat st;
  size_t chunk = 4096;
  if (fstat(fd, &st) == 0 && st.st_size > 0) chunk = static_cast<size_t>(st.st_size) + 1;
  for (;;) {
    size_t at = out->size();
    out->resize(at + chunk);
    ssize_t n = read(fd, &(*out)[at], chunk);
    if (n < 0 && errno == EINTR) {
      out->resize(at);
      continue;
    }
    if (n < 0) {
      *err = errno;
      out->resize(at);
      return false;
    }
    out->resize(at + static_cast<size_t>(n));
    if (n == 0) return true;
    if (static_cast<size_t>(n) == chunk) chunk *= 2;
  }
}

// The text of a file, or why not: false with *err set (and *syscall naming where).
bool ReadTextFile(const std::string& path, std::string* text, int* err, const char** syscall) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    *err = errno;
    *syscall = "open";
    return false;
  }
  *syscall = "read";
  return ReadToEnd(fd.get(), text, err);
}

bool WriteAll(int fd, const char* data, size_t length, int* err) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = errno;
      return false;
    }
    data += n;
    length -= static_cast<size_t>(n);
  }
  return true;
}

const char* KindOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    default: return "unknown";
  }
}

}  // namespace

// readText(path): the file's text (UTF-8).
Napi::Value ReadText(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "readText", "path");
  std::string text;
  int err = 0;
  const char* syscall = "open";
  if (!ReadTextFile(path, &text, &err, &syscall)) ThrowFsError(info.Env(), err, syscall, path);
  return Napi::String::New(info.Env(), text);
}

// readTextIfExists(path): the file's text, or null when there is no such file (ENOENT).
Napi::Value ReadTextIfExists(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "readTextIfExists", "path");
  std::string text;
  int err = 0;
  const char* syscall = "open";
  if (!ReadTextFile(path, &text, &err, &syscall)) {
    if (err == ENOENT) return info.Env().Null();
    ThrowFsError(info.Env(), err, syscall, path);
  }
  return Napi::String::New(info.Env(), text);
}

namespace {

// stat (with follow) or lstat of the path argument at 0; false when nothing is there
// (ENOENT, ENOTDIR), any other error thrown.
bool StatArg(const Napi::CallbackInfo& info, const char* fn, struct stat* st) {
  std::string path = ArgString(info, 0, fn, "path");
  bool follow = info.Length() > 1 && info[1].ToBoolean().Value();
  if ((follow ? stat(path.c_str(), st) : lstat(path.c_str(), st)) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  ThrowFsError(info.Env(), errno, follow ? "stat" : "lstat", path);
}

}  // namespace

// fileKind(path, follow): 'file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'
// (stat with follow, else lstat), or null when nothing is there (ENOENT, ENOTDIR).
Napi::Value FileKind(const Napi::CallbackInfo& info) {
  struct stat st;
  if (!StatArg(info, "fileKind", &st)) return info.Env().Null();
  return Napi::String::New(info.Env(), KindOf(st.st_mode));
}

// sameFile(fd, path): whether path (not followed) is the file open at fd; false when
// nothing is there.
Napi::Value SameFile(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "sameFile");
  std::string path = ArgString(info, 1, "sameFile", "path");
  struct stat held;
  if (fstat(fd, &held) < 0) ThrowFsError(info.Env(), errno, "fstat");
  struct stat now;
  if (lstat(path.c_str(), &now) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    ThrowFsError(info.Env(), errno, "lstat", path);
  }
  return Napi::Boolean::New(info.Env(), held.st_dev == now.st_dev && held.st_ino == now.st_ino);
}

// makeDir(path, mode): true when made, false when something is there already (EEXIST).
Napi::Value MakeDir(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "makeDir", "path");
  int mode = ArgInt(info, 1, "makeDir", "mode");
  if (mkdir(path.c_str(), static_cast<mode_t>(mode)) < 0) {
    if (errno == EEXIST) return Napi::Boolean::New(info.Env(), false);
    ThrowFsError(info.Env(), errno, "mkdir", path);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// removeDir(path): rmdir(2).
Napi::Value RemoveDir(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "removeDir", "path");
  if (rmdir(path.c_str()) < 0) ThrowFsError(info.Env(), errno, "rmdir", path);
  return info.Env().Undefined();
}

// removeFile(path): unlink(2).
Napi::Value RemoveFile(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "removeFile", "path");
  if (unlink(path.c_str()) < 0) ThrowFsError(info.Env(), errno, "unlink", path);
  return info.Env().Undefined();
}

// openFile(path, flags, mode): open(2) with O_CLOEXEC added; the fd.
Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "openFile", "path");
  int flags = ArgInt(info, 1, "openFile", "flags");
  int mode = ArgInt(info, 2, "openFile", "mode");
  int fd = open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) ThrowFsError(info.Env(), errno, "open", path);
  return Napi::Number::New(info.Env(), fd);
}

// writeFile(path, text, flags, mode): open(2) (O_CLOEXEC added), all of text (UTF-8)
// in as few writes as the kernel takes, close.
Napi::Value WriteFile(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "writeFile", "path");
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "writeFile: text must be a string");
  std::string text = info[1].As<Napi::String>().Utf8Value();
  int flags = ArgInt(info, 2, "writeFile", "flags");
  int mode = ArgInt(info, 3, "writeFile", "mode");
  UniqueFd fd(open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (!fd) ThrowFsError(info.Env(), errno, "open", path);
  int err = 0;
  if (!WriteAll(fd.get(), text.data(), text.size(), &err)) ThrowFsError(info.Env(), err, "write", path);
  if (close(fd.release()) < 0 && errno != EINTR) ThrowFsError(info.Env(), errno, "close", path);
  return info.Env().Undefined();
}

// writeOnce(fd, text): one write(2) of text (UTF-8); the count written. Cgroup files
// take one value per write, whole or not at all.
Napi::Value WriteOnce(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "writeOnce");
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "writeOnce: text must be a string");
  std::string text = info[1].As<Napi::String>().Utf8Value();
  ssize_t n;
  do {
    n = write(fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowFsError(info.Env(), errno, "write");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// renameFile(from, to): rename(2).
Napi::Value RenameFile(const Napi::CallbackInfo& info) {
  std::string from = ArgString(info, 0, "renameFile", "from");
  std::string to = ArgString(info, 1, "renameFile", "to");
  if (rename(from.c_str(), to.c_str()) < 0) ThrowFsError(info.Env(), errno, "rename", from, to);
  return info.Env().Undefined();
}

// listDir(path): the names in a directory but . and .., in the order readdir gives.
Napi::Value ListDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "listDir", "path");
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) ThrowFsError(env, errno, "scandir", path);  // Node's name for it
  Napi::Array names = Napi::Array::New(env);
  uint32_t count = 0;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(dir);
    if (entry == nullptr) break;
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.Set(count++, Napi::String::New(env, name));
  }
  int err = errno;
  closedir(dir);
  if (err != 0) ThrowFsError(env, err, "scandir", path);
  return names;
}

// listSubdirectories(path): the names of the directories in a directory (symlinks
// to one not among them), in the order readdir gives: d_type, or lstat where the
// filesystem does not fill it in.
Napi::Value ListSubdirectories(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "listSubdirectories", "path");
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) ThrowFsError(env, errno, "scandir", path);
  Napi::Array names = Napi::Array::New(env);
  uint32_t count = 0;
  int err = 0;
  for (;;) {
    errno = 0;
    struct dirent* entry = readdir(dir);
    if (entry == nullptr) {
      err = errno;
      break;
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    bool isDir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st;
      isDir = fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (isDir) names.Set(count++, Napi::String::New(env, name));
  }
  closedir(dir);
  if (err != 0) ThrowFsError(env, err, "scandir", path);
  return names;
}

// readLink(path): the target of a symlink, or null when there is none (ENOENT).
Napi::Value ReadLink(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "readLink", "path");
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = readlink(path.c_str(), &target[0], target.size());
    if (n < 0) {
      if (errno == ENOENT) return info.Env().Null();
      ThrowFsError(info.Env(), errno, "readlink", path);
    }
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return Napi::String::New(info.Env(), target);
    }
    target.resize(target.size() * 2);  // may have been cut short: again, larger
  }
}

namespace {

// {kind, id: "dev:ino", rdev, uid, mode, size, mtimeNs}: what callers tell files by.
Napi::Value Described(Napi::Env env, const struct stat& st) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", KindOf(st.st_mode));
  out.Set("id", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
  out.Set("rdev", std::to_string(st.st_rdev));
  out.Set("uid", Napi::Number::New(env, st.st_uid));
  out.Set("mode", Napi::Number::New(env, st.st_mode & 07777));
  out.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  // Exact, as a decimal string (a double holds nanoseconds since 1970 only to ~0.25 us).
  out.Set("mtimeNs", std::to_string(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec));
  return out;
}

}  // namespace

// statFd(fd): {kind, id, rdev} of the open file, or null when fd is not open (EBADF).
Napi::Value StatFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "statFd");
  struct stat st;
  if (fstat(fd, &st) < 0) {
    if (errno == EBADF) return info.Env().Null();
    ThrowFsError(info.Env(), errno, "fstat");
  }
  return Described(info.Env(), st);
}

// statPath(path, follow): {kind, id, rdev} (lstat; stat with follow), or null when
// nothing is there (ENOENT, ENOTDIR).
Napi::Value StatPath(const Napi::CallbackInfo& info) {
  struct stat st;
  if (!StatArg(info, "statPath", &st)) return info.Env().Null();
  return Described(info.Env(), st);
}

// writeText(fd, text): all of text (UTF-8), however many writes it takes; on a
// non-blocking pipe without room, waits for room (poll) as a blocking write would.
Napi::Value WriteText(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "writeText");
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "writeText: text must be a string");
  std::string text = info[1].As<Napi::String>().Utf8Value();
  const char* data = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) ThrowFsError(info.Env(), errno, "poll");
      continue;
    }
    if (n < 0) ThrowFsError(info.Env(), errno, "write");
    data += n;
    left -= static_cast<size_t>(n);
  }
  return info.Env().Undefined();
}

// changeMode(path, mode): chmod(2), the mode as given (no umask).
Napi::Value ChangeMode(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "changeMode", "path");
  int mode = ArgInt(info, 1, "changeMode", "mode");
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) < 0) ThrowFsError(info.Env(), errno, "chmod", path);
  return info.Env().Undefined();
}

// readFd(fd): the text (UTF-8) from the fd's offset to the end.
Napi::Value ReadFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "readFd");
  std::string text;
  int err = 0;
  if (!ReadToEnd(fd, &text, &err)) ThrowFsError(info.Env(), err, "read");
  return Napi::String::New(info.Env(), text);
}

// touchFd(fd): its access and modification times set to now (futimens).
Napi::Value TouchFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "touchFd");
  if (futimens(fd, nullptr) < 0) ThrowFsError(info.Env(), errno, "futime");
  return info.Env().Undefined();
}

}  // namespace tsrun
