// Complement entropy (COT, Chen et al. 2019; the paper's Eq. 6) in its authors' normalized
// form: with r_j = p_j/(1 − p_y) over the other classes j ≠ y, the row loss is
// (1/C)·Σ_{j≠y} r_j log r_j (the negative complement entropy divided by the class count, which
// their code minimizes in a second step after CE). Its gradient is not of the seam's form:
// ∂/∂q_j = (1/C)·r_j (log r_j − Σ r log r) for j ≠ y, and 0 at y (r does not depend on q_y).
// The row statistic it needs: Σ_{j≠y} e_j (q_j − max) (kNeedExpLogit), giving
// Σ r log r = Σ e (q − max)/E − log E with E = Σ_{j≠y} e_j (row_stats.h: cot).
#pragma once

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct ComplementEntropy : KindBase {
  static constexpr const char* kName = "complementEntropy";
  static constexpr unsigned kNeeds = kNeedExpLogit;
  static constexpr bool kComplement = true;
  // The value only: the gradient is complement_gradient's (row_math.h), c = 0 here.
  MIXLOSS_HD static KindRow sparse(const LossParams&, const RowStats& s, bool) { return {s.cot, 0.0, 0.0}; }
};

}  // namespace losses
}  // namespace mixloss
