// α·CE + β·EL (Battash, Hazan & Wolf, Eq. 12); CE, EL and Poly-1 are its special cases.
// Linear in the targets: ℓ_j = α(lse − q_j) + β(1 − p_j). Gradient (Eq. 13): (α + β p_y)(p − onehot).
#pragma once

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct Mixed : KindBase {
  static constexpr const char* kName = "mixed";
  static constexpr bool kLinear = true;
  static constexpr ParamSpec kParams[] = {{"alpha", &LossParams::alpha, 0, kInf}, {"beta", &LossParams::beta, -kInf, kInf}};
  // β < 0 (Poly-1 with ε ∈ [−1, 0)) keeps the loss ≥ 0 as long as α + β ≥ 0, since CE ≥ EL.
  static constexpr const char* kConstraint = "beta >= -alpha";
  static const char* check(const LossParams& P) {
    return P.beta >= -P.alpha ? nullptr : "beta must be >= -alpha (alpha·CE + beta·EL is then >= 0)";
  }
  MIXLOSS_HD static Linear linear(const LossParams& P) { return {P.alpha, P.beta}; }
};

}  // namespace losses
}  // namespace mixloss
