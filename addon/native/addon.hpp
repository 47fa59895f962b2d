// Shared declarations of the N-API module (one .cpp per concern).
#pragma once

#include <napi.h>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"

namespace tsrun {

// Throws a JS Error whose message is "<syscall> <object>: <ENAME> (<strerror>)" and which
// carries `code` (errno name), `errno` (negative, like Node's own errors) and `syscall`.
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& object = "");

// A system call that failed off the JavaScript thread, where nothing can be thrown:
// kept to be thrown later with ThrowErrno. Set returns -1 for the caller to return.
struct SyscallFailure {
  int err = 0;
  const char* call = "";
  std::string object;
  int Set(int e, const char* c, const std::string& o) {
    err = e;
    call = c;
    object = o;
    return -1;
  }
};

// Argument helpers: throw a TypeError naming the function and argument on misuse.
int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* fn);
int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what);

// fd passing over unix sockets (fd-passing.cpp). ConnectUnixSocket returns an
// O_CLOEXEC stream socket; ReceiveOneFd returns -1 at EOF.
int ConnectUnixSocket(Napi::Env env, const std::string& path);
int ReceiveOneFd(Napi::Env env, int sock, std::string* payload, const std::string& object);

// memfd_create with MFD_EXEC or MFD_NOEXEC_SEAL (execFlag): a host whose
// vm.memfd_noexec is 2 refuses a memfd that says neither on kernels 6.3-6.7; kernels
// before 6.3 reject both flags with EINVAL and get the memfd without them (spawn.cpp).
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
int MemfdCreate(const char* name, unsigned flags, unsigned execFlag);

// The fd tsrun-init is exec'd from (spawn.cpp), made once per process; -1 with the
// failing call in `failure`. Thread-safe.
int InitExecFd(SyscallFailure* failure);

// An init spawned ahead of its plan (init-spawned-ahead.cpp), waiting on `sock` for the
// fds of its layout (PROTOCOL.md). Taken once; std::nullopt when none was started or
// its spawn failed (the ordinary spawn then reports the failure).
struct InitSpawnedAhead {
  pid_t pid;
  UniqueFd sock;
};
std::optional<InitSpawnedAhead> TakeInitSpawnedAhead();
// Hands it the fds of its layout: plan, stdio[3], the preserved fds, the extra fds.
// false when it cannot take them (gone, or more fds than one message carries).
bool SendLayoutToInitAhead(const InitSpawnedAhead& init, int preserve, int extra, const std::vector<int>& fds);
// Ends one that is not used (SIGKILL) and reaps it.
void DiscardInitSpawnedAhead(InitSpawnedAhead* init);
// Reads these files into memory (external-source.cpp), for readLatin1 and readBytes to
// take instead of reading them; on the thread that spawns the init ahead.
void ReadFilesAhead(const std::vector<std::string>& paths);

// pidfd syscalls through syscall(2): no dependency on the libc having wrappers.
int PidfdOpen(int pid);
int PidfdSendSignal(int pidfd, int sig);
// Field 22 of /proc/<pid>/stat (the start time in clock ticks), "" when unreadable.
std::string StartTimeOf(int pid);

Napi::Value SpawnInit(const Napi::CallbackInfo& info);
Napi::Value SpawnInitAhead(const Napi::CallbackInfo& info);
Napi::Value ReleaseInitAhead(const Napi::CallbackInfo& info);
Napi::Value InitSpawnedAheadPid(const Napi::CallbackInfo& info);
Napi::Value WriteAvailable(const Napi::CallbackInfo& info);
Napi::Value RunHookProcess(const Napi::CallbackInfo& info);
Napi::Value SyncRecv(const Napi::CallbackInfo& info);
Napi::Value SyncSend(const Napi::CallbackInfo& info);
Napi::Value SyncRecvFd(const Napi::CallbackInfo& info);
Napi::Value CloseFd(const Napi::CallbackInfo& info);
Napi::Value WaitPid(const Napi::CallbackInfo& info);
Napi::Value WaitPidAsync(const Napi::CallbackInfo& info);
Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info);
Napi::Value ExitNow(const Napi::CallbackInfo& info);
Napi::Value ReleaseHungUpStdio(const Napi::CallbackInfo& info);
Napi::Value ReadLatin1(const Napi::CallbackInfo& info);
Napi::Value ReadBytes(const Napi::CallbackInfo& info);
Napi::Value ReadText(const Napi::CallbackInfo& info);
Napi::Value ReadTextIfExists(const Napi::CallbackInfo& info);
Napi::Value FileKind(const Napi::CallbackInfo& info);
Napi::Value SameFile(const Napi::CallbackInfo& info);
Napi::Value MakeDir(const Napi::CallbackInfo& info);
Napi::Value RemoveDir(const Napi::CallbackInfo& info);
Napi::Value RemoveFile(const Napi::CallbackInfo& info);
Napi::Value OpenFile(const Napi::CallbackInfo& info);
Napi::Value WriteFile(const Napi::CallbackInfo& info);
Napi::Value WriteOnce(const Napi::CallbackInfo& info);
Napi::Value RenameFile(const Napi::CallbackInfo& info);
Napi::Value ListDir(const Napi::CallbackInfo& info);
Napi::Value ListSubdirectories(const Napi::CallbackInfo& info);
Napi::Value ReadLink(const Napi::CallbackInfo& info);
Napi::Value StatFd(const Napi::CallbackInfo& info);
Napi::Value StatPath(const Napi::CallbackInfo& info);
Napi::Value WriteText(const Napi::CallbackInfo& info);
Napi::Value ChangeMode(const Napi::CallbackInfo& info);
Napi::Value ReadFd(const Napi::CallbackInfo& info);
Napi::Value TouchFd(const Napi::CallbackInfo& info);
Napi::Value EncodePlan(const Napi::CallbackInfo& info);
Napi::Value PidfdKill(const Napi::CallbackInfo& info);
Napi::Value PidfdGetFd(const Napi::CallbackInfo& info);
Napi::Value WaitExit(const Napi::CallbackInfo& info);
Napi::Value Mkfifo(const Napi::CallbackInfo& info);
Napi::Value OpenPath(const Napi::CallbackInfo& info);
Napi::Value Pipe(const Napi::CallbackInfo& info);
Napi::Value Isatty(const Napi::CallbackInfo& info);
// stdio-copy.cpp
Napi::Value StartStdioCopy(const Napi::CallbackInfo& info);
Napi::Value FinishStdioCopy(const Napi::CallbackInfo& info);
Napi::Value AbandonStdioCopy(const Napi::CallbackInfo& info);
Napi::Value InForeground(const Napi::CallbackInfo& info);
Napi::Value ReleaseFifo(const Napi::CallbackInfo& info);
Napi::Value DrainFifo(const Napi::CallbackInfo& info);
Napi::Value Flock(const Napi::CallbackInfo& info);
Napi::Value RenameNoReplace(const Napi::CallbackInfo& info);
Napi::Value ExchangeFiles(const Napi::CallbackInfo& info);
// sd-notify.cpp
Napi::Value NotifyListen(const Napi::CallbackInfo& info);
Napi::Value NotifyAwaitReady(const Napi::CallbackInfo& info);
Napi::Value NotifyAwaitReadyAsync(const Napi::CallbackInfo& info);
Napi::Value NotifySend(const Napi::CallbackInfo& info);
// console.cpp
Napi::Value ConnectUnix(const Napi::CallbackInfo& info);
Napi::Value SocketPair(const Napi::CallbackInfo& info);
Napi::Value RecvFd(const Napi::CallbackInfo& info);
Napi::Value SetWindowSize(const Napi::CallbackInfo& info);
Napi::Value GetWindowSize(const Napi::CallbackInfo& info);
Napi::Value MakeRaw(const Napi::CallbackInfo& info);
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info);
Napi::Value OpenPtyPeer(const Napi::CallbackInfo& info);
// seccomp.cpp
Napi::Value SeccompCompile(const Napi::CallbackInfo& info);
Napi::Value SeccompHighestSyscalls(const Napi::CallbackInfo& info);
Napi::Value SeccompLibrary(const Napi::CallbackInfo& info);
Napi::Value Hash64(const Napi::CallbackInfo& info);
Napi::Value SeccompSendToListener(const Napi::CallbackInfo& info);
Napi::Value SeccompFilterFlagsSupported(const Napi::CallbackInfo& info);
// bpf.cpp
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info);
Napi::Value DeviceFilterIds(const Napi::CallbackInfo& info);
// memory-events.cpp
Napi::Value OomEventFd(const Napi::CallbackInfo& info);
// net-devices.cpp
Napi::Value CheckNetDevice(const Napi::CallbackInfo& info);
Napi::Value MoveNetDevice(const Napi::CallbackInfo& info);
Napi::Value ReturnNetDevice(const Napi::CallbackInfo& info);
// namespaces.cpp
Napi::Value NamespaceOwnedWithin(const Napi::CallbackInfo& info);
// clock.cpp
Napi::Value Realtime(const Napi::CallbackInfo& info);
// signals.cpp
Napi::Value RealtimeSignals(const Napi::CallbackInfo& info);
Napi::Value SignalNumbers(const Napi::CallbackInfo& info);
Napi::Value CatchSignals(const Napi::CallbackInfo& info);
Napi::Value ForwardSignalsTo(const Napi::CallbackInfo& info);
Napi::Value StopForwardingSignals(const Napi::CallbackInfo& info);
Napi::Value ReleaseSignals(const Napi::CallbackInfo& info);

}  // namespace tsrun
