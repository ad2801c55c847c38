#include "memory_baseline.h"

#include <cmath>

#include "row_plan.h"

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
  for_each_slice(make_plan(rows, classes), [&](const Slice& sl) {
    const float* row = x + sl.row * classes + sl.begin;
    const int64_t n = sl.end - sl.begin;
    const float m = row_max(row, n);
    const float s = row_sum(row, n, m);
    row_write(row, n, m, 1.0f / (1.0f + std::fabs(s)), out + sl.row * classes + sl.begin);
  });
}

}  // namespace mixloss
