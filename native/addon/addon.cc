// N-API bindings: argument validation and zero-copy access to the callers' TypedArrays.
// Every check happens here, before a kernel runs, and fails with a JS error naming the
// problem; the kernels themselves assume valid input.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

#include "../core/cpu_limits.h"
#include "../core/fused_loss.h"
#include "../core/information/renyi.h"
#include "../core/memory_baseline.h"
#include "../core/row_blocks.h"
#include "../core/thread_pool.h"
#include "call_checks.h"
#include "checks.h"
#include "cuda_bindings.h"
#include "head.h"
#include "information.h"
#include "loss_spec_parse.h"

namespace {

// Kernel calls in flight and started, over every thread and worker of the process: what a test
// reads to know that something ran at the same time as the kernels (kernelActivity()).
std::atomic<int64_t> in_flight{0}, started{0};
struct InFlight {
  InFlight() {
    ++in_flight;
    ++started;
  }
  ~InFlight() { --in_flight; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
};

using mixloss::LabelFormat;
using mixloss::LossCall;
using namespace mixloss::napi_checks;

// Labels of a call: class ids [rows] or, when dense, targets [rows, classes].
mixloss::Labels parse_labels(const Napi::Value& v, bool dense, const Shape& shape) {
  const int64_t length = dense ? shape.size() : shape.rows;
  const auto type = typed_view(v, "labels", "an Int32Array or a Float32Array").type;
  if (type == napi_int32_array)
    return {dense ? LabelFormat::kDenseInt32 : LabelFormat::kSparseInt32,
            typed_data<int32_t, napi_int32_array>(v, length, "labels", "Int32Array")};
  if (type == napi_float32_array) return {dense ? LabelFormat::kDenseFloat32 : LabelFormat::kSparseFloat32, floats(v, length, "labels")};
  fail("labels must be an Int32Array or a Float32Array");
}

// The named fields every kernel call shares: {logits, rows, classes, labels, dense, loss,
// classWeights?, weights?, stats}. Labels are checked here (a kernel never indexes with a bad one).
LossCall parse_call(Fields& f) {
  LossCall c{};
  const Shape shape = checked_shape(f.get("rows"), f.get("classes"));
  c.rows = shape.rows;
  c.classes = shape.classes;
  c.logits = floats(f.get("logits"), shape.size(), "logits");
  const bool dense = f.get("dense").ToBoolean();
  c.labels = parse_labels(f.get("labels"), dense, shape);
  c.class_weights = parse_weights(f, "classWeights", c.classes);
  c.row_weights = parse_weights(f, "weights", c.rows);
  c.params = parse_loss(f.get("loss"), dense, c.class_weights != nullptr, true);
  check_labels(c);
  c.stats = floats(f.get("stats"), c.rows * mixloss::kStatsPerRow, "stats");
  return c;
}

// What a 'mean' can divide by, over the rows not ignored: {classWeights: Σ w[y] (PyTorch),
// rows, sampleWeights: Σ s (tf.Reduction.MEAN), nonzero: rows with s ≠ 0}.
Napi::Object divisors(Napi::Env env, const LossCall& c) {
  const mixloss::MeanDivisors d = mixloss::mean_divisors(c);
  Napi::Object o = Napi::Object::New(env);
  o.Set("classWeights", d.class_weights);
  o.Set("rows", d.rows);
  o.Set("sampleWeights", d.sample_weights);
  o.Set("nonzero", d.nonzero);
  return o;
}

// Σ row loss, in double.
Napi::Value total(Napi::Env env, const LossCall& c, const float* row_loss) {
  double sum = 0.0;
  for (int64_t r = 0; r < c.rows; ++r) sum += row_loss[r];
  return Napi::Number::New(env, sum);
}

// meanDivisors({rows, classes, labels, dense, loss, classWeights?, weights?}) → divisors(): what
// 'mean' divides by, known before the kernel runs (the fused pass scales its gradient by it).
Napi::Value MeanDivisors(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "meanDivisors's argument");
    LossCall c{};
    const Shape shape = checked_shape(f.get("rows"), f.get("classes"));
    c.rows = shape.rows;
    c.classes = shape.classes;
    const bool dense = f.get("dense").ToBoolean();
    c.labels = parse_labels(f.get("labels"), dense, shape);
    c.class_weights = parse_weights(f, "classWeights", c.classes);
    c.row_weights = parse_weights(f, "weights", c.rows);
    c.params = parse_loss(f.get("loss"), dense, c.class_weights != nullptr, true);
    f.done();
    check_labels(c);
    return divisors(info.Env(), c);
  });
}

// linearCoefficients(loss) → [alpha, beta] of a kind linear in the targets (ℓ_j = α(lse − q_j)
// + β(1 − p_j)), or null: the gradient with respect to dense targets is written from them.
Napi::Value LinearCoefficients(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const mixloss::LossParams P = parse_loss(info[0], false, false, true);
    return mixloss::visit_kind(P.kind, [&](auto k) -> Napi::Value {
      using K = decltype(k);
      if constexpr (K::kLinear) {
        const mixloss::Linear l = K::linear(P);
        Napi::Array a = Napi::Array::New(info.Env(), 2);
        a.Set(0u, l.alpha);
        a.Set(1u, l.beta);
        return a;
      } else {
        return info.Env().Null();
      }
    });
  });
}

// forward({...call, rowLoss}) → Σ row loss ('mean' divisors: meanDivisors, before the kernel)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "forward's argument");
    const LossCall c = parse_call(f);
    float* row_loss = floats(f.get("rowLoss"), c.rows, "rowLoss");
    f.done();
    const InFlight busy;
    mixloss::cpu::forward(c, row_loss);
    return total(info.Env(), c, row_loss);
  });
}

// forwardBackward({...call, rowLoss, gradScale, grad}) → Σ row loss; grad = gradScale · ∂loss/∂logits
Napi::Value ForwardBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "forwardBackward's argument");
    const LossCall c = parse_call(f);
    float* row_loss = floats(f.get("rowLoss"), c.rows, "rowLoss");
    const double grad_scale = finite_number(f.get("gradScale"), "gradScale");
    float* grad = floats(f.get("grad"), c.rows * c.classes, "grad");
    f.done();
    advise_huge_pages(grad, c.rows * c.classes);
    const InFlight busy;
    mixloss::cpu::forward_backward(c, row_loss, grad_scale, grad);
    return total(info.Env(), c, row_loss);
  });
}

// backward({...call, dy, dyScale, grad})
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "backward's argument");
    const LossCall c = parse_call(f);
    const Upstream dy = parse_dy(f, c.rows);
    const double dy_scale = finite_number(f.get("dyScale"), "dyScale");
    float* grad = floats(f.get("grad"), c.rows * c.classes, "grad");
    f.done();
    advise_huge_pages(grad, c.rows * c.classes);
    const InFlight busy;
    mixloss::cpu::backward(c, dy.values, dy.length, dy_scale, grad);
    return info.Env().Undefined();
  });
}

// scaleRows({grad, rows, classes, dy, scale}): grad[r, :] *= dy[r or 0] · scale
Napi::Value ScaleRows(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "scaleRows's argument");
    const Shape shape = checked_shape(f.get("rows"), f.get("classes"));
    float* grad = floats(f.get("grad"), shape.size(), "grad");
    const Upstream dy = parse_dy(f, shape.rows);
    const double scale = finite_number(f.get("scale"), "scale");
    f.done();
    mixloss::cpu::scale_rows(grad, shape.rows, shape.classes, dy.values, dy.length, scale);
    return info.Env().Undefined();
  });
}

// checkLoss({loss, dense, classWeights}) → null, or what is wrong with the spec (the ops ask
// before they run, to name themselves in the error).
Napi::Value CheckLoss(const Napi::CallbackInfo& info) {
  try {
    Fields f(info[0], "checkLoss's argument");
    const bool dense = f.get("dense").ToBoolean();
    const bool weights = f.get("classWeights").ToBoolean();
    parse_loss(f.get("loss"), dense, weights, true);
    f.done();
    return info.Env().Null();
  } catch (const Problem& p) {
    return Napi::String::New(info.Env(), p.message);
  }
}

Napi::Value LossKinds(const Napi::CallbackInfo& info) { return describe_kinds(info.Env()); }

Napi::Value StatsLayout(const Napi::CallbackInfo& info) { return describe_stats(info.Env()); }

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

// expValues({values, out}): out = exp(values) through the row loops' vector exp (accuracy tests).
Napi::Value ExpValues(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "expValues's argument");
    const Napi::Value values = f.get("values");
    const int64_t n = static_cast<int64_t>(typed_view(values, "values", "a Float32Array").length);
    const float* x = floats(values, n, "values");
    float* out = floats(f.get("out"), n, "out");
    f.done();
    mixloss::exp_values(x, n, out);
    return info.Env().Undefined();
  });
}

// softcapNearValues({values, cap, out}) → the number of terms of the polynomial that ran:
// softcap's in-cap capped logits (softcap_near_values), what the tests check them on.
Napi::Value SoftcapNearValues(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "softcapNearValues's argument");
    const Napi::Value values = f.get("values");
    const int64_t n = static_cast<int64_t>(typed_view(values, "values", "a Float32Array").length);
    const float* q = floats(values, n, "values");
    const double cap = finite_number(f.get("cap"), "cap");
    float* out = floats(f.get("out"), n, "out");
    f.done();
    if (!(cap > 0)) fail("cap must be positive, got " + std::to_string(cap));
    const float bound = std::min(static_cast<float>(cap), mixloss::kNearMaxLogit);
    for (int64_t j = 0; j < n; ++j)
      if (!(std::fabs(q[j]) <= bound))
        fail("values[" + std::to_string(j) + "] is " + std::to_string(q[j]) + ": every value must lie within ±cap and ±" +
             std::to_string(static_cast<int>(mixloss::kNearMaxLogit)));
    return Napi::Number::New(info.Env(), mixloss::softcap_near_values(q, n, static_cast<float>(cap), out));
  });
}

// kernelActivity() → {inFlight, started}: the CPU kernel calls running now, and started so far.
Napi::Value KernelActivity(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("inFlight", static_cast<double>(in_flight.load()));
  o.Set("started", static_cast<double>(started.load()));
  return o;
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), mixloss::ThreadPool::instance().size()); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t n = positive_int(info[0], "threads");
    if (n > mixloss::ThreadPool::kMaxThreads)
      fail("threads must be at most " + std::to_string(mixloss::ThreadPool::kMaxThreads) + ", got " + std::to_string(n));
    // The size it got: fewer when the system refused threads (a warning says so on stderr).
    return Napi::Number::New(info.Env(), mixloss::ThreadPool::instance().resize(static_cast<int>(n)));
  });
}

// cgroupCpuQuota(root): the cgroup CPU quota read under a directory laid out as / (tests of the
// cgroup layouts, v1 and v2, that a machine does not have); 0 when there is none.
Napi::Value CgroupCpuQuota(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) fail("root must be a string");
    return Napi::Number::New(info.Env(), mixloss::cgroup_cpu_quota(info[0].As<Napi::String>().Utf8Value()));
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  // What sizes the default pool: the CPUs in the affinity mask and the cgroup's quota (null: none).
  const mixloss::CpuLimits limits = mixloss::cpu_limits();
  Napi::Object cpus = Napi::Object::New(info.Env());
  cpus.Set("affinity", limits.affinity);
  cpus.Set("quota", limits.quota > 0 ? Napi::Number::New(info.Env(), limits.quota) : info.Env().Null());
  o.Set("simd", mixloss::simd_level());
  o.Set("rowLoops", mixloss::row_loops());
  o.Set("threads", mixloss::ThreadPool::instance().size());
  o.Set("cpus", cpus);
  o.Set("statsPerRow", mixloss::kStatsPerRow);
  o.Set("cudaCompiled", mixloss::cuda_compiled());
  o.Set("informationIsa", mixloss::information::isa());
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("forward", Napi::Function::New(env, Forward));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("forwardBackward", Napi::Function::New(env, ForwardBackward));
  exports.Set("scaleRows", Napi::Function::New(env, ScaleRows));
  exports.Set("meanDivisors", Napi::Function::New(env, MeanDivisors));
  exports.Set("linearCoefficients", Napi::Function::New(env, LinearCoefficients));
  exports.Set("checkLoss", Napi::Function::New(env, CheckLoss));
  exports.Set("lossKinds", Napi::Function::New(env, LossKinds));
  exports.Set("statsLayout", Napi::Function::New(env, StatsLayout));
  exports.Set("threePassMemoryLoop", Napi::Function::New(env, ThreePassMemoryLoop));
  exports.Set("kernelActivity", Napi::Function::New(env, KernelActivity));
  exports.Set("expValues", Napi::Function::New(env, ExpValues));
  exports.Set("softcapNearValues", Napi::Function::New(env, SoftcapNearValues));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("cgroupCpuQuota", Napi::Function::New(env, CgroupCpuQuota));
  mixloss::register_cuda(env, exports);
  mixloss::register_information(env, exports);
  mixloss::register_head(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(mixloss, Init)
