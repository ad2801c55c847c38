// What a kernel call computes: the loss kind, its named parameters and the options every kind
// takes. Parsed once from a named object at the N-API boundary (addon/loss_spec_parse.h);
// the kinds and which parameters each reads are listed in losses/registry.h.
#pragma once

#include <cstdint>

namespace mixloss {

enum class LossKind : int32_t;  // defined by losses/registry.h from the list of kinds

struct LossParams {
  LossKind kind;
  // Named parameters; each kind reads its own (its header lists them with their ranges).
  float alpha = 1.0f;       // mixed: weight of CE; focal: global scale
  float beta = 0.0f;        // mixed: weight of EL
  float gamma = 2.0f;       // focal
  float q = 0.7f;           // generalizedCE: exponent
  float truncation = 0.0f;  // generalizedCE: threshold k (0: none)
  float a = 0.5f;           // tamedCE
  // Options of every kind.
  float z_loss = 0.0f;           // + z_loss·lse² per row (PaLM, Liger)
  float label_smoothing = 0.0f;  // class ids: targets (1 − ε)·onehot + ε/C (kinds linear in the targets)
  bool has_ignore_index = false;
  int64_t ignore_index = -100;  // rows with this class id add nothing and get a zero gradient
  float softcap = 0.0f;         // > 0 (the fused head, which applies it in its tiles): the loss sees softcap·tanh(q/softcap)
};

// Row statistics beyond the base ones that a kind (or an option) needs the pass to collect;
// the kernels are specialized on them, so plain CE runs the plain loops. X(Name, bit, "js name"):
// the enum below, the statistics passes instantiated (needs_dispatch.h) and the names the addon
// reports to TypeScript (lossKinds()) all come from this list.
#define MIXLOSS_NEEDS(X)                                                                                \
  X(Argmax, 1u, "argmax")     /* k = argmax_j q_j (first on ties): MPCE */                              \
  X(Targets, 2u, "targets")   /* Σ t·q, Σ t, Σ t·e against a vector t: dense targets, smoothing */ \
  X(ExpLogit, 4u, "expLogit") /* Σ e_j (q_j − max) over the other classes: complement entropy */

enum Needs : unsigned {
#define MIXLOSS_NEED_ENUM(N, bit, js) kNeed##N = bit,
  MIXLOSS_NEEDS(MIXLOSS_NEED_ENUM)
#undef MIXLOSS_NEED_ENUM
};

// Every bit of the list set.
constexpr unsigned kAllNeeds = 0u
#define MIXLOSS_NEED_OR(N, bit, js) | bit
    MIXLOSS_NEEDS(MIXLOSS_NEED_OR)
#undef MIXLOSS_NEED_OR
    ;

}  // namespace mixloss
