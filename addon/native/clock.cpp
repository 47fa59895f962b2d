// The wall clock with nanoseconds, for state.json's `created` (runc's precision):
// JavaScript's Date has milliseconds, and `performance` costs a lazily loaded
// module of Node's on the first touch.
#include <errno.h>
#include <time.h>

#include "addon.hpp"

namespace tsrun {

// realtime() -> [seconds, nanoseconds] of CLOCK_REALTIME.
Napi::Value Realtime(const Napi::CallbackInfo& info) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0) ThrowErrno(info.Env(), errno, "clock_gettime", "CLOCK_REALTIME");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(ts.tv_sec)));
  out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(ts.tv_nsec)));
  return out;
}

}  // namespace tsrun
