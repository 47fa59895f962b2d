// Registration only; each function lives in the file of its concern.
#include "addon.hpp"

namespace tsrun {

namespace {

struct Entry {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

const Entry kEntries[] = {
      {"spawnInit", SpawnInit},       {"spawnInitAhead", SpawnInitAhead}, {"releaseInitAhead", ReleaseInitAhead},
      {"initSpawnedAheadPid", InitSpawnedAheadPid},
      {"runHookProcess", RunHookProcess}, {"syncRecv", SyncRecv},
      {"syncSend", SyncSend},         {"syncRecvFd", SyncRecvFd},         {"closeFd", CloseFd},
      {"pipe", Pipe},                 {"writeAvailable", WriteAvailable},                 {"isatty", Isatty},
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
      {"releaseHungUpStdio", ReleaseHungUpStdio},
      {"readLatin1", ReadLatin1}, {"readBytes", ReadBytes},
      {"readText", ReadText},       {"readTextIfExists", ReadTextIfExists},
      {"fileKind", FileKind},       {"sameFile", SameFile},
      {"makeDir", MakeDir},         {"removeDir", RemoveDir},     {"removeFile", RemoveFile},
      {"openFile", OpenFile},       {"writeFile", WriteFile},     {"writeOnce", WriteOnce},
      {"renameFile", RenameFile},   {"listDir", ListDir},       {"readLink", ReadLink},
      {"listSubdirectories", ListSubdirectories},
      {"statFd", StatFd},           {"statPath", StatPath},     {"writeText", WriteText},
      {"changeMode", ChangeMode},   {"encodePlan", EncodePlan},
      {"readFd", ReadFd},           {"touchFd", TouchFd},
      {"realtimeSignals", RealtimeSignals},
      {"signalNumbers", SignalNumbers},
      {"catchSignals", CatchSignals},     {"forwardSignalsTo", ForwardSignalsTo},
      {"stopForwardingSignals", StopForwardingSignals}, {"releaseSignals", ReleaseSignals},
};

// functionNamed(name): the addon's function of that name, made now; undefined for a
// name it has none of. Made on demand rather than all at load: V8 takes ~3.5 us to
// make each, and a command uses a few of the ~80 (`state` ~10, `run` ~30), so every
// start of tsrun paid ~0.2 ms for the others (src/native.ts asks through a Proxy).
Napi::Value FunctionNamed(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) return info.Env().Undefined();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  for (const Entry& e : kEntries) {
    if (name == e.name) return Napi::Function::New(info.Env(), e.fn, e.name);
  }
  return info.Env().Undefined();
}

// functionNames(): every name functionNamed knows.
Napi::Value FunctionNames(const Napi::CallbackInfo& info) {
  Napi::Array names = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (const Entry& e : kEntries) names.Set(i++, Napi::String::New(info.Env(), e.name));
  return names;
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("functionNamed", Napi::Function::New(env, FunctionNamed, "functionNamed"));
  exports.Set("functionNames", Napi::Function::New(env, FunctionNames, "functionNames"));
  return exports;
}

}  // namespace tsrun

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return tsrun::Init(env, exports); }

NODE_API_MODULE(tsrun_native, InitModule)
