// The last steps: environment, executable lookup, the exec FIFO, and execve.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace init {
namespace {

std::string EnvValue(const char* key) {
  std::string prefix = std::string(key) + "=";
  for (const std::string& kv : ctx.env)
    if (kv.compare(0, prefix.size(), prefix) == 0) return kv.substr(prefix.size());
  return std::string();
}

// The length of the well-formed UTF-8 sequence starting at s[i] (a lead byte of 0x80
// or more), or 0 where Go's decoder would take the byte alone as invalid.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0U; };
  const unsigned lead = byte(0);
  size_t len = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
  if (len == 0) return 0;
  // The second byte's range excludes overlong forms, surrogates and values past U+10FFFF.
  const unsigned low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
  const unsigned high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t k = 2; k < len; k++)
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  return len;
}

// Code points Go's unicode.IsPrint rejects beyond the C0 and C1 controls, as ranges:
// the spaces other than U+0020, the line and paragraph separators, the format
// characters (soft hyphen, zero-width ones, the bidirectional overrides that would
// reorder the rest of the log line as shown), private use and the noncharacters.
// Code points Unicode leaves unassigned, which Go escapes too, are not listed.
struct CodePointRange {
  unsigned first, last;
};
constexpr CodePointRange kGoNonPrinting[] = {
    {0x00A0, 0x00A0}, {0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD},
    {0x070F, 0x070F}, {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
    {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF},
    {0xFDD0, 0xFDEF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0xFFFE, 0xFFFF}, {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

bool GoNonPrinting(unsigned cp) {
  if (cp >= 0x80 && cp <= 0x9F) return true;  // C1 controls
  if ((cp & 0xFFFE) == 0xFFFE) return true;   // U+nFFFE, U+nFFFF: noncharacters
  for (const CodePointRange& r : kGoNonPrinting)
    if (cp >= r.first && cp <= r.last) return true;
  return false;
}

// A name in double quotes as Go's strconv.Quote writes it, which runc's exec errors
// use (exec: "name": ...): quote and backslash escaped, control bytes and bytes that
// are not UTF-8 written as escapes, so that the message stays one line whatever the
// config's args[0] holds, and shows as it is. Of Unicode's non-printing characters
// those of kGoNonPrinting are escaped (\uXXXX or \UXXXXXXXX, as Go), not unassigned ones.
std::string GoQuoted(const std::string& s) {
  static const char kHex[] = "0123456789abcdef";
  const auto hex = [&](const char* prefix, unsigned value, int digits) {
    std::string out = prefix;
    for (int d = digits - 1; d >= 0; d--) out += kHex[(value >> (4 * d)) & 15];
    return out;
  };
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += hex("\\x", c, 2);
        i++;
        continue;
      }
      unsigned cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; k++) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      if (!GoNonPrinting(cp)) {
        out.append(s, i, len);
      } else {
        out += cp < 0x10000 ? hex("\\u", cp, 4) : hex("\\U", cp, 8);
      }
      i += len;
      continue;
    }
    static const char kNamed[] = {'\a', 'a', '\b', 'b', '\f', 'f', '\n', 'n', '\r', 'r', '\t', 't', '\v', 'v', '"', '"', '\\', '\\'};
    bool named = false;
    for (size_t k = 0; k < sizeof kNamed; k += 2) {
      if (c == static_cast<unsigned char>(kNamed[k])) {
        out += '\\';
        out += kNamed[k + 1];
        named = true;
        break;
      }
    }
    if (!named) out += c < 0x20 || c == 0x7F ? hex("\\x", c, 2) : std::string(1, static_cast<char>(c));
    i++;
  }
  return out + "\"";
}

// 0 when path is an executable regular file, else the errno explaining why not.
int CheckExecutable(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) < 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;  // what execve says of a directory or device
  if (faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0) return 0;
  // glibc asks faccessat2 first; a seccomp profile (loaded before this when
  // noNewPrivileges is false) may refuse it with EPERM, which no access check gives
  // for X_OK. Then the plain faccessat (real and effective ids are one by now), and
  // where that is refused too, the mode bits, as Go's LookPath does for runc.
  if (errno != EPERM && errno != ENOSYS) return errno;
  if (syscall(SYS_faccessat, AT_FDCWD, path.c_str(), X_OK) == 0) return 0;
  if (errno != EPERM && errno != ENOSYS) return errno;
  return (st.st_mode & 0111) != 0 ? 0 : EACCES;
}

void ClearNonBlocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

}  // namespace

void OpEnv(const Args& a) {
  ctx.env = a;
  ctx.envSet = true;
}

namespace {

// The home directory of uid in the container's /etc/passwd, "/" when it has no entry
// (what runc sets). As with runc, the first entry of the uid decides, and one whose
// home field is empty or missing gives an empty HOME; unlike runc, a line without a
// uid field is no entry at all (runc reads it as one of uid 0). Read after
// pivotRoot, so only the container's file is seen.
std::string PasswdHome(const std::string& uid) {
  // Never anything but a regular file: a FIFO there would block the init for good,
  // and a tty would become its controlling terminal (O_NOCTTY). The process's root
  // is the container's by now; a link out through /proc/<pid>/root (hostPID) can
  // only be refused by an in-root open, which costs one fd more: where none is left
  // (RLIMIT_NOFILE), HOME stays as it would with no entry.
  int fd = OpenInOwnRoot("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return "/";
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return "/";
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && text.size() < (1u << 20)) text.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    // name:passwd:uid:gid:gecos:home:shell
    std::string fields[7];
    size_t f = 0, from = 0;
    for (; f < 7; f++) {
      size_t colon = line.find(':', from);
      fields[f] = line.substr(from, colon == std::string::npos ? std::string::npos : colon - from);
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
    if (f >= 2 && fields[2] == uid) return fields[5];
  }
  return "/";
}
}  // namespace

// An empty HOME counts as none, as with runc; the planner left one entry per name.
void OpDefaultHome(const Args& a) {
  if (!EnvValue("HOME").empty()) return;
  std::string home = "HOME=" + PasswdHome(a[0]);
  for (std::string& kv : ctx.env) {
    if (kv.compare(0, 5, "HOME=") == 0) {
      kv = home;
      return;
    }
  }
  ctx.env.push_back(home);
}

void OpResolveExec(const Args& a) {
  const std::string& name = a[0];
  std::string object = "exec: " + GoQuoted(name);
  if (name.empty()) FailMessage(object + ": executable file not found in $PATH");
  if (name.find('/') != std::string::npos) {
    int err = CheckExecutable(name);
    if (err != 0) FailMessage(object + ": " + ErrnoText(err));
    ctx.execPath = name;
    return;
  }
  // Search the container's PATH (from the env op), as execvp would, in the container's
  // view: this runs after pivotRoot, chdir and credentials.
  std::string path = EnvValue("PATH");
  // The first file the process's user may not execute although its mode has an x bit
  // (another user's, or on a noexec mount): Go's LookPath takes such a file, and
  // runc's own access check then fails "permission denied" (Docker's 126, not 127).
  // The search goes on past it, as execvp's does, and reports it only at the end.
  std::string denied;
  size_t at = 0;
  while (!path.empty() && at <= path.size()) {
    size_t colon = path.find(':', at);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(at, colon - at);
    at = colon + 1;
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    int err = CheckExecutable(candidate);
    if (err == 0) {
      // Found through an empty or relative PATH entry: refused, as Go's LookPath
      // (ErrDot) refuses it for runc, rather than run whatever the cwd holds.
      if (candidate[0] != '/') FailMessage(object + ": cannot run executable found relative to current directory");
      ctx.execPath = candidate;
      return;
    }
    struct stat st;
    if (err == EACCES && denied.empty() && stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) denied = candidate;
  }
  if (!denied.empty()) FailMessage(object + ": " + denied + ": " + ErrnoText(EACCES));
  FailMessage(object + ": executable file not found in $PATH");
}

namespace {

// A parked init behaves on a signal from outside as runc's parked Go init does (its
// runtime's signal table, runtime/sigtab_linux_generic.go, with no signal.Notify):
// kQuietExit end it without a word, kReportedExit with a report on stderr (Go's
// "throw": a goroutine dump), kIgnored are caught and dropped, the rest (SIGCONT,
// SIGTSTP, SIGTTIN, SIGTTOU, 32-34) keep the default, which a pid namespace's init
// does not get from outside at all. Go's exit status in both exit cases is 2: as
// pid 1 it cannot die of its own raise() (the kernel drops it), so it exits.
constexpr int kQuietExit[] = {SIGHUP, SIGINT, SIGTERM};
struct Reported {
  int sig;
  const char* message;
};
constexpr Reported kReportedExit[] = {
    {SIGQUIT, "tsrun-init: SIGQUIT before the container's process started\n"},
    {SIGILL, "tsrun-init: SIGILL before the container's process started\n"},
    {SIGTRAP, "tsrun-init: SIGTRAP before the container's process started\n"},
    {SIGABRT, "tsrun-init: SIGABRT before the container's process started\n"},
    {SIGBUS, "tsrun-init: SIGBUS before the container's process started\n"},
    {SIGFPE, "tsrun-init: SIGFPE before the container's process started\n"},
    {SIGSEGV, "tsrun-init: SIGSEGV before the container's process started\n"},
    {SIGSTKFLT, "tsrun-init: SIGSTKFLT before the container's process started\n"},
    {SIGSYS, "tsrun-init: SIGSYS before the container's process started\n"},
};
constexpr int kIgnored[] = {SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGCHLD, SIGURG, SIGXCPU,
                            SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR};
// Go's own realtime range stops at 34; glibc's sigaction refuses 32 and 33 anyway.
constexpr int kFirstIgnoredRealtime = 35;
constexpr int kLastSignal = 64;

constexpr int kParkedExitStatus = 2;

void QuietExit(int) { _exit(kParkedExitStatus); }

void ReportedExit(int sig) {
  for (const Reported& r : kReportedExit) {
    if (r.sig != sig) continue;
    size_t len = 0;
    while (r.message[len] != '\0') len++;
    (void)!write(2, r.message, len);  // async-signal-safe; nothing to do if stderr is gone
  }
  _exit(kParkedExitStatus);
}

void Ignore(int) {}

void Catch(int sig, void (*handler)(int)) {
  struct sigaction sa = {};
  sa.sa_handler = handler;
  // The init's blocking calls (the FIFO's open, a hook's waits) go on after an ignored one.
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) < 0) Fail("signal " + std::to_string(sig), "sigaction", errno);
}

}  // namespace

// Without this, a parked init that is pid 1 of its namespace never gets a signal from
// outside (the kernel drops what an init has no handler for): `kill` (SIGTERM) of a
// created container did nothing and a shim waited out its whole grace period; and one
// that is not would die of SIGUSR1 where runc's stays. Planned before `notify ready`,
// so that no `kill` after create returned is lost. The container's execve puts these
// caught dispositions back to the default itself (a hook's child: RestoreParkedSignals).
void OpParkedSignals(const Args&) {
  // Not pid 1 (no pid namespace of its own): Go's quiet exits die of the signal itself,
  // which the default does.
  if (getpid() == 1)
    for (int sig : kQuietExit) Catch(sig, QuietExit);
  for (const Reported& r : kReportedExit) Catch(r.sig, ReportedExit);
  for (int sig : kIgnored) Catch(sig, Ignore);
  for (int sig = kFirstIgnoredRealtime; sig <= kLastSignal; sig++) Catch(sig, Ignore);
}

void RestoreParkedSignals() {
  for (int sig : kQuietExit) signal(sig, SIG_DFL);
  for (const Reported& r : kReportedExit) signal(r.sig, SIG_DFL);
  for (int sig : kIgnored) signal(sig, SIG_DFL);
  for (int sig = kFirstIgnoredRealtime; sig <= kLastSignal; sig++) signal(sig, SIG_DFL);
}

void OpWaitFifo(const Args& a) {
  std::string object = "exec fifo";
  int fd = static_cast<int>(ParseU64(a[0], object));
  // Re-open the O_PATH fd for writing: this blocks until `start` opens the FIFO for
  // reading, which is the whole point of parking here.
  // Not FdPath, which refuses a /proc that is not procfs outright: checked here in its
  // own words.
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  // The path is the container's /proc: where the config mounts no procfs there, it is
  // the image's own files, and a file (or FIFO) planted at proc/self/fd/<n> would take
  // the handshake, letting the process run without `start`. Only the FIFO itself may
  // be opened: checked before the open (a planted FIFO would block it) and after.
  struct stat fifo;
  if (fstat(fd, &fifo) < 0) Fail(object, "fstat", errno);
  const auto sameFifo = [&fifo](const struct stat& st) { return S_ISFIFO(st.st_mode) && st.st_dev == fifo.st_dev && st.st_ino == fifo.st_ino; };
  const std::string notTheFifo = object + ": " + path + " does not lead to the exec FIFO (no procfs at /proc?)";
  struct stat seen;
  if (stat(path.c_str(), &seen) < 0) Fail(object + " " + path + " (no procfs at /proc?)", "stat", errno);
  if (!sameFifo(seen)) FailMessage(notTheFifo);
  // The container's RLIMIT_NOFILE is already applied and may leave no free fd
  // (a soft limit of 0 is legal): lift the soft limit up to the hard one for this
  // one open, and put it back before the user's process runs.
  struct rlimit nofile;
  bool lifted = false;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < nofile.rlim_max &&
      nofile.rlim_cur <= static_cast<rlim_t>(fd) + 1) {
    struct rlimit wider = nofile;
    wider.rlim_cur = nofile.rlim_max;
    lifted = setrlimit(RLIMIT_NOFILE, &wider) == 0;
  }
  int w;
  do {
    w = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  } while (w < 0 && errno == EINTR);
  if (w < 0) Fail(object, "open", errno);
  if (fstat(w, &seen) < 0) Fail(object, "fstat", errno);
  if (!sameFifo(seen)) {
    ForceClose(w);
    FailMessage(notTheFifo);
  }
  if (lifted && setrlimit(RLIMIT_NOFILE, &nofile) < 0) Fail("RLIMIT_NOFILE", "setrlimit", errno);
  ssize_t n;
  do {
    n = write(w, "0", 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    int err = n < 0 ? errno : EIO;
    ForceClose(w);
    Fail(object, "write", err);
  }
  // Kept open (close-on-exec): `start` reads on until the kernel closes it at the
  // execve of the container's process, or until this init exits after writing why
  // (startContainer hooks run in between). PROTOCOL.md, `waitFifo`.
  ctx.startFd = w;
  ForceClose(fd);
}

void MarkInheritedFdsCloseOnExec() {
  // Mark instead of close: the sync socket stays usable to report an exec failure and
  // the kernel closes it (EOF for the parent) exactly when execve succeeds; and this
  // may run before ops that still use their fds (the exec FIFO's, at `waitFifo`).
  // Without CLOSE_RANGE_CLOEXEC (before Linux 5.11), one fd at a time.
  const unsigned first = static_cast<unsigned>(3 + ctx.preserveFds);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = static_cast<int>(first); fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ctx.inheritedFdsMarked = true;
}

void PrepareProcessForExec() {
  // Ignored dispositions and the mask survive execve; the container starts clean. A
  // caught signal (the parked handlers, SIGPIPE's) execve resets itself: only an
  // ignored one is put back to the default. The raw syscall, because libc's
  // sigaction refuses its reserved signals (32, 33).
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  };
  const KernelSigaction dfl = {SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old = {};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof old.mask) == 0 && old.handler == SIG_IGN)
      syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int fd = 0; fd < 3; fd++) ClearNonBlocking(fd);
  ctx.execPrepared = true;
}

void OpExec(const Args& a) {
  std::string path = ctx.execPath.empty() ? a[0] : ctx.execPath;
  // The process would run outside its v2 cgroup: a planner bug, never run with it.
  if (ctx.forkCgroupFd >= 0) FailMessage("plan: a v2 cgroup without the fork that enters it");
  if (!ctx.atForkCgroups.empty()) FailMessage("plan: a v1AtFork cgroup without the fork whose child joins it");
  RequireCwdSet();

  // `x`: tells start that what follows is the execve. EOF then means it succeeded (the
  // kernel closed the FIFO), EOF without it that this init died before. Written while
  // `parkedSignals` still catches SIGPIPE: if start is gone, the write fails, no more.
  ReportToStart("x");
  // The same on the sync socket when it is still open (run, exec): EOF after
  // `notify exec` is the execve, EOF before it an init that died (killed during a
  // startContainer hook, or before its execve).
  SendMessage("notify exec");

  // Done before a seccomp filter when there is one: nothing but the execve after it.
  if (!ctx.execPrepared) PrepareProcessForExec();
  if (!ctx.inheritedFdsMarked) MarkInheritedFdsCloseOnExec();

  std::vector<char*> argv;
  for (const std::string& s : a) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& s : ctx.env) envp.push_back(const_cast<char*>(s.c_str()));
  envp.push_back(nullptr);

  execve(path.c_str(), argv.data(), envp.data());
  int err = errno;
  // SIGPIPE is still caught (main's handler, or parkedSignals'): a failed execve resets
  // no handler, so a reader gone (a pipe on fd 2, start on the FIFO) fails the write
  // with EPIPE. No rt_sigaction here: a seccomp filter may be loaded by now and kill
  // it, which would lose the message.
  // To run or create on the sync socket, or to start on the FIFO; the container's
  // stderr only when neither took it (as FailMessage): said once, where it is read.
  // runc's words, word for word ("exec /run.sh: no such file or directory"): the line
  // people meet for a wrong-architecture image or a script's missing interpreter.
  std::string message = "exec " + path + ": " + tsrun_common::ErrnoDescription(err);
  bool told = SendMessage("error " + message);
  told = ReportToStart("e" + message) || told;
  if (!told) {
    std::string line = "tsrun-init: " + message + "\n";
    (void)!write(2, line.data(), line.size());
  }
  _exit(127);
}

}  // namespace init
