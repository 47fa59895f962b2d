// encodePlan(ops): a plan's bytes for the init (addon/PROTOCOL.md, "Plan encoding"),
// from the ops src/linux/ planned ({op, args} with string, number or bigint args).
// src/linux/plan-encoding.ts writes the same bytes (tests hold the two to that), but as
// interpreted JavaScript, one byte at a time: ~0.5 ms for a `run`'s plan here, where
// this takes a twentieth of it.
#include <stdint.h>

#include <string>

#include "addon.hpp"

namespace tsrun {
namespace {

void AppendU32(std::string* out, uint32_t n) {
  char bytes[4] = {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff), static_cast<char>((n >> 16) & 0xff),
                   static_cast<char>(n >> 24)};
  out->append(bytes, 4);
}

// A field's text as the JavaScript encoder takes it (String(value)), in UTF-8.
std::string FieldText(Napi::Env env, Napi::Value value) {
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsNumber() || value.IsBigInt()) return value.ToString().Utf8Value();
  throw Napi::TypeError::New(env, "encodePlan: an argument is not a string, number or bigint");
}

void AppendField(Napi::Env env, std::string* out, const std::string& op, const std::string& text) {
  if (text.find('\0') != std::string::npos) throw Napi::Error::New(env, "plan op " + op + ": argument contains a NUL byte");
  if (text.size() > UINT32_MAX) throw Napi::RangeError::New(env, "plan op " + op + ": argument too long");
  AppendU32(out, static_cast<uint32_t>(text.size()));
  out->append(text);
}

}  // namespace

Napi::Value EncodePlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "encodePlan: ops must be an array");
  Napi::Array ops = info[0].As<Napi::Array>();
  std::string out;
  out.reserve(8192);
  for (uint32_t i = 0; i < ops.Length(); i++) {
    Napi::Value entry = ops.Get(i);
    if (!entry.IsObject()) throw Napi::TypeError::New(env, "encodePlan: an op is not an object");
    Napi::Object o = entry.As<Napi::Object>();
    Napi::Value name = o.Get("op");
    Napi::Value argsValue = o.Get("args");
    if (!name.IsString() || !argsValue.IsArray()) throw Napi::TypeError::New(env, "encodePlan: an op needs a string op and an args array");
    std::string op = name.As<Napi::String>().Utf8Value();
    Napi::Array args = argsValue.As<Napi::Array>();
    AppendU32(&out, args.Length() + 1);
    AppendField(env, &out, op, op);
    for (uint32_t j = 0; j < args.Length(); j++) AppendField(env, &out, op, FieldText(env, args.Get(j)));
  }
  return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

}  // namespace tsrun
