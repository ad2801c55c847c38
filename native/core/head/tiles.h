// How the head cuts its work: classes in chunks of kChunk, taken by the pool's tasks in runs of
// `grain` chunks; rows in blocks of kRowBlock; one tile of logits per block and chunk, in a
// buffer each pool thread keeps across calls.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "../thread_pool.h"

namespace mixloss {
namespace head {

constexpr int64_t kChunk = 512;    // classes per tile
constexpr int64_t kRowBlock = 64;  // rows per tile: 128 KiB of logits, in L2

// The pool's tasks over the chunks: about four per thread, each a run of `grain` chunks.
struct Split {
  int64_t chunks, grain, tasks;
};

inline Split split(int64_t classes) {
  const int64_t chunks = (classes + kChunk - 1) / kChunk;
  const int64_t want = int64_t{ThreadPool::instance().size()} * 4;
  const int64_t grain = std::max<int64_t>(1, (chunks + want - 1) / want);
  return {chunks, grain, (chunks + grain - 1) / grain};
}

// Calls fn(task, c0, n, r0, m) on every block of rows [r0, r0 + m) × classes [c0, c0 + n): each
// pool task takes its run of chunks in order, and each chunk's row blocks in order, so a chunk's
// columns are only ever touched by the task that owns it.
template <typename F>
void for_each_block(int64_t rows, int64_t classes, const Split& s, F&& fn) {
  ThreadPool::instance().parallel_for(s.chunks, s.grain, [&](int64_t k0, int64_t k1) {
    const int64_t task = k0 / s.grain;
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t c0 = k * kChunk, n = std::min(kChunk, classes - c0);
      for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) fn(task, c0, n, r0, std::min(kRowBlock, rows - r0));
    }
  });
}

// The tasks' parts of a [rows, dims] gradient (parts: [task][rows][dims]) summed in task order
// into out: the same result on any thread count.
inline void sum_task_parts(const std::vector<float>& parts, int64_t tasks, int64_t rows, int64_t dims, float* out) {
  ThreadPool::instance().parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(dims, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* o = out + r * dims;
      std::copy(parts.data() + r * dims, parts.data() + (r + 1) * dims, o);
      for (int64_t t = 1; t < tasks; ++t) {
        const float* part = parts.data() + (t * rows + r) * dims;
        for (int64_t d = 0; d < dims; ++d) o[d] += part[d];
      }
    }
  });
}

// A tile's buffer (three per pool thread: logits, gradient, and the uncapped logits with softcap),
// reused across calls.
inline float* tile_buffer(int which) {
  thread_local std::vector<float> tiles[3];
  auto& t = tiles[which];
  if (t.size() < static_cast<size_t>(kRowBlock * kChunk)) t.resize(static_cast<size_t>(kRowBlock * kChunk));
  return t.data();
}

}  // namespace head
}  // namespace mixloss
