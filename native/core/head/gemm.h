// The three matrix products of the fused classifier head, on one tile each, single-threaded (the
// head splits the work over mixloss's pool itself). Row-major float32 with explicit leading
// dimensions. Each is built per instruction set (gemm_impl.h: baseline, AVX2 + FMA, AVX-512) and
// the fastest one this CPU runs is picked once (gemm.cpp), as the information measures do.
#pragma once

#include <cstdint>

namespace mixloss {
namespace head {

// Z[m × n] = A[m × k] · B[k × n] (+ bias[n] when not null).  lda, ldb, ldz: row strides.
void gemm_ab(const float* a, int64_t lda, const float* b, int64_t ldb, float* z, int64_t ldz, int64_t m, int64_t n, int64_t k,
             const float* bias);

// C[m × k] += A[m × n] · B[k × n]ᵀ   (the hidden's gradient: G · W_chunkᵀ)
void gemm_abt_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k);

// C[k × n] += A[m × k]ᵀ · B[m × n]   (the kernel's gradient: Hᵀ · G)
void gemm_atb_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k);

// The instruction set the products run with here: "avx512", "avx2" or "baseline".
const char* gemm_isa();

}  // namespace head
}  // namespace mixloss
