// Checks on a loss call's own arguments that the loss ops' bindings (addon.cc) and the fused
// head's (head.cc) share: optional weights, and the labels against the classes.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

#include "../core/fused_loss.h"
#include "checks.h"

namespace mixloss {
namespace napi_checks {

// An optional Float32Array of n finite, non-negative weights (null when absent): classWeights
// [classes], sample weights [rows].
inline const float* parse_weights(Fields& f, const char* name, int64_t n) {
  if (!f.has(name)) return nullptr;
  const float* w = floats(f.get(name), n, name);
  for (int64_t i = 0; i < n; ++i)
    if (!(w[i] >= 0.0f && std::isfinite(w[i])))
      fail(std::string(name) + "[" + std::to_string(i) + "] must be a finite number >= 0, got " + std::to_string(w[i]));
  return w;
}

// Every class id in [0, classes) or the ignore index, or an Error naming the first that is not.
inline void check_labels(const LossCall& c) {
  const int64_t bad = cpu::find_bad_label(c);
  if (bad < 0) return;
  const double value = c.labels.format == LabelFormat::kSparseInt32 ? static_cast<const int32_t*>(c.labels.data)[bad]
                                                                    : static_cast<const float*>(c.labels.data)[bad];
  // Integral values as integers ("label 5", not "label 5.000000"); others as JS shows them.
  std::ostringstream shown;
  if (std::floor(value) == value && std::abs(value) < 1e15)
    shown << std::fixed << std::setprecision(0) << value;  // 2147483648, not 2.14748365e+09
  else
    shown << std::setprecision(9) << value;
  fail("label " + shown.str() + " at row " + std::to_string(bad) + " is not a class id in [0, " + std::to_string(c.classes) + ")" +
       (c.params.has_ignore_index ? " nor ignoreIndex " + std::to_string(c.params.ignore_index) : ""));
}

}  // namespace napi_checks
}  // namespace mixloss
