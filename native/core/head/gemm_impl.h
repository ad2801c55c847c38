// The head's tile products on Eigen, once per instruction set (gemm_base.cpp, gemm_avx2.cpp,
// gemm_avx512.cpp) inside namespace MIXLOSS_HEAD_ISA; the vector builds rename Eigen's namespace
// too, so no template instantiation is shared between them (CMake checks it). Eigen runs
// single-threaded here (the addon does not enable OpenMP). Not a normal header: no include guard.
#ifndef MIXLOSS_HEAD_ISA
#error "define MIXLOSS_HEAD_ISA (gemm_base.cpp, gemm_avx2.cpp, gemm_avx512.cpp) before including gemm_impl.h"
#endif

#include <Eigen/Core>

#include <cstdint>

namespace mixloss {
namespace head {
namespace MIXLOSS_HEAD_ISA {

namespace {
using Rows = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const Rows, Eigen::Unaligned, Eigen::OuterStride<>>;
using Map = Eigen::Map<Rows, Eigen::Unaligned, Eigen::OuterStride<>>;
}  // namespace

void gemm_ab(const float* a, int64_t lda, const float* b, int64_t ldb, float* z, int64_t ldz, int64_t m, int64_t n, int64_t k,
             const float* bias) {
  Map out(z, m, n, Eigen::OuterStride<>(ldz));
  out.noalias() = ConstMap(a, m, k, Eigen::OuterStride<>(lda)) * ConstMap(b, k, n, Eigen::OuterStride<>(ldb));
  if (bias != nullptr) out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias, n);
}

void gemm_abt_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k) {
  Map(c, m, k, Eigen::OuterStride<>(ldc)).noalias() +=
      ConstMap(a, m, n, Eigen::OuterStride<>(lda)) * ConstMap(b, k, n, Eigen::OuterStride<>(ldb)).transpose();
}

void gemm_atb_add(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k) {
  Map(c, k, n, Eigen::OuterStride<>(ldc)).noalias() +=
      ConstMap(a, m, k, Eigen::OuterStride<>(lda)).transpose() * ConstMap(b, m, n, Eigen::OuterStride<>(ldb));
}

}  // namespace MIXLOSS_HEAD_ISA
}  // namespace head
}  // namespace mixloss
