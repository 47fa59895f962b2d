// runHookProcess: runs one of the OCI hooks tsrun runs itself (prestart,
// createRuntime, poststart, poststop; src/lifecycle/hooks.ts decides which, with what)
// and collects what it wrote, as runc's Go exec.Cmd does:
// - stdin, stdout and stderr are pipes, which a hook can reopen by name
//   (/dev/stdout, /dev/stderr, /dev/stdin); Node's child_process gives sockets there,
//   and a shell hook's `echo x >/dev/stderr` failed with ENXIO;
// - the hook's path is executed as it is (posix_spawn, an execve): a file without a
//   #! line fails with ENOEXEC, where libuv's execvp ran it with /bin/sh;
// - the hook gets fds 0-2 only: an fd tsrun's caller left open without close-on-exec
//   no longer reaches it (a background child of a hook would hold a caller's pipe);
// - every signal at its default action (glibc's reserved 32 and 33 too), none blocked.
// The call blocks until the hook has exited and both its output pipes are closed (a
// child it leaves behind holding them is waited for, as runc waits), or until the
// timeout: then the hook is killed (SIGKILL) and reaped, and what it wrote so far is
// what there is. Of each stream the last `keep` bytes are kept, and its length.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <exception>
#include <string>
#include <vector>

#include "../common/errno-text.hpp"
#include "addon.hpp"
#include "fd.hpp"
#include "posix-spawn.hpp"

namespace tsrun {
namespace {

constexpr const char* kFn = "runHookProcess";

std::vector<std::string> StringArray(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(kFn) + ": " + what + " must be an array of strings");
  Napi::Array arr = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value item = arr.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(env, std::string(kFn) + ": " + what + " must be an array of strings");
    std::string s = item.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, std::string(kFn) + ": " + what + " contains a NUL byte");
    out.push_back(std::move(s));
  }
  return out;
}

std::string StringOption(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(env, std::string(kFn) + ": " + what + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(env, std::string(kFn) + ": " + what + " contains a NUL byte");
  return s;
}

// The NULL-terminated char* array execve takes, pointing into `strings`.
std::vector<char*> CArray(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct PipeEnds {
  UniqueFd read;
  UniqueFd write;
};

PipeEnds MakePipe(Napi::Env env, const char* what) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) < 0) ThrowErrno(env, errno, "pipe2", what);
  return PipeEnds{UniqueFd(ends[0]), UniqueFd(ends[1])};
}

void SetNonBlocking(Napi::Env env, int fd, const char* what) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(env, errno, "fcntl", what);
}

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// What a hook wrote on one stream: how much, and its last `keep` bytes (all a failing
// hook's error shows); a hook's output is not limited, tsrun's memory is.
struct Stream {
  std::string tail;
  uint64_t total = 0;
};

// Reads what is there; false at EOF or on an error (the stream is over either way).
bool Drain(int fd, Stream* into, size_t keep) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      into->total += static_cast<uint64_t>(n);
      into->tail.append(buf, static_cast<size_t>(n));
      if (into->tail.size() > 2 * keep + sizeof buf) into->tail.erase(0, into->tail.size() - keep);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

// The longest a timeout can be (~31 years): past it, the deadline arithmetic below
// would overflow.
constexpr double kMaxTimeoutMs = 1e12;

struct Outcome {
  Stream out, err;
  bool known = false;  // `status` is the hook's wait status
  int status = 0;
  bool timedOut = false;
};

// Writes `input` to the hook's stdin, collects its output and reaps it (see the top of
// this file). Throws only after killing and reaping the hook.
Outcome WaitForHook(Napi::Env env, const std::string& path, pid_t pid, int pidfd, UniqueFd in, UniqueFd out, UniqueFd err,
                    const std::string& input, int64_t timeoutMs, size_t keep) {
  Outcome o;
  size_t written = 0;
  if (input.empty()) in.reset();
  bool reaped = false;
  const int64_t deadline = timeoutMs >= 0 ? NowMs() + timeoutMs : -1;
  auto killAndReap = [&]() {
    if (reaped) return;
    PidfdSendSignal(pidfd, SIGKILL);
    o.known = waitpid(pid, &o.status, 0) == pid;
    reaped = true;
  };
  try {
    for (;;) {
      struct pollfd fds[4];
      int n = 0;
      int inAt = -1, outAt = -1, errAt = -1, pidAt = -1;
      auto watch = [&](int fd, short events) {
        fds[n] = pollfd{fd, events, 0};
        return n++;
      };
      if (in) inAt = watch(in.get(), POLLOUT);
      if (out) outAt = watch(out.get(), POLLIN);
      if (err) errAt = watch(err.get(), POLLIN);
      if (!reaped) pidAt = watch(pidfd, POLLIN);
      // Done once the hook is reaped and has closed its output: stdin it never read is dropped.
      if (reaped && outAt < 0 && errAt < 0) break;
      int wait = -1;
      if (deadline >= 0) {
        int64_t left = deadline - NowMs();
        // Checked on every turn: a hook whose pipes are never quiet still meets it.
        if (left <= 0) {
          o.timedOut = true;
          killAndReap();
          // A child the hook left holding its output is not waited for past the timeout.
          break;
        }
        wait = left > INT_MAX ? INT_MAX : static_cast<int>(left);
      }
      int ready = poll(fds, static_cast<nfds_t>(n), wait);
      if (ready < 0) {
        if (errno == EINTR) continue;
        ThrowErrno(env, errno, "poll", path);
      }
      if (inAt >= 0 && fds[inAt].revents != 0) {
        ssize_t w = write(in.get(), input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        // EPIPE: the hook closed stdin or exited without reading it; its status decides.
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in.reset();
      }
      if (outAt >= 0 && fds[outAt].revents != 0 && !Drain(out.get(), &o.out, keep)) out.reset();
      if (errAt >= 0 && fds[errAt].revents != 0 && !Drain(err.get(), &o.err, keep)) err.reset();
      if (pidAt >= 0 && fds[pidAt].revents != 0) {
        pid_t w = waitpid(pid, &o.status, 0);
        if (w == pid) o.known = true;
        // Reaped by someone else (ECHILD): over, with no status to give.
        if (w == pid || (w < 0 && errno == ECHILD)) reaped = true;
        in.reset();
      }
    }
  } catch (const Napi::Error&) {
    killAndReap();
    throw;
  } catch (const std::exception& e) {
    // std::bad_alloc and the like: never out of a N-API call (that would end tsrun
    // and leave the hook running).
    killAndReap();
    throw Napi::Error::New(env, std::string(kFn) + ": " + e.what());
  }
  for (Stream* s : {&o.out, &o.err})
    if (s->tail.size() > keep) s->tail.erase(0, s->tail.size() - keep);
  return o;
}

Napi::Value StreamObject(Napi::Env env, const Stream& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("tail", Napi::Buffer<char>::Copy(env, s.tail.data(), s.tail.size()));
  o.Set("bytes", Napi::Number::New(env, static_cast<double>(s.total)));
  return o;
}

}  // namespace

// runHookProcess({path, argv, env, cwd?, input, timeoutMs?, keep}) ->
//   {status: number|null, signal: {number, text}|null, stdout: {tail, bytes}, stderr: {tail, bytes}, timedOut}
// argv[0] is the hook's argv[0]; env entries go to execve as they are. Throws (code, errno)
// when the hook cannot be started: its path missing, not executable, ENOEXEC...
Napi::Value RunHookProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, std::string(kFn) + ": options must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  std::string path = StringOption(env, options.Get("path"), "path");
  std::vector<std::string> argv = StringArray(env, options.Get("argv"), "argv");
  if (argv.empty()) throw Napi::TypeError::New(env, std::string(kFn) + ": argv must hold argv[0]");
  std::vector<std::string> envp = StringArray(env, options.Get("env"), "env");
  Napi::Value cwdValue = options.Get("cwd");
  Napi::Value inputValue = options.Get("input");
  if (!inputValue.IsBuffer()) throw Napi::TypeError::New(env, std::string(kFn) + ": input must be a Buffer");
  Napi::Buffer<uint8_t> inputBuffer = inputValue.As<Napi::Buffer<uint8_t>>();
  const std::string input(reinterpret_cast<const char*>(inputBuffer.Data()), inputBuffer.Length());
  Napi::Value timeoutValue = options.Get("timeoutMs");
  int64_t timeoutMs = -1;
  if (!timeoutValue.IsUndefined()) {
    if (!timeoutValue.IsNumber() || !(timeoutValue.As<Napi::Number>().DoubleValue() > 0))
      throw Napi::TypeError::New(env, std::string(kFn) + ": timeoutMs must be a positive number");
    double ms = timeoutValue.As<Napi::Number>().DoubleValue();
    timeoutMs = static_cast<int64_t>(ms > kMaxTimeoutMs ? kMaxTimeoutMs : ms);
  }
  Napi::Value keepValue = options.Get("keep");
  if (!keepValue.IsNumber() || !(keepValue.As<Napi::Number>().DoubleValue() >= 0) || keepValue.As<Napi::Number>().DoubleValue() > (1 << 30))
    throw Napi::TypeError::New(env, std::string(kFn) + ": keep must be a number of bytes");
  const size_t keep = static_cast<size_t>(keepValue.As<Napi::Number>().DoubleValue());

  PipeEnds in = MakePipe(env, "hook stdin");
  PipeEnds out = MakePipe(env, "hook stdout");
  PipeEnds err = MakePipe(env, "hook stderr");
  // Our ends only (each end of a pipe is an open file of its own): nothing can fail
  // between the spawn and the loop that reaps the hook.
  SetNonBlocking(env, in.write.get(), "hook stdin");
  SetNonBlocking(env, out.read.get(), "hook stdout");
  SetNonBlocking(env, err.read.get(), "hook stderr");
  FileActions actions(env);
  // Above 2: a pipe end the kernel numbered 0-2 (tsrun started with one of them closed)
  // is not overwritten by another's dup2 before its own.
  UniqueFd childIn = DupAbove(env, in.read.get(), 3, "hook stdin");
  UniqueFd childOut = DupAbove(env, out.write.get(), 3, "hook stdout");
  UniqueFd childErr = DupAbove(env, err.write.get(), 3, "hook stderr");
  in.read.reset();
  out.write.reset();
  err.write.reset();
  actions.Dup2(childIn.get(), 0);
  actions.Dup2(childOut.get(), 1);
  actions.Dup2(childErr.get(), 2);
  actions.CloseFrom(3);
  if (!cwdValue.IsUndefined()) actions.Chdir(StringOption(env, cwdValue, "cwd"));
  SpawnAttributes attr(env);
  std::vector<char*> cArgv = CArray(argv);
  std::vector<char*> cEnv = CArray(envp);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), actions.get(), attr.get(), cArgv.data(), cEnv.data());
  if (rc != 0) ThrowErrno(env, rc, "posix_spawn", path);
  childIn.reset();
  childOut.reset();
  childErr.reset();

  // From here on the hook runs: it is killed and reaped on every way out.
  UniqueFd pidfd(PidfdOpen(pid));
  if (!pidfd) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ThrowErrno(env, e, "pidfd_open", path);
  }
  Outcome o = WaitForHook(env, path, pid, pidfd.get(), std::move(in.write), std::move(out.read), std::move(err.read), input, timeoutMs, keep);

  Napi::Object result = Napi::Object::New(env);
  bool exited = o.known && WIFEXITED(o.status);
  bool signalled = o.known && WIFSIGNALED(o.status);
  result.Set("status", exited ? Napi::Value(Napi::Number::New(env, WEXITSTATUS(o.status))) : env.Null());
  if (signalled) {
    Napi::Object signal = Napi::Object::New(env);
    signal.Set("number", Napi::Number::New(env, WTERMSIG(o.status)));
    // Go's words for it, as runc's error has them (the init's hooks say the same).
    signal.Set("text", Napi::String::New(env, tsrun_common::SignalText(WTERMSIG(o.status))));
    result.Set("signal", signal);
  } else {
    result.Set("signal", env.Null());
  }
  result.Set("stdout", StreamObject(env, o.out));
  result.Set("stderr", StreamObject(env, o.err));
  result.Set("timedOut", Napi::Boolean::New(env, o.timedOut));
  return result;
}

}  // namespace tsrun
