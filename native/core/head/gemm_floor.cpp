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
  for_each_block(rows, classes, s, [&](int64_t task, int64_t c0, int64_t n, int64_t r0, int64_t m) {
    float* z = tile_buffer(0);
    float* dh_task = dh.data() + task * rows * dims;
    if (r0 == 0)
      for (int64_t d = 0; d < dims; ++d) std::fill(grad_kernel + d * classes + c0, grad_kernel + d * classes + c0 + n, 0.0f);
    gemm_ab(hidden + r0 * dims, dims, kernel + c0, classes, z, n, m, n, dims, nullptr);
    gemm_atb_add(hidden + r0 * dims, dims, z, n, grad_kernel + c0, classes, m, n, dims);
    gemm_abt_add(z, n, kernel + c0, classes, dh_task + r0 * dims, dims, m, n, dims);
  });
  sum_task_parts(dh, s.tasks, rows, dims, grad_hidden);
}

}  // namespace head
}  // namespace mixloss
