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

void FreeSource(napi_env, void* data, void*) { free(data); }

}  // namespace

// readLatin1(path): the whole file as a Latin-1 string, held outside V8's heap.
Napi::Value ReadLatin1(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "readLatin1", "path");
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) ThrowErrno(env, errno, "open", path);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) ThrowErrno(env, errno, "fstat", path);
  size_t capacity = static_cast<size_t>(st.st_size);
  char* data = static_cast<char*>(malloc(capacity > 0 ? capacity : 1));
  if (data == nullptr) ThrowErrno(env, ENOMEM, "malloc", path);
  size_t length = 0;
  while (length < capacity) {
    ssize_t n = read(fd.get(), data + length, capacity - length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      free(data);
      ThrowErrno(env, err, "read", path);
    }
    if (n == 0) break;  // shorter than fstat said: what is there
    length += static_cast<size_t>(n);
  }
  napi_value result;
  napi_status status;
  if (CreateExternalLatin1 create = LookUpCreateExternalLatin1()) {
    bool copied = false;  // when V8 copied it, data is freed already
    status = create(env, data, length, FreeSource, nullptr, &result, &copied);
    if (status != napi_ok) free(data);
  } else {
    status = napi_create_string_latin1(env, data, length, &result);
    free(data);
  }
  NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  return Napi::Value(env, result);
}

}  // namespace tsrun
