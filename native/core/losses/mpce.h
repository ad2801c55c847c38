// MPCE (Eq. 7): −(p_k − p_y) log p_y with k = argmax_j p_j (first index on ties); 0 when
// k = y. Gradient a·p_j + b·[j = y] + c·[j = k] with a = (p_k − p_y)(log p_y + 1),
// c = −p_k log p_y and b = −a − c (the spec's form), i.e. a(p_j − [j = y]) + c([j = k] − [j = y]).
// p_k = exp(q_k − lse) = exp(−log_sum), since q_k is the row's max.
#pragma once

#include <cmath>

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct MPCE : KindBase {
  static constexpr const char* kName = "mpce";
  static constexpr unsigned kNeeds = kNeedArgmax;
  MIXLOSS_HD static KindRow sparse(const LossParams&, const RowStats& s, bool k_is_y) {
    // A NaN logit makes the row NaN (as for every kind), whichever argmax the NaN-skipping max
    // found: forward gave 0 here and the fused pass NaN (a fuzzer finding).
    if (s.log_sum != s.log_sum) return {NAN, NAN, 0.0};
    if (k_is_y) return {0.0, 0.0, 0.0};
    const double pk = exp(-static_cast<double>(s.log_sum)), gap = pk - s.pt, ce = s.ce;
    return {gap * ce, gap * (1.0 - ce), pk * ce};
  }
};

}  // namespace losses
}  // namespace mixloss
