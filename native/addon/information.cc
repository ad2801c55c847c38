// N-API bindings of the Rényi information measures (native/core/information): named fields,
// every check before the computation, errors that name the argument.
#include "information.h"

#include <cmath>
#include <string>

#include "../core/information/renyi.h"
#include "checks.h"

namespace mixloss {
namespace {

using namespace napi_checks;
namespace info = mixloss::information;

// Gram matrices are rows × rows float64: 8192 rows take 512 MiB each.
constexpr int64_t kMaxRows = 8192;

info::Layer parse_layer(Fields& f) {
  const int64_t rows = positive_int(f.get("rows"), "rows");
  const int64_t dims = positive_int(f.get("dims"), "dims");
  if (rows < 2) fail("the information measures need at least 2 rows (examples), got " + std::to_string(rows));
  if (rows > kMaxRows)
    fail("at most " + std::to_string(kMaxRows) + " rows per call (the Gram matrices are rows × rows float64), got " + std::to_string(rows));
  if (dims > INT64_MAX / 4 / rows) fail("rows × dims overflows 64-bit indexing");
  const float* data = floats(f.get("layer"), rows * dims, "layer");
  for (int64_t i = 0; i < rows * dims; ++i)
    if (!std::isfinite(data[i]))
      fail("layer has a non-finite value at row " + std::to_string(i / dims) + ", column " + std::to_string(i % dims));
  return {data, rows, dims};
}

info::Options parse_options(Fields& f) {
  const double alpha = finite_number(f.get("alpha"), "alpha");
  const double width = finite_number(f.get("width"), "width");
  if (!(alpha > 0) || alpha == 1)
    fail("alpha must be > 0 and not 1 (Shannon's entropy is the limit α → 1: use 1.01), got " + std::to_string(alpha));
  if (!(width > 0)) fail("width must be > 0, got " + std::to_string(width));
  return {alpha, width};
}

info::ClassLabels parse_classes(Fields& f, int64_t rows) {
  const int64_t classes = positive_int(f.get("classes"), "classes");
  const int32_t* ids = typed_data<int32_t, napi_int32_array>(f.get("labels"), rows, "labels", "Int32Array");
  for (int64_t i = 0; i < rows; ++i)
    if (ids[i] < 0 || ids[i] >= classes)
      fail("label " + std::to_string(ids[i]) + " at row " + std::to_string(i) + " is not a class id in [0, " + std::to_string(classes) +
           ")");
  return {ids, classes};
}

float* parse_grad(Fields& f, const info::Layer& z) { return f.has("grad") ? floats(f.get("grad"), z.rows * z.dims, "grad") : nullptr; }

// renyiInformation({labels, classes, layer, rows, dims, alpha, width, grad?})
//   → {labels, layer, joint, mutualInformation} (bits); grad gets ∂I/∂layer.
Napi::Value RenyiInformation(const Napi::CallbackInfo& ci) {
  return guarded(ci, [&]() -> Napi::Value {
    Fields f(ci[0], "renyiInformation's argument");
    const info::Layer z = parse_layer(f);
    const info::ClassLabels y = parse_classes(f, z.rows);
    const info::Options o = parse_options(f);
    float* grad = parse_grad(f, z);
    f.done();
    const info::Entropies e = info::mutual_information(y, z, o, grad);
    Napi::Object r = Napi::Object::New(ci.Env());
    r.Set("labels", e.labels);
    r.Set("layer", e.layer);
    r.Set("joint", e.joint);
    r.Set("mutualInformation", e.mutual_information);
    return r;
  });
}

// renyiEntropy({layer, rows, dims, alpha, width, grad?}) → H (bits); grad gets ∂H/∂layer.
Napi::Value RenyiEntropy(const Napi::CallbackInfo& ci) {
  return guarded(ci, [&]() -> Napi::Value {
    Fields f(ci[0], "renyiEntropy's argument");
    const info::Layer z = parse_layer(f);
    const info::Options o = parse_options(f);
    float* grad = parse_grad(f, z);
    f.done();
    return Napi::Number::New(ci.Env(), info::entropy(z, o, grad));
  });
}

double* doubles(const Napi::Value& v, int64_t length, const char* what) {
  return typed_data<double, napi_float64_array>(v, length, what, "Float64Array");
}

// kernelAlignment({labels, classes, layer, rows, dims, widths: Float64Array, out: Float64Array})
Napi::Value KernelAlignment(const Napi::CallbackInfo& ci) {
  return guarded(ci, [&]() -> Napi::Value {
    Fields f(ci[0], "kernelAlignment's argument");
    const info::Layer z = parse_layer(f);
    const info::ClassLabels y = parse_classes(f, z.rows);
    const TypedView w = typed_view(f.get("widths"), "widths", "a Float64Array");
    const int64_t count = static_cast<int64_t>(w.length);
    const double* widths = doubles(f.get("widths"), count, "widths");
    for (int64_t i = 0; i < count; ++i)
      if (!(widths[i] > 0 && std::isfinite(widths[i]))) fail("widths[" + std::to_string(i) + "] must be finite and > 0");
    double* out = doubles(f.get("out"), count, "out");
    f.done();
    info::alignment(y, z, widths, count, out);
    return ci.Env().Undefined();
  });
}

// meanPairwiseDistance({layer, rows, dims}) → mean ‖a_i − a_j‖ over i < j.
Napi::Value MeanPairwiseDistance(const Napi::CallbackInfo& ci) {
  return guarded(ci, [&]() -> Napi::Value {
    Fields f(ci[0], "meanPairwiseDistance's argument");
    const info::Layer z = parse_layer(f);
    f.done();
    return Napi::Number::New(ci.Env(), info::mean_pairwise_distance(z));
  });
}

// symmetricEigen({matrix: Float64Array n×n, n, values: Float64Array n, vectors?: Float64Array n×n})
Napi::Value SymmetricEigen(const Napi::CallbackInfo& ci) {
  return guarded(ci, [&]() -> Napi::Value {
    Fields f(ci[0], "symmetricEigen's argument");
    const int64_t n = positive_int(f.get("n"), "n");
    if (n > kMaxRows) fail("n must be at most " + std::to_string(kMaxRows));
    const double* a = doubles(f.get("matrix"), n * n, "matrix");
    for (int64_t i = 0; i < n * n; ++i)
      if (!std::isfinite(a[i])) fail("matrix has a non-finite entry at " + std::to_string(i));
    double* values = doubles(f.get("values"), n, "values");
    double* vectors = f.has("vectors") ? doubles(f.get("vectors"), n * n, "vectors") : nullptr;
    f.done();
    info::symmetric_eigen(a, n, values, vectors);
    return ci.Env().Undefined();
  });
}

}  // namespace

void register_information(Napi::Env env, Napi::Object exports) {
  exports.Set("renyiInformation", Napi::Function::New(env, RenyiInformation));
  exports.Set("renyiEntropy", Napi::Function::New(env, RenyiEntropy));
  exports.Set("kernelAlignment", Napi::Function::New(env, KernelAlignment));
  exports.Set("meanPairwiseDistance", Napi::Function::New(env, MeanPairwiseDistance));
  exports.Set("symmetricEigen", Napi::Function::New(env, SymmetricEigen));
}

}  // namespace mixloss
