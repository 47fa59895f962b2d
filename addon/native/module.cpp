// Registration only; each function lives in the file of its concern.
#include "addon.hpp"

namespace tsrun {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"spawnInit", SpawnInit},       {"syncRecv", SyncRecv},
      {"syncSend", SyncSend},         {"syncRecvFd", SyncRecvFd},         {"closeFd", CloseFd},
      {"pipe", Pipe},                 {"isatty", Isatty},
      {"inForeground", InForeground},
      {"startStdioCopy", StartStdioCopy}, {"finishStdioCopy", FinishStdioCopy}, {"abandonStdioCopy", AbandonStdioCopy},
      {"waitPid", WaitPid},           {"waitPidAsync", WaitPidAsync},
      {"setChildSubreaper", SetChildSubreaper},
      {"mkfifo", Mkfifo},             {"openPath", OpenPath},
      {"releaseFifo", ReleaseFifo},   {"drainFifo", DrainFifo},   {"flock", Flock}, {"renameNoReplace", RenameNoReplace},
      {"exchangeFiles", ExchangeFiles},
      {"pidfdKill", PidfdKill},     {"pidfdGetFd", PidfdGetFd},
      {"waitExit", WaitExit},
      {"connectUnix", ConnectUnix},  {"socketPair", SocketPair},
      {"recvFd", RecvFd},           {"setWindowSize", SetWindowSize},
      {"getWindowSize", GetWindowSize},
      {"makeRaw", MakeRaw},         {"setNonBlocking", SetNonBlocking},
      {"openPtyPeer", OpenPtyPeer},
      {"seccompCompile", SeccompCompile},
      {"seccompHighestSyscalls", SeccompHighestSyscalls},
      {"seccompLibrary", SeccompLibrary},
      {"hash64", Hash64},
      {"seccompSendToListener", SeccompSendToListener},
      {"seccompFilterFlagsSupported", SeccompFilterFlagsSupported},
      {"attachDeviceFilter", AttachDeviceFilter},
      {"deviceFilterIds", DeviceFilterIds},
      {"checkNetDevice", CheckNetDevice}, {"moveNetDevice", MoveNetDevice},
      {"returnNetDevice", ReturnNetDevice},
      {"oomEventFd", OomEventFd},
      {"namespaceOwnedWithin", NamespaceOwnedWithin},
      {"notifyListen", NotifyListen},   {"notifyAwaitReady", NotifyAwaitReady},
      {"notifyAwaitReadyAsync", NotifyAwaitReadyAsync}, {"notifySend", NotifySend},
      {"realtime", Realtime},         {"exitNow", ExitNow},
      {"readLatin1", ReadLatin1}, {"readBytes", ReadBytes},
      {"readText", ReadText},       {"readTextIfExists", ReadTextIfExists},
      {"fileKind", FileKind},       {"sameFile", SameFile},
      {"makeDir", MakeDir},         {"removeDir", RemoveDir},     {"removeFile", RemoveFile},
      {"openFile", OpenFile},       {"writeFile", WriteFile},     {"writeOnce", WriteOnce},
      {"renameFile", RenameFile},   {"listDir", ListDir},       {"readLink", ReadLink},
      {"statFd", StatFd},           {"statPath", StatPath},     {"writeText", WriteText},
      {"changeMode", ChangeMode},   {"encodePlan", EncodePlan},
      {"realtimeSignals", RealtimeSignals},
      {"signalNumbers", SignalNumbers}, {"signalText", SignalText},
      {"catchSignals", CatchSignals},     {"forwardSignalsTo", ForwardSignalsTo},
      {"stopForwardingSignals", StopForwardingSignals}, {"releaseSignals", ReleaseSignals},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

}  // namespace tsrun

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsrun::Init(env, exports); }

NODE_API_MODULE(tsrun_native, InitModule)
