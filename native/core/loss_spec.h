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
  int64_t ignore_index = -100;   // rows with this class id add nothing and get a zero gradient
};

// Row statistics beyond the base ones that a kind (or an option) needs the pass to collect;
// the kernels are specialized on them, so plain CE pays for none.
enum Needs : unsigned {
  kNeedArgmax = 1u,   // k = argmax_j q_j (first on ties): MPCE
  kNeedTargets = 2u,  // Σ t·q, Σ t, Σ t·e against a vector t: dense targets, label smoothing
  kNeedExpLogit = 4u, // Σ e_j (q_j − max) over the other classes: complement entropy
};

}  // namespace mixloss
