// The information measures' entry points (renyi.h): each calls the build for this CPU's
// instruction set, AVX2 + FMA where the CPU has them (renyi_avx2.cpp), the baseline otherwise
// (renyi_base.cpp). Eigen's solver and products run 1.6–2.3× faster with AVX2 + FMA (measured at
// N = 256…1024 in docs/information.md). MIXLOSS_INFORMATION_ISA=baseline forces the baseline.
#include "renyi.h"

#include <cstdlib>
#include <cstring>

namespace mixloss {
namespace information {

#define MIXLOSS_INFO_DECLARE(ns)                                                                          \
  namespace ns {                                                                                          \
  Entropies mutual_information(const ClassLabels& y, const Layer& z, const Options& o, float* grad);      \
  double entropy(const Layer& z, const Options& o, float* grad);                                          \
  void alignment(const ClassLabels& y, const Layer& z, const double* widths, int64_t count, double* out); \
  double mean_pairwise_distance(const Layer& z);                                                          \
  void symmetric_eigen(const double* a, int64_t n, double* values, double* vectors);                      \
  }
MIXLOSS_INFO_DECLARE(base)
#if defined(MIXLOSS_INFO_AVX2)
MIXLOSS_INFO_DECLARE(avx2)
#endif

namespace {

// AVX2 + FMA build when the CPU has both and MIXLOSS_INFORMATION_ISA is not "baseline"; decided once.
bool use_avx2() {
#if defined(MIXLOSS_INFO_AVX2)
  static const bool avx2 = [] {
    const char* forced = std::getenv("MIXLOSS_INFORMATION_ISA");
    if (forced != nullptr && std::strcmp(forced, "baseline") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return avx2;
#else
  return false;
#endif
}

}  // namespace

const char* isa() { return use_avx2() ? "avx2" : "baseline"; }

#if defined(MIXLOSS_INFO_AVX2)
#define MIXLOSS_INFO_CALL(fn, ...) (use_avx2() ? avx2::fn(__VA_ARGS__) : base::fn(__VA_ARGS__))
#else
#define MIXLOSS_INFO_CALL(fn, ...) base::fn(__VA_ARGS__)
#endif

Entropies mutual_information(const ClassLabels& y, const Layer& z, const Options& o, float* grad) {
  return MIXLOSS_INFO_CALL(mutual_information, y, z, o, grad);
}
double entropy(const Layer& z, const Options& o, float* grad) { return MIXLOSS_INFO_CALL(entropy, z, o, grad); }
void alignment(const ClassLabels& y, const Layer& z, const double* widths, int64_t count, double* out) {
  MIXLOSS_INFO_CALL(alignment, y, z, widths, count, out);
}
double mean_pairwise_distance(const Layer& z) { return MIXLOSS_INFO_CALL(mean_pairwise_distance, z); }
void symmetric_eigen(const double* a, int64_t n, double* values, double* vectors) {
  MIXLOSS_INFO_CALL(symmetric_eigen, a, n, values, vectors);
}

}  // namespace information
}  // namespace mixloss
