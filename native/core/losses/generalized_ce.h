// Generalized cross entropy L_q = (1 − p_y^q)/q (Zhang & Sabuncu 2018), q ∈ (0, 1]; with a
// truncation k > 0 the truncated L_q: below p_y = k the loss is the constant L_q(k) and the
// gradient is 0. c = p_y^q (p^q = exp(−q·CE) stays accurate for tiny p).
#pragma once

#include <cmath>

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct GeneralizedCE : KindBase {
  static constexpr const char* kName = "generalizedCE";
  static constexpr ParamSpec kParams[] = {{"q", &LossParams::q, 0, 1, true, false},
                                          {"truncation", &LossParams::truncation, 0, 1, false, true}};
  MIXLOSS_HD static KindRow sparse(const LossParams& P, const RowStats& s, bool) {
    const double q = P.q, ce = s.ce;
    if (P.truncation > 0.0f && s.pt <= P.truncation) {
      return {-expm1(q * log(static_cast<double>(P.truncation))) / q, 0.0};
    }
    return {-expm1(-q * ce) / q, exp(-q * ce)};
  }
};

}  // namespace losses
}  // namespace mixloss
