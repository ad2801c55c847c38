// The statistics passes a backend instantiates, generated from the registry: one for each set of
// needs (loss_spec.h) a call can ask for, which is a kind's own kNeeds, plus kNeedTargets for a
// kind linear in the targets (dense targets, label smoothing). A new kind, or a new need, adds
// its passes here by itself. Host code (the CPU backend, and the CUDA backend's launches).
#pragma once

#include <stdexcept>
#include <type_traits>
#include <utility>

#include "losses/registry.h"

namespace mixloss {

// Whether some call can ask for a statistics pass with exactly these needs.
constexpr bool needs_reachable(unsigned needs) {
  return false
#define MIXLOSS_REACHABLE(K) || needs == losses::K::kNeeds || (losses::K::kLinear && needs == (losses::K::kNeeds | kNeedTargets))
      MIXLOSS_LOSS_KINDS(MIXLOSS_REACHABLE)
#undef MIXLOSS_REACHABLE
          ;
}

// Calls f(std::integral_constant<unsigned, needs>{}): the pass specialized on what the kind and
// the options need, so plain CE runs the plain loops. Only reachable sets are instantiated.
template <unsigned kCandidate = 0, typename F>
void with_needs(unsigned needs, F&& f) {
  if constexpr (kCandidate > kAllNeeds) {
    throw std::logic_error("mixloss: no kind of the registry asks for this combination of row statistics");
  } else {
    if constexpr (needs_reachable(kCandidate)) {
      if (needs == kCandidate) {
        f(std::integral_constant<unsigned, kCandidate>{});
        return;
      }
    }
    with_needs<kCandidate + 1>(needs, std::forward<F>(f));
  }
}

}  // namespace mixloss
