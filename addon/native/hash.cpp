// hash64(text): a 64-bit FNV-1a of the text's UTF-8 bytes, as 16 hex digits. A name
// for a cache file (src/lifecycle/seccomp-cache.ts), computed here because the text
// runs to tens of KB and a JavaScript loop over it runs cold, once per process.
#include <stdint.h>
#include <stdio.h>

#include <string>

#include "addon.hpp"

namespace tsrun {

Napi::Value Hash64(const Napi::CallbackInfo& info) {
  std::string text = ArgString(info, 0, "hash64", "text");
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return Napi::String::New(info.Env(), hex);
}

}  // namespace tsrun
