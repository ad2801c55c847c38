#include "memory_baseline.h"

#include <algorithm>
#include <cmath>

#include "thread_pool.h"

namespace mixloss {

namespace {
float row_max(const float* x, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

float row_sum(const float* x, int64_t n, float m) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) s += x[j] - m;
  return s;
}

void row_write(const float* x, int64_t n, float m, float s, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) out[j] = (x[j] - m) * s;
}
}  // namespace

void three_pass_memory_loop(const float* x, int64_t rows, int64_t classes, float* out) {
  // The same cut as the kernels: whole rows, or column slices of a few long rows.
  ThreadPool& pool = ThreadPool::instance();
  const int64_t threads = pool.size();
  const int64_t parts = rows >= 4 * threads ? 1 : std::max<int64_t>(1, std::min<int64_t>((4 * threads + rows - 1) / rows, classes >> 14));
  const int64_t slice = (classes + parts - 1) / parts;
  pool.parallel_for(rows * parts, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t / parts, c0 = (t % parts) * slice, n = std::min(classes, c0 + slice) - c0;
      if (n <= 0) continue;
      const float* row = x + r * classes + c0;
      const float m = row_max(row, n);
      const float s = row_sum(row, n, m);
      row_write(row, n, m, 1.0f / (1.0f + std::fabs(s)), out + r * classes + c0);
    }
  });
}

}  // namespace mixloss
