// Reading the CLI's own JavaScript into strings that live outside V8's heap.
//
// fs.readFileSync(file, 'latin1') copies a file into a new string on V8's young
// heap: the bundle and the parts a `run` reads are ~0.5 MB, about half of what fills
// the young generation before the scavenges of a run (each ~1-1.5 ms here), and the
// scavenges then copy or promote them. An external string points V8 at memory of
// ours instead (freed when V8 frees the string): read once, never on V8's heap.
// The memory is a private copy, not a mapping of the file, so that a file replaced
// or overwritten while tsrun runs cannot change or fault a source V8 may still read
// (it reads it again to compile a function lazily, or for Function.toString).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>

#include "addon.hpp"
#include "fd.hpp"

namespace tsrun {
namespace {

// node_api_create_external_string_latin1 is Node-API 10 (Node 20.4 on, experimental
// before 22.14); this addon builds for Node-API 8, so it is looked up at run time,
// with a copy into V8's heap where Node lacks it.
using CreateExternalLatin1 = napi_status (*)(napi_env, char*, size_t, napi_finalize, void*, napi_value*, bool*);

CreateExternalLatin1 LookUpCreateExternalLatin1() {
  static const CreateExternalLatin1 create =
      reinterpret_cast<CreateExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  return create;
}

// Memory from malloc, freed with free() unless released to V8.
using MallocBytes = std::unique_ptr<char, decltype(&free)>;

// The whole file, read into memory of ours; null with the failing call in `failure`
// (this runs on the thread that reads ahead too).
MallocBytes ReadWholeFile(const std::string& path, size_t* length, SyscallFailure* failure) {
  auto fail = [&](int err, const char* call) {
    failure->Set(err, call, path);
    return MallocBytes(nullptr, &free);
  };
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(errno, "open");
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return fail(errno, "fstat");
  size_t capacity = static_cast<size_t>(st.st_size);
  MallocBytes data(static_cast<char*>(malloc(capacity > 0 ? capacity : 1)), &free);
  if (!data) return fail(ENOMEM, "malloc");
  size_t done = 0;
  while (done < capacity) {
    ssize_t n = read(fd.get(), data.get() + done, capacity - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno, "read");
    if (n == 0) break;  // shorter than fstat said: what is there
    done += static_cast<size_t>(n);
  }
  *length = done;
  return data;
}

// Files the thread of init-spawned-ahead.cpp reads while the JavaScript thread loads
// the bundle (ReadFilesAhead): the parts a create, run or exec loads next, and their
// code caches. Each is taken once, by the first read of its path.
struct FileReadAhead {
  MallocBytes data{nullptr, &free};
  size_t length = 0;
  bool done = false;
};
std::mutex gAheadMutex;
std::condition_variable gAheadDone;
std::map<std::string, FileReadAhead> gAhead;

// The file as read ahead (waiting for that read if it is under way), or null: not
// read ahead, or its read failed (then read here again, which reports the failure).
MallocBytes TakeFileReadAhead(const std::string& path, size_t* length) {
  std::unique_lock<std::mutex> lock(gAheadMutex);
  auto it = gAhead.find(path);
  if (it == gAhead.end()) return MallocBytes(nullptr, &free);
  gAheadDone.wait(lock, [&] { return it->second.done; });
  MallocBytes data = std::move(it->second.data);
  *length = it->second.length;
  gAhead.erase(it);
  return data;
}

MallocBytes ReadWholeFile(Napi::Env env, const std::string& path, size_t* length) {
  MallocBytes ahead = TakeFileReadAhead(path, length);
  if (ahead) return ahead;
  SyscallFailure failure;
  MallocBytes data = ReadWholeFile(path, length, &failure);
  if (!data) ThrowErrno(env, failure.err, failure.call, failure.object);
  return data;
}

void FreeBytes(napi_env, void* data, void*) { free(data); }

}  // namespace

void ReadFilesAhead(const std::vector<std::string>& paths) {
  {
    // All named first: a read of one of them waits for it rather than reading it too.
    std::lock_guard<std::mutex> lock(gAheadMutex);
    for (const std::string& path : paths) gAhead.emplace(path, FileReadAhead{});
  }
  for (const std::string& path : paths) {
    size_t length = 0;
    SyscallFailure failure;
    MallocBytes data = ReadWholeFile(path, &length, &failure);
    std::lock_guard<std::mutex> lock(gAheadMutex);
    auto it = gAhead.find(path);
    if (it == gAhead.end()) continue;
    it->second.data = std::move(data);
    it->second.length = length;
    it->second.done = true;
    gAheadDone.notify_all();
  }
}

// readLatin1(path): the whole file as a Latin-1 string, held outside V8's heap.
Napi::Value ReadLatin1(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "readLatin1", "path");
  size_t length = 0;
  MallocBytes data = ReadWholeFile(env, path, &length);
  napi_value result;
  napi_status status;
  if (CreateExternalLatin1 create = LookUpCreateExternalLatin1()) {
    bool copied = false;  // when V8 copied it, it freed the data already
    status = create(env, data.get(), length, FreeBytes, nullptr, &result, &copied);
    if (status == napi_ok) data.release();  // V8's now
  } else {
    status = napi_create_string_latin1(env, data.get(), length, &result);
  }
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  return Napi::Value(env, result);
}

// readBytes(path): the whole file as a Buffer over memory of ours. bin/tsrun reads
// the code caches with it: fs.readFileSync's first call alone costs ~0.3 ms here
// (Node's own fs code on its way), and each read allocates a buffer V8 zero-fills.
Napi::Value ReadBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "readBytes", "path");
  size_t length = 0;
  MallocBytes data = ReadWholeFile(env, path, &length);
  napi_value result;
  NAPI_THROW_IF_FAILED(env, napi_create_external_buffer(env, length, data.get(), FreeBytes, nullptr, &result), Napi::Value());
  data.release();  // freed by FreeBytes when V8 lets the Buffer go
  return Napi::Value(env, result);
}

}  // namespace tsrun
