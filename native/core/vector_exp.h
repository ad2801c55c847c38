// exp for the row loops: one name, mixloss_expf, that GCC vectorizes through the x86 vector
// function ABI (the `simd` declaration below), so each clone of a loop (target_clones) calls the
// 4-, 8- or 16-lane variant of vector_exp.cpp. glibc declares its own `simd` expf only under
// -ffast-math, which would also assume no infinities and break −∞ logits; declaring ours keeps
// full IEEE semantics with -O3 -fno-math-errno -fopenmp-simd. `const` (a function of its argument
// only, as GCC takes expf to be without errno) lets loops with a branch on its result vectorize.
// GCC on x86-64 glibc only: clang, which builds the fuzz target, and other platforms call the
// scalar mixloss_expf, glibc's expf.
#pragma once

#if defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__)
extern "C" float mixloss_expf(float) noexcept __attribute__((__const__, __simd__("notinbranch")));
#define MIXLOSS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
extern "C" float mixloss_expf(float) noexcept __attribute__((__const__));
#define MIXLOSS_CLONES
#endif
