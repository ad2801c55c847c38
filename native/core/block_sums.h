// What one block's sums come back as, from the compiler's clones (row_blocks.cpp) and the
// AVX-512 loops (row_blocks_avx512.cpp) alike; row_blocks.cpp adds them into the row's Partial
// in one place each.
#pragma once

#include "accumulator.h"

namespace mixloss {

// Dense targets t: Σ e, Σ t·e and min t (float lanes), Σ t·x and Σ t (double), e = exp(x − m).
struct DenseSums {
  float sum, t_exp, t_min;
  double t_logit, mass;
};

inline void add_sums(Partial& acc, const DenseSums& r) {
  if (r.t_min < acc.t_min) acc.t_min = r.t_min;
  acc.sum += r.sum;
  acc.t_exp += r.t_exp;
  acc.t_logit += r.t_logit;
  acc.mass += r.mass;
}

// Complement entropy's: Σ e (float lanes) and Σ e·(x − m) (double), e = exp(x − m).
struct ExpLogitSums {
  float sum;
  double e_logit;
};

inline void add_sums(Partial& acc, const ExpLogitSums& r) {
  acc.sum += r.sum;
  acc.e_logit += r.e_logit;
}

}  // namespace mixloss
