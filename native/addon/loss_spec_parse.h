// The loss spec across the N-API boundary: one named object, {kind: 'focal', gamma: 2, ...,
// zLoss, labelSmoothing, ignoreIndex}, parsed and checked against the registry of kinds (each
// kind lists its parameters and their ranges). Unknown kinds and unknown names are errors.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "../core/losses/registry.h"
#include "checks.h"

namespace mixloss {
namespace napi_checks {

inline std::string range_text(const losses::ParamSpec& p) {
  const auto end = [](double v) {
    if (std::isinf(v)) return std::string(v < 0 ? "-inf" : "inf");
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  return std::string(p.min_open || std::isinf(p.min) ? "(" : "[") + end(p.min) + ", " + end(p.max) +
         (p.max_open || std::isinf(p.max) ? ")" : "]");
}

inline bool in_range(const losses::ParamSpec& p, double v) {
  return (p.min_open ? v > p.min : v >= p.min) && (p.max_open ? v < p.max : v <= p.max);
}

// Calls f(K{}) for the kind named `name`; false if there is none.
template <typename F>
bool with_kind_named(const std::string& name, F&& f) {
  bool found = false;
#define MIXLOSS_MATCH(K)                    \
  if (!found && name == losses::K::kName) { \
    found = true;                           \
    f(losses::K{}, LossKind::k##K);         \
  }
  MIXLOSS_LOSS_KINDS(MIXLOSS_MATCH)
#undef MIXLOSS_MATCH
  return found;
}

// The registry's kind names, comma-separated: all of them, or those linear in the targets.
inline std::string kind_names(bool linear_only = false) {
  std::string names;
#define MIXLOSS_NAME(K) \
  if (!linear_only || losses::K::kLinear) names += std::string(names.empty() ? "" : ", ") + losses::K::kName;
  MIXLOSS_LOSS_KINDS(MIXLOSS_NAME)
#undef MIXLOSS_NAME
  return names;
}

constexpr const char* kOptionNames = "zLoss, labelSmoothing, ignoreIndex";

// A softcap: a finite number > 0.
inline float parse_softcap(const Napi::Value& v) {
  const double cap = finite_number(v, "softcap");
  if (!(cap > 0)) fail("softcap must be > 0, got " + std::to_string(cap));
  return static_cast<float>(cap);
}

// Parses and checks a loss spec; `dense` and `class_weights` say what it will run on, and
// `softcap` whether its kernel applies softcap itself (the fused head's do; the row kernels get
// capped logits from stock ops, and a spec that names it is an error there).
inline LossParams parse_loss(const Napi::Value& v, bool dense, bool class_weights, bool softcap = false) {
  if (!v.IsObject()) fail("loss must be an object {kind, ...parameters}");
  Fields o(v, "loss");
  const Napi::Value kind_value = o.get("kind");
  if (!kind_value.IsString()) fail("loss.kind must be a string (one of: " + kind_names() + ")");
  const std::string kind = kind_value.As<Napi::String>().Utf8Value();
  LossParams P;
  bool linear = false;
  std::string takes;
  const bool known = with_kind_named(kind, [&](auto k, LossKind id) {
    using K = decltype(k);
    P.kind = id;
    linear = K::kLinear;
    for (const losses::ParamSpec& p : K::kParams) {
      if (p.name == nullptr) continue;
      takes += std::string(takes.empty() ? "" : ", ") + p.name;
      const Napi::Value pv = o.get(p.name);
      if (pv.IsUndefined()) continue;
      const double d = pv.IsNumber() ? pv.As<Napi::Number>().DoubleValue() : NAN;
      if (!pv.IsNumber() || std::isnan(d) || !in_range(p, d))
        fail(std::string(p.name) + " must be a number in " + range_text(p) + ", got " +
             (pv.IsNumber() ? std::to_string(d) : pv.ToString().Utf8Value()));
      P.*(p.field) = static_cast<float>(d);
    }
  });
  if (!known) fail("unknown loss kind '" + kind + "' (known: " + kind_names() + ")");
  const Napi::Value z_value = o.get("zLoss");
  const Napi::Value smoothing_value = o.get("labelSmoothing");
  const Napi::Value ignore_value = o.get("ignoreIndex");
  const Napi::Value softcap_value = softcap ? o.get("softcap") : Napi::Value();
  const std::string unknown = o.unknown();
  if (!unknown.empty())
    fail("unknown parameter '" + unknown + "' for loss kind '" + kind + "' (it takes: " + (takes.empty() ? "none" : takes) +
         "; options: " + kOptionNames + ")");
  with_kind_named(kind, [&](auto k, LossKind) {
    if (const char* problem = decltype(k)::check(P)) fail(problem);
  });
  if (!z_value.IsUndefined()) {
    const double z = finite_number(z_value, "zLoss");
    if (z < 0) fail("zLoss must be >= 0, got " + std::to_string(z));
    P.z_loss = static_cast<float>(z);
  }
  if (!smoothing_value.IsUndefined()) {
    const double e = finite_number(smoothing_value, "labelSmoothing");
    if (e < 0 || e > 1) fail("labelSmoothing must be in [0, 1], got " + std::to_string(e));
    if (e > 0 && !linear) fail("labelSmoothing needs a loss linear in the targets (" + kind_names(true) + "); '" + kind + "' is not");
    if (e > 0 && dense) fail("labelSmoothing is for class ids: smooth dense targets before the kernel");
    P.label_smoothing = static_cast<float>(e);
  }
  if (softcap && !softcap_value.IsUndefined()) P.softcap = parse_softcap(softcap_value);
  if (!ignore_value.IsUndefined()) {
    const double i = finite_number(ignore_value, "ignoreIndex");
    if (std::floor(i) != i || i < INT32_MIN || i > INT32_MAX) fail("ignoreIndex must be a 32-bit integer, got " + std::to_string(i));
    if (dense) fail("ignoreIndex is for class ids, not dense targets");
    P.has_ignore_index = true;
    P.ignore_index = static_cast<int64_t>(i);
  }
  if (dense && !linear)
    fail("dense targets need a loss linear in the targets (" + kind_names(true) + "); '" + kind + "' takes class ids only");
  if (dense && class_weights) fail("classWeights with dense targets: multiply the targets by the weights instead");
  return P;
}

// The registry as JavaScript sees it: [{name, linear, complement, needs: {argmax, targets,
// expLogit}, params: [{name, min, max, minOpen, maxOpen}]}]. The WebGPU kernels and the ops read
// these facts from here rather than restating them.
inline Napi::Array describe_kinds(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  const auto describe = [&](auto k) {
    using K = decltype(k);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", K::kName);
    o.Set("linear", K::kLinear);
    o.Set("complement", K::kComplement);
    if (K::kConstraint != nullptr)
      o.Set("constraint", K::kConstraint);
    else
      o.Set("constraint", env.Null());
    Napi::Object needs = Napi::Object::New(env);
#define MIXLOSS_NEED(N, bit, js) needs.Set(js, (K::kNeeds & bit) != 0);
    MIXLOSS_NEEDS(MIXLOSS_NEED)
#undef MIXLOSS_NEED
    o.Set("needs", needs);
    Napi::Array params = Napi::Array::New(env);
    uint32_t j = 0;
    for (const losses::ParamSpec& p : K::kParams) {
      if (p.name == nullptr) continue;
      Napi::Object po = Napi::Object::New(env);
      po.Set("name", p.name);
      po.Set("min", p.min);
      po.Set("max", p.max);
      po.Set("minOpen", p.min_open);
      po.Set("maxOpen", p.max_open);
      params.Set(j++, po);
    }
    o.Set("params", params);
    out.Set(i++, o);
  };
#define MIXLOSS_DESCRIBE(K) describe(losses::K{});
  MIXLOSS_LOSS_KINDS(MIXLOSS_DESCRIBE)
#undef MIXLOSS_DESCRIBE
  return out;
}

// The row statistics' layout (row_stats.h): {perRow, slots: {max: 0, log_sum: 1, ...}}.
inline Napi::Object describe_stats(Napi::Env env) {
  Napi::Object slots = Napi::Object::New(env);
#define MIXLOSS_SLOT_ENTRY(name) slots.Set(#name, static_cast<int>(slot::name));
  MIXLOSS_STATS_SLOTS(MIXLOSS_SLOT_ENTRY)
#undef MIXLOSS_SLOT_ENTRY
  Napi::Object o = Napi::Object::New(env);
  o.Set("perRow", kStatsPerRow);
  o.Set("slots", slots);
  return o;
}

}  // namespace napi_checks
}  // namespace mixloss
