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

// What a kind inherits unless it says otherwise.
struct KindBase {
  static constexpr unsigned kNeeds = 0;   // extra row statistics (loss_spec.h, Needs)
  static constexpr bool kLinear = false;  // linear in the targets: linear(P) gives α, β
  // The gradient has complement entropy's term r_j (log r_j − ℓ) over j ≠ y (row_math.h).
  static constexpr bool kComplement = false;
  static constexpr ParamSpec kParams[] = {{nullptr, nullptr, 0, 0}};  // none
  // A constraint between parameters that their ranges cannot say: kConstraint states it (null:
  // none; lossKinds() reports it), check(P) returns null or what is wrong.
  static constexpr const char* kConstraint = nullptr;
  static const char* check(const LossParams&) { return nullptr; }
};

}  // namespace losses
}  // namespace mixloss
