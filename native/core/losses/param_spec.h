// How a loss kind lists its named parameters: name, the LossParams field it sets, and its
// range. The addon reads and checks them by these names (no positional lists).
#pragma once

#include <cmath>

#include "../loss_spec.h"

namespace mixloss {
namespace losses {

struct ParamSpec {
  const char* name;
  float LossParams::*field;
  double min, max;  // the range; an open end is marked below
  bool min_open = false, max_open = false;
};

constexpr double kInf = HUGE_VAL;

}  // namespace losses
}  // namespace mixloss
