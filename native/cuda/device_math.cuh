// Device code the CUDA kernels share (the losses' and the head's): a Partial shuffled across
// lanes and reduced over a warp, and soft-capping with its chain factor.
#pragma once

#include <cuda_runtime.h>

#include <cstring>
#include <type_traits>

#include "../core/accumulator.h"

namespace mixloss {
namespace cuda {

// A value from the lane `offset` above, any trivially copyable struct: each of its 32-bit words
// shuffled (CUB's way), so a field added to Partial needs nothing here.
template <typename T>
__device__ __forceinline__ T shuffle_down(const T& value, int offset) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) % 4 == 0, "shuffled a 32-bit word at a time");
  constexpr int kWords = sizeof(T) / 4;
  unsigned words[kWords];
  memcpy(words, &value, sizeof(T));
#pragma unroll
  for (int i = 0; i < kWords; ++i) words[i] = __shfl_down_sync(0xffffffffu, words[i], offset);
  T r;
  memcpy(&r, words, sizeof(T));
  return r;
}
// Padding would be shuffled too: keep Partial's fields ordered without it (14 words).
static_assert(sizeof(Partial) == 56, "Partial has padding or new fields: check its field order (accumulator.h)");

__device__ __forceinline__ Partial warp_reduce(Partial a) {
  for (int offset = 16; offset > 0; offset >>= 1) merge(a, shuffle_down(a, offset));
  return a;
}

// Soft-capping (LossParams::softcap > 0): the loss sees cap·tanh(q/cap); a −∞ logit (a masked
// class) stays −∞ and NaN stays NaN, as on the CPU.
__device__ __forceinline__ float capped(float q, float cap) { return cap > 0.0f && q != -INFINITY && q == q ? cap * tanhf(q / cap) : q; }

// Its chain factor 1 − tanh²(q/cap) as 4s/(1 + s)², s = exp(−2|q/cap|): no cancellation where
// tanh saturates (1 − t² from a float t keeps no digit there). 1 without softcap.
__device__ __forceinline__ double chain(float q, float cap) {
  if (!(cap > 0.0f)) return 1.0;
  const double s = exp(-2.0 * fabs(static_cast<double>(q) / cap));
  return 4.0 * s / ((1.0 + s) * (1.0 + s));
}
__device__ __forceinline__ float chain_f(float q, float cap) {
  const float s = expf(-2.0f * fabsf(q / cap));
  const float d = 1.0f + s;
  return 4.0f * s / (d * d);
}

}  // namespace cuda
}  // namespace mixloss
