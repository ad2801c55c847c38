// N-API bindings of the fused classifier head (native/core/head): named fields, every check
// before any kernel runs, errors that name the argument.
#include "head.h"

#include <cmath>
#include <string>

#include "../core/head/gemm.h"
#include "../core/head/gemm_floor.h"
#include "../core/head/head.h"
#include "../core/losses/registry.h"
#include "call_checks.h"
#include "checks.h"
#include "loss_spec_parse.h"
#ifdef MIXLOSS_WITH_CUDA
#include "cuda_head_staging.h"
#endif

namespace mixloss {
namespace {

using namespace napi_checks;

// The kinds the head takes: those whose gradient is the seam's c·(p − onehot) alone.
template <typename K>
constexpr bool seam_kind() {
  return K::kNeeds == 0 && !K::kComplement;
}

std::string seam_kinds() {
  std::string names;
#define MIXLOSS_SEAM_NAME(K) \
  if (seam_kind<losses::K>()) names += std::string(names.empty() ? "" : ", ") + losses::K::kName;
  MIXLOSS_LOSS_KINDS(MIXLOSS_SEAM_NAME)
#undef MIXLOSS_SEAM_NAME
  return names;
}

LossParams parse_head_loss(Fields& f, bool class_weights) {
  const LossParams P = parse_loss(f.get("loss"), false, class_weights, true);
  const bool seam = visit_kind(P.kind, [](auto k) { return seam_kind<decltype(k)>(); });
  if (!seam) {
    const std::string name = visit_kind(P.kind, [](auto k) { return std::string(decltype(k)::kName); });
    fail("the fused head takes the kinds whose gradient is c·(p − onehot) (" + seam_kinds() + "); '" + name + "' is not one");
  }
  return P;
}

Labels parse_ids(const Napi::Value& v, int64_t rows) {
  const auto type = typed_view(v, "labels", "an Int32Array or a Float32Array of class ids").type;
  if (type == napi_int32_array) return {LabelFormat::kSparseInt32, typed_data<int32_t, napi_int32_array>(v, rows, "labels", "Int32Array")};
  if (type == napi_float32_array) return {LabelFormat::kSparseFloat32, floats(v, rows, "labels")};
  fail("labels must be an Int32Array or a Float32Array of class ids");
}

// The label check of the row kernels against the head's classes.
void check_labels(const head::HeadCall& c) {
  LossCall call{};
  call.rows = c.rows;
  call.classes = c.total_classes;
  call.labels = c.labels;
  call.params = c.params;
  napi_checks::check_labels(call);
}

// The product's fields {hidden, kernel, bias?, rows, dims, classes}: hidden [rows, dims] · kernel
// [dims, classes] + bias [classes], within 64-bit indexing.
void parse_product(Fields& f, head::HeadCall& c, bool bias) {
  c.rows = positive_int(f.get("rows"), "rows");
  c.dims = positive_int(f.get("dims"), "dims");
  c.classes = positive_int(f.get("classes"), "classes");
  if (c.dims > INT64_MAX / 4 / c.rows || c.classes > INT64_MAX / 4 / c.dims || c.classes > INT64_MAX / 4 / c.rows)
    fail("the head's sizes overflow 64-bit indexing");
  c.class_offset = 0;
  c.total_classes = c.classes;
  c.hidden = floats(f.get("hidden"), c.rows * c.dims, "hidden");
  c.kernel = floats(f.get("kernel"), c.dims * c.classes, "kernel");
  c.bias = bias && f.has("bias") ? floats(f.get("bias"), c.classes, "bias") : nullptr;
}

// The rows' fields {labels, loss, classWeights?, weights?} (c.rows and c.total_classes set), checked
// as the loss ops check theirs.
void parse_rows(Fields& f, head::HeadCall& c) {
  c.labels = parse_ids(f.get("labels"), c.rows);
  c.class_weights = parse_weights(f, "classWeights", c.total_classes);
  c.row_weights = parse_weights(f, "weights", c.rows);
  c.params = parse_head_loss(f, c.class_weights != nullptr);
  check_labels(c);
}

// The fields every head call shares: the product's, {classOffset, totalClasses} of a shard, and
// the rows'.
head::HeadCall parse_head(Fields& f, bool sharded) {
  head::HeadCall c{};
  parse_product(f, c, true);
  if (sharded) {
    c.total_classes = positive_int(f.get("totalClasses"), "totalClasses");
    const double offset = finite_number(f.get("classOffset"), "classOffset");
    if (offset < 0 || std::floor(offset) != offset) fail("classOffset must be an integer >= 0, got " + std::to_string(offset));
    c.class_offset = static_cast<int64_t>(offset);
    if (c.class_offset + c.classes > c.total_classes)
      fail("the shard's classes [" + std::to_string(c.class_offset) + ", " + std::to_string(c.class_offset + c.classes) +
           ") pass the head's " + std::to_string(c.total_classes));
  }
  parse_rows(f, c);
  return c;
}

// The field `device`: 'cpu' (the default) or 'cuda' (the CUDA head on copies of the arrays).
bool parse_cuda(Fields& f) {
  if (!f.has("device")) return false;
  const Napi::Value v = f.get("device");
  const std::string device = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (device == "cpu") return false;
  if (device != "cuda") fail("device must be 'cpu' or 'cuda'");
#ifndef MIXLOSS_WITH_CUDA
  fail("this build of the addon has no CUDA kernels: MIXLOSS_BUILD_FROM_SOURCE=1 MIXLOSS_CUDA=ON npm rebuild mixloss builds them");
#endif
  return true;
}

Napi::Value total(Napi::Env env, const float* row_loss, int64_t rows) {
  double sum = 0.0;
  for (int64_t r = 0; r < rows; ++r) sum += row_loss[r];
  return Napi::Number::New(env, sum);
}

// headForward({...head, stats, rowLoss, device?}) → Σ row loss: the whole head as one shard, finished.
Napi::Value HeadForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headForward's argument");
    const head::HeadCall c = parse_head(f, false);
    float* stats = floats(f.get("stats"), c.rows * kStatsPerRow, "stats");
    float* row_loss = floats(f.get("rowLoss"), c.rows, "rowLoss");
    const bool on_cuda = parse_cuda(f);
    f.done();
#ifdef MIXLOSS_WITH_CUDA
    if (on_cuda) {
      cuda_head_forward_on_host(c, stats, row_loss);
      return total(info.Env(), row_loss, c.rows);
    }
#else
    (void)on_cuda;
#endif
    std::vector<float> merged(static_cast<size_t>(c.rows * head::kShardStats));
    head::shard_statistics(c, merged.data());
    head::finish_rows(c, merged.data(), stats, row_loss);
    return total(info.Env(), row_loss, c.rows);
  });
}

// The backward fields: {stats, dy, dyScale, gradHidden, gradKernel, gradBias?}.
Napi::Value backward(const Napi::CallbackInfo& info, bool sharded) {
  Fields f(info[0], sharded ? "headShardBackward's argument" : "headBackward's argument");
  const head::HeadCall c = parse_head(f, sharded);
  const float* stats = floats(f.get("stats"), c.rows * kStatsPerRow, "stats");
  const Upstream dy = parse_dy(f, c.rows);
  const double dy_scale = finite_number(f.get("dyScale"), "dyScale");
  float* grad_hidden = floats(f.get("gradHidden"), c.rows * c.dims, "gradHidden");
  float* grad_kernel = floats(f.get("gradKernel"), c.dims * c.classes, "gradKernel");
  float* grad_bias = f.has("gradBias") ? floats(f.get("gradBias"), c.classes, "gradBias") : nullptr;
  const bool on_cuda = !sharded && parse_cuda(f);
  f.done();
#ifdef MIXLOSS_WITH_CUDA
  if (on_cuda) {
    cuda_head_backward_on_host(c, stats, dy.values, dy.length, dy_scale, grad_hidden, grad_kernel, grad_bias);
    return info.Env().Undefined();
  }
#else
  (void)on_cuda;
#endif
  head::shard_backward(c, stats, dy.values, dy.length, dy_scale, grad_hidden, grad_kernel, grad_bias);
  return info.Env().Undefined();
}

Napi::Value HeadBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return backward(info, false); });
}

Napi::Value HeadShardBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return backward(info, true); });
}

// headShardStatistics({...head, classOffset, totalClasses, out}): a shard's statistics.
Napi::Value HeadShardStatistics(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headShardStatistics's argument");
    const head::HeadCall c = parse_head(f, true);
    float* out = floats(f.get("out"), c.rows * head::kShardStats, "out");
    f.done();
    head::shard_statistics(c, out);
    return info.Env().Undefined();
  });
}

// headMergeStatistics({a, b, rows, out}): a ⊕ b.
Napi::Value HeadMergeStatistics(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headMergeStatistics's argument");
    const int64_t rows = positive_int(f.get("rows"), "rows");
    const float* a = floats(f.get("a"), rows * head::kShardStats, "a");
    const float* b = floats(f.get("b"), rows * head::kShardStats, "b");
    float* out = floats(f.get("out"), rows * head::kShardStats, "out");
    f.done();
    head::merge_shard_statistics(a, b, rows, out);
    return info.Env().Undefined();
  });
}

// headFinish({merged, rows, totalClasses, labels, loss, classWeights?, weights?, stats, rowLoss})
// → Σ row loss. Every row not ignored must have had its target in exactly one merged shard.
Napi::Value HeadFinish(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headFinish's argument");
    head::HeadCall c{};
    c.rows = positive_int(f.get("rows"), "rows");
    c.total_classes = c.classes = positive_int(f.get("totalClasses"), "totalClasses");
    const float* merged = floats(f.get("merged"), c.rows * head::kShardStats, "merged");
    parse_rows(f, c);
    float* stats = floats(f.get("stats"), c.rows * kStatsPerRow, "stats");
    float* row_loss = floats(f.get("rowLoss"), c.rows, "rowLoss");
    f.done();
    const int64_t r = head::find_unowned_target(merged, c.rows, c.labels, c.params);
    if (r >= 0) {
      const float held = merged[r * head::kShardStats + head::kShardHasTarget];
      fail("the target of row " + std::to_string(r) + " (class " + std::to_string(sparse_label(c.labels, r)) + ") is " +
           (held == 0.0f ? "in none of the merged shards: merge every shard of the head (classOffset and the shards' classes "
                           "must cover [0, numClasses))"
                         : "in " + std::to_string(static_cast<int>(held)) + " of the merged shards: shards must not overlap"));
    }
    head::finish_rows(c, merged, stats, row_loss);
    return total(info.Env(), row_loss, c.rows);
  });
}

// headTopK({hidden, kernel, bias?, rows, dims, classes, k, softcap?, values, indices}).
Napi::Value HeadTopK(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headTopK's argument");
    head::HeadCall c{};
    parse_product(f, c, true);
    const int64_t k = positive_int(f.get("k"), "k");
    if (k > c.classes) fail("k must be at most the classes (" + std::to_string(c.classes) + "), got " + std::to_string(k));
    if (c.classes > INT32_MAX) fail("class ids past 2^31 do not fit the indices (int32)");
    if (f.has("softcap")) c.params.softcap = parse_softcap(f.get("softcap"));
    float* values = floats(f.get("values"), c.rows * k, "values");
    int32_t* indices = typed_data<int32_t, napi_int32_array>(f.get("indices"), c.rows * k, "indices", "Int32Array");
    f.done();
    head::top_k(c, k, values, indices);
    return info.Env().Undefined();
  });
}

// headGemmFloor({hidden, kernel, rows, dims, classes, gradHidden, gradKernel}): the benchmark's floor.
Napi::Value HeadGemmFloor(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Fields f(info[0], "headGemmFloor's argument");
    head::HeadCall c{};
    parse_product(f, c, false);
    float* grad_hidden = floats(f.get("gradHidden"), c.rows * c.dims, "gradHidden");
    float* grad_kernel = floats(f.get("gradKernel"), c.dims * c.classes, "gradKernel");
    f.done();
    head::gemm_floor(c.hidden, c.kernel, c.rows, c.dims, c.classes, grad_hidden, grad_kernel);
    return info.Env().Undefined();
  });
}

Napi::Value HeadLayout(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("shardStats", static_cast<int>(head::kShardStats));
  o.Set("isa", head::gemm_isa());
  o.Set("kinds", seam_kinds());
  return o;
}

}  // namespace

void register_head(Napi::Env env, Napi::Object exports) {
  exports.Set("headForward", Napi::Function::New(env, HeadForward));
  exports.Set("headBackward", Napi::Function::New(env, HeadBackward));
  exports.Set("headShardStatistics", Napi::Function::New(env, HeadShardStatistics));
  exports.Set("headMergeStatistics", Napi::Function::New(env, HeadMergeStatistics));
  exports.Set("headFinish", Napi::Function::New(env, HeadFinish));
  exports.Set("headShardBackward", Napi::Function::New(env, HeadShardBackward));
  exports.Set("headTopK", Napi::Function::New(env, HeadTopK));
  exports.Set("headLayout", Napi::Function::New(env, HeadLayout));
  exports.Set("headGemmFloor", Napi::Function::New(env, HeadGemmFloor));
}

}  // namespace mixloss
