// Entry point: become non-dumpable, read the plan, run its operations in order.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <utility>
#include <unistd.h>

#include "init.hpp"

namespace init {

Context ctx;

uint64_t ParseU64(const std::string& text, const std::string& object) {
  if (text.empty() || text.size() > 20) FailMessage(object + ": invalid number \"" + text + "\"");
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') FailMessage(object + ": invalid number \"" + text + "\"");
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) FailMessage(object + ": number out of range \"" + text + "\"");
    value = value * 10 + digit;
  }
  return value;
}

int64_t ParseI64(const std::string& text, const std::string& object) {
  bool negative = !text.empty() && text[0] == '-';
  uint64_t magnitude = ParseU64(negative ? text.substr(1) : text, object);
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) FailMessage(object + ": number out of range \"" + text + "\"");
  return negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
}

namespace {

struct OpSpec {
  const char* name;
  int minArgs;
  int maxArgs;  // -1: any number
  Handler handler;
};

const OpSpec kOps[] = {
    {"fds", 2, 2, OpFds},
    {"sync", 1, 1, OpSync},
    {"notify", 1, 1, OpNotify},
    {"setns", 2, 2, OpSetns},
    {"unshare", 1, 1, OpUnshare},
    {"becomeRoot", 0, 0, OpBecomeRoot},
    {"cgroup", 2, 2, OpCgroup},
    {"fork", 0, 0, OpFork},
    {"nonDumpable", 0, 0, OpNonDumpable},
    {"dumpable", 0, 0, OpDumpable},
    {"hostname", 1, 1, OpHostname},
    {"loopbackUp", 0, 0, OpLoopbackUp},
    {"netns", 0, 0, OpNetns},
    {"netlinkSocket", 0, 0, OpNetlinkSocket},
    {"exit", 1, 1, OpExit},
    {"domainname", 1, 1, OpDomainname},
    {"propagation", 1, 1, OpPropagation},
    {"rootfs", 1, 1, OpRootfs},
    {"mount", 6, 7, OpMount},
    {"mountSetattr", 3, 3, OpMountSetattr},
    {"idmapUserns", 5, 5, OpIdmapUserns},
    {"idmapTree", 5, 5, OpIdmapTree},
    {"sourceHelper", 2, -1, OpSourceHelper},
    {"openSources", 0, 0, OpOpenSources},
    {"closeSources", 0, 0, OpCloseSources},
    {"mkdir", 2, 3, OpMkdir},
    {"mknod", 7, 7, OpMknod},
    {"bindDevice", 5, 5, OpBindDevice},
    {"symlink", 2, 3, OpSymlink},
    {"pivotRoot", 0, 0, OpPivotRoot},
    {"chrootNoPivot", 0, 0, OpChrootNoPivot},
    {"remountReadonly", 1, 1, OpRemountReadonly},
    {"maskPath", 1, 1, OpMaskPath},
    {"readonlyPath", 1, 1, OpReadonlyPath},
    {"sysctl", 2, 2, OpSysctl},
    {"oomScoreAdj", 1, 1, OpOomScoreAdj},
    {"rlimit", 3, 3, OpRlimit},
    {"chdir", 1, 1, OpChdir},
    {"umask", 1, 1, OpUmask},
    {"noNewPrivs", 0, 0, OpNoNewPrivs},
    {"stdioOwner", 1, 1, OpStdioOwner},
    {"reopenDevNull", 0, 0, OpReopenDevNull},
    {"newSession", 0, 0, OpNewSession},
    {"keepGroups", 0, 0, OpKeepGroups},
    {"credentials", 7, -1, OpCredentials},
    {"seccomp", 3, 3, OpSeccomp},
    {"personality", 1, 1, OpPersonality},
    {"ioPriority", 1, 1, OpIoPriority},
    {"scheduler", 7, 7, OpScheduler},
    {"cpuAffinity", 1, 1, OpCpuAffinity},
    {"memoryPolicy", 3, 3, OpMemoryPolicy},
    {"sessionKeyring", 2, 2, OpSessionKeyring},
    {"execLabel", 2, 2, OpExecLabel},
    {"keyLabel", 1, 1, OpKeyLabel},
    {"env", 0, -1, OpEnv},
    {"defaultHome", 1, 1, OpDefaultHome},
    {"resolveExec", 1, 1, OpResolveExec},
    {"waitFifo", 1, 1, OpWaitFifo},
    {"parkedSignals", 0, 0, OpParkedSignals},
    {"closeSync", 0, 0, OpCloseSync},
    {"exec", 1, -1, OpExec},
    {"console", 5, 5, OpConsole},
    {"pidfdSocket", 2, 2, OpPidfdSocket},
    {"hook", 6, -1, OpHook},
};

struct PlannedOp {
  const OpSpec* spec;
  Args args;
};

uint32_t ReadU32(const std::string& buf, size_t* at) {
  if (buf.size() - *at < 4) FailMessage("plan: truncated record");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(buf.data() + *at);
  *at += 4;
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// The whole plan is decoded and checked before the first op runs: a malformed plan
// must fail before any side effect.
std::vector<PlannedOp> ReadPlan(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) Fail("plan", "fstat", errno);
  if (st.st_size > (64 << 20)) FailMessage("plan: too large");
  std::string buf(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < buf.size()) {
    // pread: the fd shares its offset with the parent's copy, which is at the end.
    ssize_t n = pread(fd, &buf[got], buf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("plan", "pread", errno);
    if (n == 0) FailMessage("plan: truncated");
    got += static_cast<size_t>(n);
  }
  std::vector<PlannedOp> plan;
  size_t at = 0;
  while (at < buf.size()) {
    uint32_t count = ReadU32(buf, &at);
    if (count == 0) FailMessage("plan: record without an op name");
    std::vector<std::string> fields;
    for (uint32_t i = 0; i < count; i++) {
      uint32_t len = ReadU32(buf, &at);
      if (buf.size() - at < len) FailMessage("plan: truncated field");
      fields.emplace_back(buf, at, len);
      if (fields.back().find('\0') != std::string::npos) FailMessage("plan: field contains a NUL byte");
      at += len;
    }
    const OpSpec* spec = nullptr;
    for (const OpSpec& s : kOps)
      if (fields[0] == s.name) spec = &s;
    if (!spec) FailMessage("plan: unknown op \"" + fields[0] + "\"");
    int nargs = static_cast<int>(count) - 1;
    if (nargs < spec->minArgs || (spec->maxArgs >= 0 && nargs > spec->maxArgs))
      FailMessage(std::string("plan: op ") + spec->name + ": wrong number of arguments");
    PlannedOp op{spec, Args(fields.begin() + 1, fields.end())};
    plan.push_back(std::move(op));
  }
  if (plan.empty() || strcmp(plan[0].spec->name, "fds") != 0) FailMessage("plan: the first op must be fds");
  return plan;
}

int ParseFdArg(const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 3 || v > (1 << 20)) return -1;
  return static_cast<int>(v);
}

}  // namespace
}  // namespace init

int main(int argc, char** argv) {
  using namespace init;
  // Before anything else: while this process may sit in a container's namespaces,
  // /proc/<pid>/exe and /proc/<pid>/mem must not be reachable (CVE-2019-5736 class).
  int dumpableErr = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? errno : 0;
  // Executed from a memfd, the process would be named after its fd ("28") in ps,
  // top and pgrep while it waits to be started. A failure here only costs the name.
  (void)prctl(PR_SET_NAME, "tsrun-init", 0, 0, 0);
  // Messages to tsrun go out with write(2), which a seccomp profile allows where it
  // may not allow send(2): a tsrun gone must show as EPIPE, not end this init by a
  // signal before it could stop on its own terms. A handler, not SIG_IGN: execve puts
  // the default back itself, so no rt_sigaction is left for after a seccomp filter.
  struct sigaction pipe = {};
  pipe.sa_handler = [](int) {};
  pipe.sa_flags = SA_RESTART;
  sigemptyset(&pipe.sa_mask);
  sigaction(SIGPIPE, &pipe, nullptr);

  if (argc != 3) {
    static const char usage[] = "tsrun-init: started without a plan (it is spawned by tsrun)\n";
    (void)!write(2, usage, sizeof usage - 1);
    return 1;
  }
  if (strcmp(argv[1], "--await") == 0) {
    // Spawned ahead of its plan: `--await <sock>` (awaited-layout.cpp).
    int sock = ParseFdArg(argv[2]);
    if (sock < 0) FailMessage("invalid fd argument");
    if (dumpableErr != 0) {
      ctx.syncFd = sock;
      Fail("nonDumpable", "prctl(PR_SET_DUMPABLE)", dumpableErr);
    }
    // tsrun ended without sending the fds: it did not need this init.
    if (!AwaitLayout(sock)) _exit(0);
  } else {
    ctx.planFd = ParseFdArg(argv[1]);
    ctx.syncFd = ParseFdArg(argv[2]);
    if (ctx.planFd < 0 || ctx.syncFd < 0) {
      ctx.syncFd = -1;
      FailMessage("invalid fd arguments");
    }
    if (dumpableErr != 0) Fail("nonDumpable", "prctl(PR_SET_DUMPABLE)", dumpableErr);
  }

  std::vector<PlannedOp> plan = ReadPlan(ctx.planFd);
  ForceClose(ctx.planFd);
  for (const PlannedOp& op : plan) op.spec->handler(op.args);
  // A plan normally ends in exec; reaching the end is a planner bug, reported as such.
  FailMessage("plan: ended without exec");
}
