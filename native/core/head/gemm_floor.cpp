// The head's GEMM floor (gemm_floor.h): head.cpp's shard_backward with the row loops taken out.
#include "gemm_floor.h"

#include <algorithm>
#include <vector>

#include "gemm.h"
#include "tiles.h"

namespace mixloss {
namespace head {

void gemm_floor(const float* hidden, const float* kernel, int64_t rows, int64_t dims, int64_t classes, float* grad_hidden,
                float* grad_kernel) {
  const Split s = split(classes);
  std::vector<float> dh(static_cast<size_t>(s.tasks * rows * dims), 0.0f);
  ThreadPool::instance().parallel_for(s.chunks, s.grain, [&](int64_t k0, int64_t k1) {
    float* dh_task = dh.data() + (k0 / s.grain) * rows * dims;
    float* z = tile_buffer(0);
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t c0 = k * kChunk, n = std::min(kChunk, classes - c0);
      for (int64_t d = 0; d < dims; ++d) std::fill(grad_kernel + d * classes + c0, grad_kernel + d * classes + c0 + n, 0.0f);
      for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const int64_t m = std::min(kRowBlock, rows - r0);
        gemm_ab(hidden + r0 * dims, dims, kernel + c0, classes, z, n, m, n, dims, nullptr);
        gemm_atb_add(hidden + r0 * dims, dims, z, n, grad_kernel + c0, classes, m, n, dims);
        gemm_abt_add(z, n, kernel + c0, classes, dh_task + r0 * dims, dims, m, n, dims);
      }
    }
  });
  for (int64_t r = 0; r < rows * dims; ++r) {
    float v = dh[r];
    for (int64_t t = 1; t < s.tasks; ++t) v += dh[t * rows * dims + r];
    grad_hidden[r] = v;
  }
}

}  // namespace head
}  // namespace mixloss
