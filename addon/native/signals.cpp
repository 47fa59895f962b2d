// Signal forwarding for a foreground run or exec (which signals: the TypeScript of
// src/lifecycle/signal-forwarding.ts). A sigaction handler passes each signal on
// itself with pidfd_send_signal(2), which is async-signal-safe: on whatever thread
// the signal lands, whatever JavaScript runs meanwhile, with no thread or event-loop
// turn of ours in between. One that comes before the process is known is held (one of
// each kind, as the kernel holds a standard signal; real-time ones too) and sent when
// it is; one that comes after the forwarding stopped is dropped, and one that tsrun
// sends itself is never passed on.
#include <errno.h>
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

// The process's pidfd, -1 while there is none. A pidfd once handed to the handler is
// never closed (a handler may have read its number just before the forwarding stopped,
// and still be about to use it): one fd per run or exec, in a process that ends soon.
std::atomic<int> target{-1};
// Held signals: bit n-1 for signal n (Linux numbers them up to 64).
std::atomic<uint64_t> held{0};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<uint64_t>::is_always_lock_free,
              "the handler uses them: async-signal-safe only when lock-free");

struct Caught {
  int signo;
  struct sigaction previous;
};
// Dispositions belong to the process: one set of caught signals at a time. Touched
// only on the main thread, by the functions below.
std::vector<Caught> caught;      // catchSignals .. releaseSignals
std::vector<Caught> jobControl;  // forwardSignalsTo .. stopForwardingSignals
bool catching = false;
bool cleanupHookAdded = false;

void SendHeld(int pidfd) {
  uint64_t bits = held.exchange(0);
  for (int signo = 1; bits != 0; signo++, bits >>= 1)
    if (bits & 1) (void)PidfdSendSignal(pidfd, signo);
}

void OnSignal(int signo, siginfo_t* info, void*) {
  // A signal tsrun sent itself is its own: abort() (a V8 fatal error, std::terminate)
  // raises SIGABRT and must end tsrun, not reach the container first. Returning lets
  // abort() go on to end the process.
  if (info != nullptr && info->si_pid == getpid()) return;
  int saved = errno;
  int pidfd = target.load();
  if (pidfd >= 0) {
    (void)PidfdSendSignal(pidfd, signo);  // a process gone meanwhile: ESRCH, nothing to do
  } else {
    held.fetch_or(uint64_t{1} << (signo - 1));
    // forwardSignalsTo may have set the target and sent what was held in between:
    // whichever of the two takes this bit out sends it, exactly once.
    pidfd = target.load();
    if (pidfd >= 0) SendHeld(pidfd);
  }
  errno = saved;
}

void Restore(std::vector<Caught>& list) {
  for (auto it = list.rbegin(); it != list.rend(); ++it) sigaction(it->signo, &it->previous, nullptr);
  list.clear();
}

void StopForwarding() {
  target.store(-1);
  Restore(jobControl);
  held.store(0);
}

void Release() {
  StopForwarding();
  Restore(caught);
  catching = false;
}

void ReleaseAtTeardown(void*) { Release(); }

std::vector<int> SignalList(Napi::Env env, Napi::Value v, const char* fn) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(fn) + ": expected an array of signal numbers");
  Napi::Array list = v.As<Napi::Array>();
  std::vector<int> out;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    int signo = item.IsNumber() ? item.As<Napi::Number>().Int32Value() : 0;
    if (signo <= 0 || signo > SIGRTMAX || signo > 64) throw Napi::TypeError::New(env, std::string(fn) + ": not a signal number");
    out.push_back(signo);
  }
  return out;
}

// Installs OnSignal for each signal, recording the action it replaces in `into`. On a
// failure everything this process has caught is given back before the throw.
void Install(Napi::Env env, const std::vector<int>& signals, std::vector<Caught>& into) {
  struct sigaction action = {};
  action.sa_sigaction = OnSignal;
  action.sa_flags = SA_RESTART | SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  for (int signo : signals) {
    Caught entry{signo, {}};
    if (sigaction(signo, &action, &entry.previous) < 0) {
      int err = errno;
      Release();
      ThrowErrno(env, err, "sigaction", "signal " + std::to_string(signo));
    }
    into.push_back(entry);
  }
}

// The standard signals' numbers by name, as this architecture numbers them.
struct NamedSignal {
  const char* name;
  int signo;
};
const NamedSignal kSignalNames[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT},     {"SIGILL", SIGILL},       {"SIGTRAP", SIGTRAP},
    {"SIGABRT", SIGABRT},     {"SIGBUS", SIGBUS},       {"SIGFPE", SIGFPE},       {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},
    {"SIGSEGV", SIGSEGV},     {"SIGUSR2", SIGUSR2},     {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},     {"SIGTERM", SIGTERM},
    {"SIGSTKFLT", SIGSTKFLT}, {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP},     {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},     {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},       {"SIGXCPU", SIGXCPU},     {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},     {"SIGWINCH", SIGWINCH},   {"SIGIO", SIGIO},         {"SIGPWR", SIGPWR},
    {"SIGSYS", SIGSYS},
};

}  // namespace

// realtimeSignals() -> [SIGRTMIN, SIGRTMAX] as this libc numbers them (glibc keeps the
// kernel's first two for itself).
Napi::Value RealtimeSignals(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), SIGRTMIN));
  out.Set(1u, Napi::Number::New(info.Env(), SIGRTMAX));
  return out;
}

// signalNumbers(names) -> numbers, from <signal.h> (Node's os.constants has them too,
// but loading the os module costs more than a whole signal set-up).
Napi::Value SignalNumbers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "signalNumbers: expected an array of signal names");
  Napi::Array names = info[0].As<Napi::Array>();
  Napi::Array out = Napi::Array::New(env, names.Length());
  for (uint32_t i = 0; i < names.Length(); i++) {
    std::string name = names.Get(i).ToString().Utf8Value();
    int signo = 0;
    for (const NamedSignal& s : kSignalNames)
      if (name == s.name) signo = s.signo;
    if (signo == 0) throw Napi::TypeError::New(env, "signalNumbers: unknown signal " + name);
    out.Set(i, Napi::Number::New(env, signo));
  }
  return out;
}

// catchSignals(signals): from now until releaseSignals, these signals are held.
Napi::Value CatchSignals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> signals = SignalList(env, info.Length() > 0 ? info[0] : env.Undefined(), "catchSignals");
  if (catching) throw Napi::Error::New(env, "catchSignals: signals are already being caught");
  if (!cleanupHookAdded) {
    if (napi_add_env_cleanup_hook(env, ReleaseAtTeardown, nullptr) != napi_ok) throw Napi::Error::New(env, "catchSignals: napi_add_env_cleanup_hook failed");
    cleanupHookAdded = true;
  }
  held.store(0);
  catching = true;
  Install(env, signals, caught);
  return env.Undefined();
}

// forwardSignalsTo(pid, startTime, jobControl): the caught signals go to this process
// from now on, what was held first; the jobControl ones are caught from now on too.
// With a startTime, the process is checked to be the one recorded once its pidfd is
// open. Returns false, and forwards nothing, when it is gone (or the pid was reused).
Napi::Value ForwardSignalsTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "forwardSignalsTo", "pid");
  std::string startTime = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  std::vector<int> extra = SignalList(env, info.Length() > 2 ? info[2] : env.Undefined(), "forwardSignalsTo");
  if (!catching) throw Napi::Error::New(env, "forwardSignalsTo: no signals are being caught");
  if (target.load() >= 0) throw Napi::Error::New(env, "forwardSignalsTo: signals already go to a process");
  UniqueFd pidfd(pid > 0 ? PidfdOpen(pid) : -1);
  if (!pidfd) {
    if (pid <= 0 || errno == ESRCH) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "pidfd_open", std::to_string(pid));
  }
  if (!startTime.empty() && StartTimeOf(pid) != startTime) return Napi::Boolean::New(env, false);
  Install(env, extra, jobControl);
  // From here on the handler may use it: never closed (see `target`).
  const int published = pidfd.release();
  target.store(published);
  SendHeld(published);
  return Napi::Boolean::New(env, true);
}

// stopForwardingSignals(): nothing goes to the process any more (what comes is held,
// and dropped at release) and the jobControl signals have their actions back.
Napi::Value StopForwardingSignals(const Napi::CallbackInfo& info) {
  StopForwarding();
  return info.Env().Undefined();
}

// releaseSignals(): every caught signal has the action it had before; nothing caught: a no-op.
Napi::Value ReleaseSignals(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

}  // namespace tsrun
