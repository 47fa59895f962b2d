// Catches signals that Node has no name for, so that process.on cannot: the
// real-time ones (SIGRTMIN..SIGRTMAX). A sigaction handler writes the signal's
// number into a pipe (write(2) is async-signal-safe); a thread of ours reads it and
// hands it to JavaScript through a thread-safe function, so the callback runs on the
// main thread when the event loop turns, as process.on's listeners do. Pure N-API
// and POSIX: no libuv, whose headers and ABI the addon does not build against.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {

namespace {

// Signal dispositions belong to the process: one watch at a time. Heap-allocated and
// never destroyed at exit (a process ending without unwatching just ends).
struct SignalWatch {
  std::vector<std::pair<int, struct sigaction>> previous;
  pthread_t reader;
  napi_threadsafe_function tsfn = nullptr;
};

SignalWatch* active = nullptr;
bool cleanupHookAdded = false;

// One pipe for the life of the process, made by the first watch and never closed:
// a handler that has already started when a watch stops (the previous actions are
// back, but it may be preempted anywhere) writes into this pipe and nowhere else.
// Were the write end closed at unwatch, its number could name an unrelated file by
// the time that handler's write() runs. Set once, before any handler is installed.
std::atomic<int> pipeRead{-1};
std::atomic<int> pipeWrite{-1};
static_assert(std::atomic<int>::is_always_lock_free, "the handler reads it: async-signal-safe only when lock-free");

// The byte that tells the reader to stop (no signal is 0).
constexpr unsigned char kStop = 0;

void OnSignal(int signo) {
  int saved = errno;
  int fd = pipeWrite.load(std::memory_order_relaxed);
  unsigned char byte = static_cast<unsigned char>(signo);
  // A full pipe (64 KiB of unread signals) drops this one, as the kernel merges a
  // standard signal that is already pending.
  if (fd >= 0) (void)!write(fd, &byte, 1);
  errno = saved;
}

// The process's signal pipe, made on first use. Returns 0, or the errno of the call
// named in *failedCall.
int EnsurePipe(const char** failedCall) {
  if (pipeWrite.load() >= 0) return 0;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    *failedCall = "pipe2";
    return errno;
  }
  UniqueFd readEnd(fds[0]);
  UniqueFd writeEnd(fds[1]);
  // The handler must never block: a full pipe drops the signal instead.
  int flags = fcntl(writeEnd.get(), F_GETFL);
  if (flags < 0 || fcntl(writeEnd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    *failedCall = "fcntl";
    return errno;  // read before the ends close
  }
  pipeRead.store(readEnd.release());
  pipeWrite.store(writeEnd.release());
  return 0;
}

// Drops what an earlier watch left unread (a signal whose handler ran after that
// watch's stop byte): it was meant for that watch's callback, not this one's.
void DrainPipe() {
  int fd = pipeRead.load();
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0 || !(p.revents & POLLIN)) return;
    unsigned char byte;
    if (read(fd, &byte, 1) != 1) return;
  }
}

void* ReadSignals(void* arg) {
  auto* watch = static_cast<SignalWatch*>(arg);
  // Signals go to Node's threads, never interrupt this one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  for (;;) {
    unsigned char byte;
    ssize_t n = read(pipeRead.load(), &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1 || byte == kStop) break;
    napi_call_threadsafe_function(watch->tsfn, reinterpret_cast<void*>(static_cast<uintptr_t>(byte)), napi_tsfn_nonblocking);
  }
  return nullptr;
}

// On the main thread: onSignal(signo). An exception thrown there is an uncaught one,
// as from any other callback of the event loop.
void CallJs(napi_env env, napi_value callback, void*, void* data) {
  if (env == nullptr || callback == nullptr) return;  // the environment is going away
  napi_value argv[1];
  napi_value undefined;
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(reinterpret_cast<uintptr_t>(data)), &argv[0]);
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, callback, 1, argv, &result) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

// Puts the previous actions back, then stops the reader and lets the function go.
void StopWatch() {
  SignalWatch* watch = active;
  if (watch == nullptr) return;
  active = nullptr;
  for (auto it = watch->previous.rbegin(); it != watch->previous.rend(); ++it) sigaction(it->first, &it->second, nullptr);
  // The write end stays open (see pipeWrite). It is non-blocking: should 64 KiB of
  // signals fill the pipe, the reader empties it while we retry.
  unsigned char stop = kStop;
  while (write(pipeWrite.load(), &stop, 1) < 0 && (errno == EINTR || errno == EAGAIN)) {
  }
  pthread_join(watch->reader, nullptr);
  napi_release_threadsafe_function(watch->tsfn, napi_tsfn_release);
  delete watch;
}

void StopAtTeardown(void*) { StopWatch(); }

}  // namespace

// realtimeSignals() -> [SIGRTMIN, SIGRTMAX] as this libc numbers them (glibc keeps the
// kernel's first two for itself).
Napi::Value RealtimeSignals(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), SIGRTMIN));
  out.Set(1u, Napi::Number::New(info.Env(), SIGRTMAX));
  return out;
}

// watchSignals(signals: number[], onSignal: (signo) => void): catches these signals
// until unwatchSignals(). The watch does not keep the event loop alive.
Napi::Value WatchSignals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "watchSignals: expected (signals: number[], onSignal: function)");
  }
  if (active != nullptr) throw Napi::Error::New(env, "watchSignals: signals are already being watched");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<int> signals;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    int signo = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
    if (signo <= 0 || signo > SIGRTMAX) throw Napi::TypeError::New(env, "watchSignals: not a signal number");
    signals.push_back(signo);
  }
  if (!cleanupHookAdded) {
    if (napi_add_env_cleanup_hook(env, StopAtTeardown, nullptr) != napi_ok) throw Napi::Error::New(env, "watchSignals: napi_add_env_cleanup_hook failed");
    cleanupHookAdded = true;
  }

  const char* failedCall = "";
  int pipeErr = EnsurePipe(&failedCall);
  if (pipeErr != 0) ThrowErrno(env, pipeErr, failedCall, "signal pipe");
  DrainPipe();
  auto* watch = new SignalWatch();
  napi_value name = Napi::String::New(env, "tsrun signal watch");
  if (napi_create_threadsafe_function(env, info[1], nullptr, name, 0, 1, nullptr, nullptr, nullptr, CallJs, &watch->tsfn) != napi_ok) {
    delete watch;
    throw Napi::Error::New(env, "watchSignals: napi_create_threadsafe_function failed");
  }
  napi_unref_threadsafe_function(env, watch->tsfn);
  int rc = pthread_create(&watch->reader, nullptr, ReadSignals, watch);
  if (rc != 0) {
    napi_release_threadsafe_function(watch->tsfn, napi_tsfn_release);
    delete watch;
    ThrowErrno(env, rc, "pthread_create", "signal reader");
  }
  active = watch;

  struct sigaction action = {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signo : signals) {
    struct sigaction previous;
    if (sigaction(signo, &action, &previous) < 0) {
      int err = errno;
      StopWatch();
      ThrowErrno(env, err, "sigaction", "signal " + std::to_string(signo));
    }
    watch->previous.emplace_back(signo, previous);
  }
  return env.Undefined();
}

// unwatchSignals(): the watched signals get the actions they had before. No watch: a no-op.
Napi::Value UnwatchSignals(const Napi::CallbackInfo& info) {
  StopWatch();
  return info.Env().Undefined();
}

}  // namespace tsrun
