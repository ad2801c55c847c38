// MAE (Eq. 3): ‖onehot − p‖₁ = 2(1 − p_y); for targets t, Σ_j t_j·2(1 − p_j). Linear in the
// targets (the mixture with α = 0, β = 2); gradient 2 p_y (p − onehot).
#pragma once

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct MAE : KindBase {
  static constexpr const char* kName = "mae";
  static constexpr bool kLinear = true;
  MIXLOSS_HD static Linear linear(const LossParams&) { return {0.0, 2.0}; }
};

}  // namespace losses
}  // namespace mixloss
