// CUDA from JavaScript: device buffers with finalizers, and the kernels on them.
//
//   new DeviceBuffer(byteLength)      device memory; upload(typedArray), download(typedArray),
//                                     free() (also freed when garbage collected)
//   cudaForward({logits, rows, classes, labels, labelsType, dense, loss, classWeights?, stats,
//                rowLoss})            all buffers DeviceBuffer; validates labels on the device
//   cudaBackward({...the same but rowLoss, dy, dyLength, dyScale, grad})
//   cudaSynchronize()
// Launches are asynchronous on the package's stream; download() waits for them.
#include "cuda_bindings.h"

#include <cmath>
#include <string>

#include "../cuda/cuda_losses.h"
#include "checks.h"
#include "loss_spec_parse.h"

namespace mixloss {

using namespace napi_checks;

namespace {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DeviceBuffer",
                       {InstanceMethod("upload", &DeviceBuffer::Upload), InstanceMethod("download", &DeviceBuffer::Download),
                        InstanceMethod("free", &DeviceBuffer::Free), InstanceAccessor("byteLength", &DeviceBuffer::ByteLength, nullptr)});
  }

  explicit DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
    guarded(info, [&]() -> Napi::Value {
      bytes_ = static_cast<size_t>(positive_int(info[0], "byteLength"));
      ptr_ = cuda::device_alloc(bytes_);
      return info.Env().Undefined();
    });
  }

  ~DeviceBuffer() override { cuda::device_free(ptr_); }

  void* data(const char* what) const {
    if (!ptr_) fail(std::string(what) + " is a freed DeviceBuffer");
    return ptr_;
  }
  size_t bytes() const { return bytes_; }

 private:
  // (typedArray[, byteOffset]) → the array's bytes into this buffer at byteOffset.
  Napi::Value Upload(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      auto [src, n] = host_bytes(info[0], "upload's source");
      const size_t offset = byte_offset(info, n, "upload");
      cuda::copy_to_device(static_cast<char*>(data("this")) + offset, src, n);
      return info.Env().Undefined();
    });
  }

  Napi::Value Download(const Napi::CallbackInfo& info) {
    return guarded(info, [&]() -> Napi::Value {
      auto [dst, n] = host_bytes(info[0], "download's destination");
      const size_t offset = byte_offset(info, n, "download");
      cuda::copy_to_host(dst, static_cast<char*>(data("this")) + offset, n);
      return info[0];
    });
  }

  Napi::Value Free(const Napi::CallbackInfo& info) {
    cuda::device_free(ptr_);
    ptr_ = nullptr;
    return info.Env().Undefined();
  }

  Napi::Value ByteLength(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ptr_ ? bytes_ : 0)); }

  static std::pair<void*, size_t> host_bytes(const Napi::Value& v, const char* what) {
    const TypedView t = typed_view(v, what, "a TypedArray");
    return {t.data, v.As<Napi::TypedArray>().ByteLength()};
  }

  // The optional byteOffset at info[1]: an integer in [0, byteLength − n], checked as a signed
  // number (a negative offset must not wrap around to a huge size_t and pass the bound).
  size_t byte_offset(const Napi::CallbackInfo& info, size_t n, const char* direction) const {
    const double offset = info.Length() > 1 && !info[1].IsUndefined() ? finite_number(info[1], "byteOffset") : 0.0;
    if (offset < 0 || std::floor(offset) != offset) fail("byteOffset must be a non-negative integer, got " + std::to_string(offset));
    if (offset > static_cast<double>(bytes_) || static_cast<double>(n) > static_cast<double>(bytes_) - offset)
      fail(std::string(direction) + " of " + std::to_string(n) + " bytes at byteOffset " + std::to_string(offset) +
           " runs past the end of the DeviceBuffer (" + std::to_string(bytes_) + " bytes)");
    return static_cast<size_t>(offset);
  }

  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

struct CudaData {
  Napi::FunctionReference constructor;
};

DeviceBuffer* buffer(const Napi::Env& env, const Napi::Value& v, size_t min_bytes, const char* what) {
  auto* data = env.GetInstanceData<CudaData>();
  if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(data->constructor.Value())) fail(std::string(what) + " must be a DeviceBuffer");
  DeviceBuffer* b = DeviceBuffer::Unwrap(v.As<Napi::Object>());
  b->data(what);
  if (b->bytes() < min_bytes)
    fail(std::string(what) + " holds " + std::to_string(b->bytes()) + " bytes, needs " + std::to_string(min_bytes));
  return b;
}

// The named fields of a device call: {logits, rows, classes, labels, labelsType, dense, loss,
// classWeights?, weights?, stats}, every buffer a DeviceBuffer; labels are checked on the device.
LossCall parse_device_call(const Napi::Env& env, Fields& f) {
  LossCall c{};
  const Shape shape = checked_shape(f.get("rows"), f.get("classes"));
  c.rows = shape.rows;
  c.classes = shape.classes;
  const size_t n = static_cast<size_t>(shape.size());
  c.logits = static_cast<const float*>(buffer(env, f.get("logits"), n * 4, "logits")->data("logits"));
  const Napi::Value type_value = f.get("labelsType");
  const std::string type = type_value.IsString() ? type_value.As<Napi::String>().Utf8Value() : "";
  if (type != "int32" && type != "float32") fail("labelsType must be 'int32' or 'float32'");
  const bool dense = f.get("dense").ToBoolean();
  const LabelFormat format = dense ? (type == "int32" ? LabelFormat::kDenseInt32 : LabelFormat::kDenseFloat32)
                                   : (type == "int32" ? LabelFormat::kSparseInt32 : LabelFormat::kSparseFloat32);
  c.labels = {format, buffer(env, f.get("labels"), (dense ? n : static_cast<size_t>(c.rows)) * 4, "labels")->data("labels")};
  c.class_weights = f.has("classWeights")
                        ? static_cast<const float*>(
                              buffer(env, f.get("classWeights"), static_cast<size_t>(c.classes) * 4, "classWeights")->data("classWeights"))
                        : nullptr;
  c.row_weights =
      f.has("weights")
          ? static_cast<const float*>(buffer(env, f.get("weights"), static_cast<size_t>(c.rows) * 4, "weights")->data("weights"))
          : nullptr;
  c.params = parse_loss(f.get("loss"), dense, c.class_weights != nullptr, true);
  c.stats = static_cast<float*>(buffer(env, f.get("stats"), static_cast<size_t>(c.rows) * kStatsPerRow * 4, "stats")->data("stats"));
  const int64_t bad = cuda::find_bad_label(c);
  if (bad >= 0) fail("label at row " + std::to_string(bad) + " is not a class id in [0, " + std::to_string(c.classes) + ")");
  return c;
}

// cudaForward({...call, rowLoss})
Napi::Value CudaForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "cudaForward's argument");
    const LossCall c = parse_device_call(info.Env(), f);
    float* row_loss =
        static_cast<float*>(buffer(info.Env(), f.get("rowLoss"), static_cast<size_t>(c.rows) * 4, "rowLoss")->data("rowLoss"));
    f.done();
    cuda::forward(c, row_loss);
    return info.Env().Undefined();
  });
}

// cudaBackward({...call, dy, dyLength, dyScale, grad})
Napi::Value CudaBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "cudaBackward's argument");
    const LossCall c = parse_device_call(info.Env(), f);
    const int64_t dy_len = positive_int(f.get("dyLength"), "dyLength");
    if (dy_len != 1 && dy_len != c.rows) fail("dyLength must be 1 or rows");
    const float* dy = static_cast<const float*>(buffer(info.Env(), f.get("dy"), static_cast<size_t>(dy_len) * 4, "dy")->data("dy"));
    const double dy_scale = finite_number(f.get("dyScale"), "dyScale");
    float* grad = static_cast<float*>(buffer(info.Env(), f.get("grad"), static_cast<size_t>(c.rows * c.classes) * 4, "grad")->data("grad"));
    f.done();
    cuda::backward(c, dy, dy_len, dy_scale, grad);
    return info.Env().Undefined();
  });
}

Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  const cuda::DeviceStatus st = cuda::device_status();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("compiled", true);
  o.Set("available", st.available);
  o.Set("deviceCount", st.device_count);
  if (st.available) {
    o.Set("name", st.name);
    o.Set("computeCapability", st.compute_capability);
    o.Set("memoryGiB", st.memory_gib);
  } else {
    o.Set("error", st.error);
  }
  return o;
}

Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cuda::synchronize();
    return info.Env().Undefined();
  });
}

}  // namespace

bool cuda_compiled() { return true; }

void register_cuda(Napi::Env env, Napi::Object exports) {
  auto* data = new CudaData();
  Napi::Function ctor = DeviceBuffer::Define(env);
  data->constructor = Napi::Persistent(ctor);
  env.SetInstanceData<CudaData>(data);
  exports.Set("DeviceBuffer", ctor);
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatus));
  exports.Set("cudaForward", Napi::Function::New(env, CudaForward));
  exports.Set("cudaBackward", Napi::Function::New(env, CudaBackward));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize));
}

}  // namespace mixloss
