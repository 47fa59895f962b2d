// tsrun-init: executes a plan (addon/PROTOCOL.md) one operation at a time.
// Shared state and helpers of the init's source files, one file per concern.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../common/errno-text.hpp"
#include "../common/unique-fd.hpp"

namespace init {

using Args = std::vector<std::string>;  // an op's arguments, field 0 (the name) excluded

// A pids cgroup's limit as a joiner sees it: pids.current and pids.max, open for
// reading. A move into a v1 cgroup is no fork, and the kernel lets it take the cgroup
// and its ancestors past their pids.max; the init checks them itself.
struct PidsLimit {
  std::string dir;  // for messages
  int currentFd;
  int maxFd;
};

// A v1 cgroup the child of the next `fork` joins: its join file, open for writing,
// and, in the pids hierarchy, the limits of that cgroup and its ancestors.
struct AtForkCgroup {
  int fd;
  std::string dir;   // for messages
  std::string file;  // `tasks` or cgroup.procs
  std::vector<PidsLimit> pidsLimits;
};

struct Context {
  int planFd = -1;       // B
  int syncFd = -1;       // B+1, -1 once closed
  int startFd = -1;      // the exec FIFO's write end after `waitFifo`: start reads it to EOF (PROTOCOL.md)
  int preserveFds = 0;   // N of the `fds` op
  int rootFd = -1;       // O_PATH of the container root, base of in-root paths
  std::string rootPath;  // host path given to `rootfs`
  std::vector<std::string> env;
  bool envSet = false;   // the `env` op ran (an empty env is still one)
  std::string execPath;  // set by resolveExec
  std::string hookState;  // state JSON for `hook` ops: the payload of the last `ack <payload>`
  int forkCgroupFd = -1;      // set by `cgroup v2`: the next `fork` puts its child there
  std::string forkCgroupDir;  // its path, for messages
  std::vector<AtForkCgroup> atForkCgroups;  // set by `cgroup v1AtFork`, for the next `fork`'s child
  std::map<uint64_t, int> idmapUserns;  // by mount index: the user namespace `idmapUserns` made, until its `idmapTree`
  std::map<uint64_t, int> idmapTrees;   // detached id-mapped trees by mount index, until `mount` attaches them
  // `sourceHelper`/`openSources`/`closeSources` (bind-sources.cpp): the sources by
  // mount index, the helper (its pid only in the process that forked it) and the
  // socket that asks it for each source as its bind comes
  std::vector<std::pair<uint64_t, std::string>> bindSources;
  pid_t sourceHelperPid = -1;
  int sourceHelperSock = -1;
  bool keepGroups = false;             // `keepGroups`: `credentials` leaves the supplementary groups alone
  bool inheritedFdsMarked = false;     // MarkInheritedFdsCloseOnExec ran (before a seccomp filter)
  bool execPrepared = false;           // PrepareProcessForExec ran (before a seccomp filter)
  // `mount` (mounts.cpp): where each destination resolved when it was mounted, by its
  // lexical container path, for the ops that reach that mount again by its path
  std::map<std::string, std::string> mountedAt;
  bool pivoted = false;                // `pivotRoot` or `chrootNoPivot` ran: /proc is the container's
  bool procFdsChecked = false;         // since then, /proc/self/fd checked to be procfs's
  std::string cwdAfterCredentials;     // `chdir` as root was refused: `credentials` tries it as the user
};

extern Context ctx;

// ---- errors (sync.cpp) ----
// Sends "error <object>: <syscall>: <ENAME> (<strerror>)" and exits 1.
[[noreturn]] void Fail(const std::string& object, const char* syscall, int err);
// Sends "error <message>" and exits 1.
[[noreturn]] void FailMessage(const std::string& message);
using tsrun_common::ErrnoText;  // "ENOENT (no such file or directory)"

// ---- sync socket (sync.cpp) ----
// One message with write(2) (SIGPIPE is ignored): false when the socket is closed or broken.
bool SendMessage(const std::string& message);
// SendMessage, or exit 1 quietly when the parent has gone away (EPIPE, ECONNRESET,
// ENOTCONN), or fail naming `object` on any other error.
void SendOrStop(const std::string& message, const std::string& object);
// A send's errno that means the parent has gone away.
bool ParentGone(int err);
// Returns false at EOF or on error.
bool ReceiveMessage(std::string* message);
// Writes all of `text` to the exec FIFO `start` reads (after `waitFifo`); false when
// there is none or the write fails (start gone: EPIPE).
bool ReportToStart(const std::string& text);
// Sends `payload` with `fd` attached (SCM_RIGHTS); a failure is reported for `object`.
void SendFd(int sock, const std::string& payload, int fd, const std::string& object);

// ---- spawned ahead (awaited-layout.cpp) ----
// Receives the fds of the usual layout on `sock` and moves them to their numbers
// (PROTOCOL.md); sets ctx.planFd and ctx.syncFd. false when tsrun closed the socket
// without sending them.
bool AwaitLayout(int sock);

// ---- argument parsing (main.cpp) ----
uint64_t ParseU64(const std::string& text, const std::string& object);
int64_t ParseI64(const std::string& text, const std::string& object);

// ---- in-root paths (resolve.cpp) ----
enum class Create { None, Directory, File };
// Resolves `path` below ctx.rootFd without ever leaving it; creates missing components
// (directories with dirMode, a last component as `create` says: a file with fileMode).
// Returns an O_PATH fd, or -1 with errno set and *syscall naming the failed call.
int ResolveInRoot(const std::string& path, Create create, bool followLast, mode_t dirMode, const char** syscall, mode_t fileMode = 0755);
// Opens `path` below the process's own root ("/") as openat2 with RESOLVE_IN_ROOT and
// RESOLVE_NO_MAGICLINKS resolves it; -1 with errno set.
int OpenInOwnRoot(const std::string& path, uint64_t flags);
// Splits "a/b/c" into "a/b" and "c". Fails (errno EINVAL) on a path with no last name.
bool SplitParent(const std::string& path, std::string* parent, std::string* name);
std::string FdPath(int fd);
// An in-root path as the container will see it, for messages: "mnt" -> "/mnt".
std::string ContainerPath(const std::string& inRoot);  // "/proc/self/fd/<fd>", how every mount reaches its target
// An in-root path as written, with "." and ".." taken lexically: "a/../proc/x" -> "/proc/x".
std::string LexicalContainerPath(const std::string& inRoot);
// Where an fd resolved in-root really is, as the container will see it ("/proc/sys/kernel");
// false when its path cannot be read or lies outside the rootfs.
bool ResolvedContainerPath(int fd, std::string* out);
int ForceClose(int fd);
// Takes the fd kept under `index` out of `fds` (the caller owns it), or fails naming
// `object` and what was missing (" no ... was ...").
int TakeKeptFd(std::map<uint64_t, int>* fds, uint64_t index, const std::string& object, const std::string& missing);

// ---- tmpcopyup (copy-up.cpp) ----
// Copies the tree below dir fd `from` into dir fd `to`: directories, files, symlinks
// and nodes, with their owners and modes. `dest` (the container path) names entries
// in messages.
void CopyDirectoryContents(const std::string& object, const std::string& dest, int from, int to);

// Owns one fd: every fd the init opens is closed on every path out of the scope that
// opened it, unless release() hands it on.
using Fd = tsrun_common::UniqueFd;

// ---- op handlers (one per PROTOCOL.md op) ----
using Handler = void (*)(const Args&);
// sync.cpp
void OpSync(const Args&);
void OpNotify(const Args&);
void OpCloseSync(const Args&);
// namespaces.cpp
void OpSetns(const Args&);
void OpUnshare(const Args&);
void OpBecomeRoot(const Args&);
void OpFork(const Args&);
void OpHostname(const Args&);
// netlink.cpp
void OpLoopbackUp(const Args&);
void OpNetns(const Args&);
void OpNetlinkSocket(const Args&);
void OpExit(const Args&);
// cgroups.cpp
void OpCgroup(const Args&);
// fork(), or, after `cgroup v2`, a clone3 whose child starts in that cgroup (on an
// older kernel: fork, and the parent moves the child there before it returns).
pid_t ForkIntoCgroup();
// In the child of `fork`, once it goes on: joins the `cgroup v1AtFork` cgroups (each
// file written, then closed). Fails the op naming the cgroup.
void JoinCgroupsAtFork();
// Before the fork: fails when a pids cgroup the child will join is full.
void CheckPidsRoomAtFork();
// In the intermediate: closes the files JoinCgroupsAtFork writes in the child.
void CloseCgroupsAtFork();
void OpDomainname(const Args&);
// mounts.cpp
void OpPropagation(const Args&);
void OpRootfs(const Args&);
void OpMount(const Args&);
void OpMountSetattr(const Args&);
// bind-sources.cpp
void OpSourceHelper(const Args&);
void OpOpenSources(const Args&);
void OpCloseSources(const Args&);
// The source of mount `index`, opened now by the helper, handed over (the caller owns it).
int TakeSourceFd(const std::string& object, uint64_t index);
// Lets the helper go (closing this process's end) and reaps it if it is this process's child.
void ReapSourceHelper();
// The id-mapped tree of mount `index` made by the helper, with the mappings of userns.
int IdmappedTreeFromHelper(const std::string& object, uint64_t index, bool cloneBelow, bool mapBelow, int userns);
// idmap.cpp
void OpIdmapUserns(const Args&);
void OpIdmapTree(const Args&);
// An id-mapped detached clone of source (fd), or the syscall that failed and its
// errno (fd -1). Reports nothing itself: the bind source helper makes trees too.
struct IdmappedTree {
  int fd;
  const char* syscall;
  int err;
};
IdmappedTree MakeIdmappedTree(const std::string& source, bool cloneBelow, bool mapBelow, int userns);
// The tree OpIdmapTree prepared for mount `index`, handed over (the caller owns the fd).
int TakeIdmapTree(const std::string& object, uint64_t index);
void OpMkdir(const Args&);
void OpSymlink(const Args&);
void OpPivotRoot(const Args&);
void OpChrootNoPivot(const Args&);
void OpRemountReadonly(const Args&);
void OpMaskPath(const Args&);
void OpReadonlyPath(const Args&);
// devices.cpp
void OpMknod(const Args&);
void OpBindDevice(const Args&);
// process.cpp
// Opens path (no symlink as its last component), checks that it is on procfs, writes
// value. With missingOk, a path that does not exist returns false instead of failing.
bool WriteProcFile(const std::string& object, const char* path, const std::string& value, bool missingOk);
void OpFds(const Args&);
void OpNonDumpable(const Args&);
void OpDumpable(const Args&);
void OpSysctl(const Args&);
void OpOomScoreAdj(const Args&);
void OpRlimit(const Args&);
void OpChdir(const Args&);
// Fails if a cwd `chdir` left for `credentials` is still not set (process.cpp).
void RequireCwdSet();
void OpUmask(const Args&);
void OpNoNewPrivs(const Args&);
void OpStdioOwner(const Args&);
void OpReopenDevNull(const Args&);
void OpKeepGroups(const Args&);
void OpCredentials(const Args&);
void OpNewSession(const Args&);
// process-attrs.cpp
void OpPersonality(const Args&);
void OpIoPriority(const Args&);
void OpScheduler(const Args&);
void OpCpuAffinity(const Args&);
void OpMemoryPolicy(const Args&);
// keyring.cpp
void OpSessionKeyring(const Args&);
// lsm.cpp
void OpExecLabel(const Args&);
void OpKeyLabel(const Args&);
// seccomp.cpp
void OpSeccomp(const Args&);
// exec.cpp
void OpEnv(const Args&);
void OpDefaultHome(const Args&);
void OpResolveExec(const Args&);
void OpWaitFifo(const Args&);
void OpParkedSignals(const Args&);
// A forked hook's child: the dispositions `parkedSignals` set back to the defaults.
void RestoreParkedSignals();
void OpExec(const Args&);
// Every fd above stdio and the preserved ones close-on-exec (close_range): done before
// a seccomp filter loads, which need not allow close_range; the init's own later fds
// are all O_CLOEXEC.
void MarkInheritedFdsCloseOnExec();
// No ignored disposition, an empty signal mask and blocking stdio, what execve keeps;
// before a seccomp filter loads, so that after it only the execve remains to be allowed.
void PrepareProcessForExec();
// console.cpp
void OpConsole(const Args&);
// pidfd-socket.cpp
void OpPidfdSocket(const Args&);
// hooks.cpp
void OpHook(const Args&);

}  // namespace init
