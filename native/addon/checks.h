// Argument checks shared by the N-API bindings: each failure becomes a JS Error that names
// the argument, thrown before any kernel runs.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "../core/backend.h"

namespace mixloss {
namespace napi_checks {

struct Problem {
  std::string message;
};

[[noreturn]] inline void fail(const std::string& message) { throw Problem{message}; }

inline int64_t positive_int(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) fail(std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 9007199254740991.0) || std::floor(d) != d)
    fail(std::string(what) + " must be a positive integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

inline double finite_number(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) fail(std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) fail(std::string(what) + " must be finite, got " + std::to_string(d));
  return d;
}

// A TypedArray's element type, length and memory, over an ArrayBuffer or a SharedArrayBuffer
// (napi_get_arraybuffer_info, behind Napi::TypedArray::ArrayBuffer().Data(), rejects the
// latter with a bare "Invalid argument").
struct TypedView {
  napi_typedarray_type type;
  size_t length;  // elements
  void* data;
};

inline TypedView typed_view(const Napi::Value& v, const char* what, const char* expected) {
  TypedView t{};
  if (!v.IsTypedArray() || napi_get_typedarray_info(v.Env(), v, &t.type, &t.length, &t.data, nullptr, nullptr) != napi_ok)
    fail(std::string(what) + " must be " + expected);
  return t;
}

template <typename T, napi_typedarray_type kType>
T* typed_data(const Napi::Value& v, int64_t length, const char* what, const char* type_name) {
  const std::string expected = std::string("a ") + type_name;
  const TypedView t = typed_view(v, what, expected.c_str());
  if (t.type != kType) fail(std::string(what) + " must be " + expected);
  if (static_cast<int64_t>(t.length) != length)
    fail(std::string(what) + " has " + std::to_string(t.length) + " elements, expected " + std::to_string(length));
  return static_cast<T*>(t.data);
}

inline float* floats(const Napi::Value& v, int64_t length, const char* what) {
  return typed_data<float, napi_float32_array>(v, length, what, "Float32Array");
}

// A fresh [B, C] output is first touched by the kernel: on Linux with transparent huge pages
// in `madvise` mode, ask for 2 MiB pages so that first touch costs one fault per 2 MiB
// rather than per 4 KiB (measured: 12 ms of faults for a fresh 32 MiB gradient). Advisory;
// a failure changes nothing.
inline void advise_huge_pages(float* data, int64_t count) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{1} << 21;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data + count)) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)count;
#endif
}

// Positive integers whose product fits in 64-bit bytes.
struct Shape {
  int64_t rows, classes;
  int64_t size() const { return rows * classes; }
};

inline Shape checked_shape(const Napi::Value& rows, const Napi::Value& classes) {
  const Shape s{positive_int(rows, "rows"), positive_int(classes, "classes")};
  if (s.rows > INT64_MAX / 4 / s.classes) fail("rows × classes overflows 64-bit indexing");
  return s;
}

// (rows, classes) at info[1], info[2].
inline Shape parse_shape(const Napi::CallbackInfo& info) { return checked_shape(info[1], info[2]); }

// A named argument object: each field is read by name, and a name nobody read is an error
// (a misspelt option must not be silently ignored). On every kernel call: the names read are
// kept as the callers' string literals (no allocation), and done() compares the object's
// enumerable names (its prototypes' too, as for-in) with them as UTF-16 in a stack buffer.
class Fields {
 public:
  Fields(const Napi::Value& v, const char* what) {
    if (!v.IsObject()) fail(std::string(what) + " must be an object of named arguments");
    o_ = v.As<Napi::Object>();
  }
  // `name` must outlive this object (every caller passes a string literal).
  Napi::Value get(const char* name) {
    mark(name);
    return o_.Get(name);
  }
  // Present and not undefined (one property read: a getter runs once).
  bool has(const char* name) { return !get(name).IsUndefined(); }
  // The first enumerable name that was not read, or "" when there is none.
  std::string unknown() const {
    napi_env env = o_.Env();
    napi_value names;
    uint32_t count = 0;
    if (napi_get_all_property_names(env, o_, napi_key_include_prototypes,
                                    static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols), napi_key_numbers_to_strings,
                                    &names) != napi_ok ||
        napi_get_array_length(env, names, &count) != napi_ok)
      fail("could not list the argument's names");
    for (uint32_t i = 0; i < count; ++i) {
      napi_value key;
      char16_t text[kNameBuffer];
      size_t length = 0;
      if (napi_get_element(env, names, i, &key) != napi_ok || napi_get_value_string_utf16(env, key, text, kNameBuffer, &length) != napi_ok)
        fail("could not read the argument's names");
      if (length + 1 < kNameBuffer && was_read(text, length)) continue;
      return Napi::Value(env, key).ToString().Utf8Value();
    }
    return "";
  }
  // Fails on any name that was not read.
  void done() const {
    const std::string k = unknown();
    if (!k.empty()) fail("unknown argument '" + k + "'");
  }

 private:
  static constexpr int kMaxNames = 32;
  static constexpr size_t kNameBuffer = 64;

  void mark(const char* name) {
    for (int i = 0; i < count_; ++i)
      if (std::strcmp(used_[i], name) == 0) return;
    if (count_ == kMaxNames) fail("too many named arguments read");  // a bug of the binding, not of the caller
    used_[count_++] = name;
  }
  // Whether the UTF-16 name equals one of the (ASCII) names read.
  bool was_read(const char16_t* text, size_t length) const {
    for (int i = 0; i < count_; ++i) {
      const char* u = used_[i];
      size_t j = 0;
      while (j < length && u[j] != '\0' && static_cast<char16_t>(static_cast<unsigned char>(u[j])) == text[j]) ++j;
      if (j == length && u[j] == '\0') return true;
    }
    return false;
  }

  Napi::Object o_;
  const char* used_[kMaxNames] = {};
  int count_ = 0;
};

// An upstream gradient, the field `dy`: a Float32Array of 1 value (every row) or one per row.
struct Upstream {
  const float* values;
  int64_t length;
};

inline Upstream parse_dy(Fields& f, int64_t rows) {
  const Napi::Value v = f.get("dy");
  const int64_t n = static_cast<int64_t>(typed_view(v, "dy", "a Float32Array").length);
  if (n != 1 && n != rows) fail("dy must have 1 or rows elements");
  return {floats(v, n, "dy"), n};
}

template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Problem& p) {
    throw Napi::Error::New(info.Env(), "mixloss: " + p.message);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "mixloss: out of memory");
  } catch (const std::runtime_error& e) {  // CUDA errors
    throw Napi::Error::New(info.Env(), std::string("mixloss: ") + e.what());
  }
}

}  // namespace napi_checks
}  // namespace mixloss
