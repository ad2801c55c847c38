// The registry of loss kinds: the one list from which the enum, the dispatch, the parameter
// checks, "accepts dense targets", the addon's list of kinds (which TypeScript reads) and the
// self-test's cases all come. To add a kind: write losses/<kind>.h (see docs/architecture.md),
// include it here and add one line to MIXLOSS_LOSS_KINDS.
#pragma once

#include <cstdint>

#include "complement_entropy.h"
#include "focal.h"
#include "generalized_ce.h"
#include "mae.h"
#include "mixed.h"
#include "mpce.h"
#include "tamed_ce.h"

// X(Struct): in this order; a kind's number is its position (the numbers never leave the process).
#define MIXLOSS_LOSS_KINDS(X) \
  X(Mixed)                    \
  X(MAE)                      \
  X(Focal)                    \
  X(GeneralizedCE)            \
  X(TamedCE)                  \
  X(MPCE)                     \
  X(ComplementEntropy)

namespace mixloss {

enum class LossKind : int32_t {
#define MIXLOSS_ENUM(K) k##K,
  MIXLOSS_LOSS_KINDS(MIXLOSS_ENUM)
#undef MIXLOSS_ENUM
};

constexpr int kLossKindCount = 0
#define MIXLOSS_COUNT(K) +1
    MIXLOSS_LOSS_KINDS(MIXLOSS_COUNT)
#undef MIXLOSS_COUNT
    ;

// Calls f(K{}) with the kind's struct (losses::K): the dispatch, on host and device.
template <typename F>
MIXLOSS_HD auto visit_kind(LossKind kind, F&& f) -> decltype(f(losses::Mixed{})) {
  switch (kind) {
#define MIXLOSS_CASE(K) \
  case LossKind::k##K: return f(losses::K{});
    MIXLOSS_LOSS_KINDS(MIXLOSS_CASE)
#undef MIXLOSS_CASE
  }
  return f(losses::Mixed{});  // unreachable: kinds are checked where they are parsed
}

// The row statistics a kind needs beyond the base ones.
MIXLOSS_HD unsigned kind_needs(LossKind kind) {
  return visit_kind(kind, [](auto k) { return decltype(k)::kNeeds; });
}

}  // namespace mixloss
