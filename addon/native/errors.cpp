#include <string.h>

#include <climits>
#include <cmath>

#include "addon.hpp"
#include "../common/errno-text.hpp"

namespace tsrun {

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& object) {
  std::string code = tsrun_common::ErrnoName(err);
  std::string message = syscall;
  if (!object.empty()) message += " " + object;
  message += ": " + tsrun_common::ErrnoText(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

static Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what) {
  Napi::Value v = Arg(info, index);
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < INT_MIN || d > INT_MAX)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a 32-bit integer");
  return static_cast<int>(d);
}

int ArgFd(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  int fd = ArgInt(info, index, fn, "fd");
  if (fd < 0) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": fd must not be negative");
  return fd;
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what) {
  Napi::Value v = Arg(info, index);
  if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " contains a NUL byte");
  return s;
}

}  // namespace tsrun
