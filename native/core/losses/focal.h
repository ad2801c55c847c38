// Focal loss (Eq. 2), softmax form: alpha·(−(1 − p_y)^γ log p_y). alpha is a global scale
// (keras, and the kornia version the paper used with 0.25); a per-class α goes in as class
// weights. c = alpha·((1−p)^γ − γ p (1−p)^(γ−1) log p).
#pragma once

#include <cmath>

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct Focal : KindBase {
  static constexpr const char* kName = "focal";
  static constexpr ParamSpec kParams[] = {{"gamma", &LossParams::gamma, 0, kInf}, {"alpha", &LossParams::alpha, 0, kInf}};
  MIXLOSS_HD static KindRow sparse(const LossParams& P, const RowStats& s, bool) {
    const double ce = s.ce, one_minus_p = s.el, p = s.pt, g = P.gamma, scale = P.alpha;
    const double w = pow(one_minus_p, g);
    // The second term tends to 0 as p → 1 (log p ≈ −(1 − p)); avoid 0·∞ there.
    const double w1 = (g == 0.0 || one_minus_p == 0.0) ? 0.0 : g * pow(one_minus_p, g - 1.0);
    // −p·log p tends to 0 as p → 0 (a masked target, CE = +∞): avoid 0·∞ there too.
    const double p_ce = p == 0.0 ? 0.0 : p * ce;
    return {scale * w * ce, scale * (w + w1 * p_ce)};
  }
};

}  // namespace losses
}  // namespace mixloss
