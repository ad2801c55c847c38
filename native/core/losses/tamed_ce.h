// Tamed cross entropy ((1 − log p_y)^(1−a) − 1)/(1 − a) (Martinez & Stiefelhagen 2018; Eq. 4
// with its bracket fixed), log(1 − log p_y) at a = 1; tends to CE as a → 0. c = (1 − log p_y)^(−a).
#pragma once

#include <cmath>

#include "../row_stats.h"
#include "param_spec.h"

namespace mixloss {
namespace losses {

struct TamedCE : KindBase {
  static constexpr const char* kName = "tamedCE";
  static constexpr ParamSpec kParams[] = {{"a", &LossParams::a, 0, kInf}};
  MIXLOSS_HD static KindRow sparse(const LossParams& P, const RowStats& s, bool) {
    const double a = P.a, u = 1.0 + s.ce;
    const double v = (a == 1.0) ? log(u) : (pow(u, 1.0 - a) - 1.0) / (1.0 - a);
    return {v, pow(u, -a)};
  }
};

}  // namespace losses
}  // namespace mixloss
