// N-API bindings: argument validation and zero-copy access to the callers' TypedArrays.
// Every check happens here, before a kernel runs, and fails with a JS error naming the
// problem; the kernels themselves assume valid input.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "../core/fused_loss.h"
#include "../core/memory_baseline.h"
#include "../core/row_blocks.h"
#include "../core/thread_pool.h"
#include "checks.h"
#include "cuda_bindings.h"

namespace {

using mixloss::LabelFormat;
using mixloss::Labels;
using mixloss::LossParams;
using namespace mixloss::napi_checks;

// Shared arguments of forward and backward:
// (logits, rows, classes, labels, dense, kind, alpha, beta, param0, stats, ...).
KernelCall parse_call(const Napi::CallbackInfo& info) {
  if (info.Length() < 10) fail("expected at least 10 arguments");
  KernelCall c;
  const Shape shape = parse_shape(info);
  c.rows = shape.rows;
  c.classes = shape.classes;
  const int64_t n = shape.size();
  c.logits = floats(info[0], n, "logits");

  const bool dense = info[4].ToBoolean();
  const int64_t label_len = dense ? n : c.rows;
  const auto type = typed_view(info[3], "labels", "an Int32Array or a Float32Array").type;
  if (type == napi_int32_array) {
    c.labels = {dense ? LabelFormat::kDenseInt32 : LabelFormat::kSparseInt32,
                typed_data<int32_t, napi_int32_array>(info[3], label_len, "labels", "Int32Array")};
  } else if (type == napi_float32_array) {
    c.labels = {dense ? LabelFormat::kDenseFloat32 : LabelFormat::kSparseFloat32, floats(info[3], label_len, "labels")};
  } else {
    fail("labels must be an Int32Array or a Float32Array");
  }
  const int64_t bad = mixloss::find_bad_label(c.labels, c.rows, c.classes);
  if (bad >= 0) {
    const double value = c.labels.format == LabelFormat::kSparseInt32
                             ? static_cast<const int32_t*>(c.labels.data)[bad]
                             : static_cast<const float*>(c.labels.data)[bad];
    fail("label " + std::to_string(value) + " at row " + std::to_string(bad) + " is not a class id in [0, " +
         std::to_string(c.classes) + ")");
  }

  c.params = parse_params(info, 5, dense);
  c.stats = floats(info[9], c.rows * mixloss::kStatsPerRow, "stats");
  return c;
}

// forward(logits, rows, classes, labels, dense, kind, alpha, beta, param0, stats, rowLoss) → Σ loss
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const KernelCall c = parse_call(info);
    if (info.Length() < 11) fail("expected 11 arguments");
    float* row_loss = floats(info[10], c.rows, "rowLoss");
    const double total =
        mixloss::loss_forward(c.logits, c.rows, c.classes, c.labels, c.params, c.stats, row_loss);
    return Napi::Number::New(info.Env(), total);
  });
}

// forwardBackward(logits, rows, classes, labels, dense, kind, alpha, beta, param0, stats, rowLoss,
//                 gradScale, grad) → Σ loss; grad = gradScale · ∂loss/∂logits
Napi::Value ForwardBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const KernelCall c = parse_call(info);
    if (info.Length() < 13) fail("expected 13 arguments");
    float* row_loss = floats(info[10], c.rows, "rowLoss");
    const double grad_scale = finite_number(info[11], "gradScale");
    float* grad = floats(info[12], c.rows * c.classes, "grad");
    advise_huge_pages(grad, c.rows * c.classes);
    const double total = mixloss::loss_forward_backward(c.logits, c.rows, c.classes, c.labels, c.params, c.stats,
                                                        row_loss, grad_scale, grad);
    return Napi::Number::New(info.Env(), total);
  });
}

// scaleRows(grad, rows, classes, dy, scale): grad[r, :] *= dy[r or 0] · scale
Napi::Value ScaleRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const Shape shape = parse_shape(info);
    float* grad = floats(info[0], shape.size(), "grad");
    const Dy dy = parse_dy(info[3], shape.rows);
    mixloss::scale_rows(grad, shape.rows, shape.classes, dy.data, dy.length, finite_number(info[4], "scale"));
    return info.Env().Undefined();
  });
}

// backward(logits, rows, classes, labels, dense, kind, alpha, beta, param0, stats, dy, dyScale, grad)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const KernelCall c = parse_call(info);
    if (info.Length() < 13) fail("expected 13 arguments");
    const Dy dy = parse_dy(info[10], c.rows);
    const double dy_scale = finite_number(info[11], "dyScale");
    float* grad = floats(info[12], c.rows * c.classes, "grad");
    advise_huge_pages(grad, c.rows * c.classes);
    mixloss::loss_backward(c.logits, c.rows, c.classes, c.labels, c.params, c.stats, dy.data, dy.length, dy_scale, grad);
    return info.Env().Undefined();
  });
}

// threePassMemoryLoop(x, rows, classes, out): the benchmark's bandwidth baseline.
Napi::Value ThreePassMemoryLoop(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const Shape shape = parse_shape(info);
    float* out = floats(info[3], shape.size(), "out");
    advise_huge_pages(out, shape.size());  // the same treatment as the kernels' outputs
    mixloss::three_pass_memory_loop(floats(info[0], shape.size(), "x"), shape.rows, shape.classes, out);
    return info.Env().Undefined();
  });
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), mixloss::ThreadPool::instance().size());
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t n = positive_int(info[0], "threads");
    if (n > mixloss::ThreadPool::kMaxThreads)
      fail("threads must be at most " + std::to_string(mixloss::ThreadPool::kMaxThreads) + ", got " + std::to_string(n));
    // The size it got: fewer when the system refused threads (a warning says so on stderr).
    return Napi::Number::New(info.Env(), mixloss::ThreadPool::instance().resize(static_cast<int>(n)));
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("simd", mixloss::simd_level());
  o.Set("threads", mixloss::ThreadPool::instance().size());
  o.Set("statsPerRow", mixloss::kStatsPerRow);
  o.Set("cudaCompiled", mixloss::cuda_compiled());
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("forward", Napi::Function::New(env, Forward));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("forwardBackward", Napi::Function::New(env, ForwardBackward));
  exports.Set("scaleRows", Napi::Function::New(env, ScaleRows));
  exports.Set("threePassMemoryLoop", Napi::Function::New(env, ThreePassMemoryLoop));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  mixloss::register_cuda(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(mixloss, Init)
