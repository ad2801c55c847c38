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

// A tile's buffer (two per pool thread: logits and gradient), reused across calls.
inline float* tile_buffer(int which) {
  thread_local std::vector<float> tiles[2];
  auto& t = tiles[which];
  if (t.size() < static_cast<size_t>(kRowBlock * kChunk)) t.resize(static_cast<size_t>(kRowBlock * kChunk));
  return t.data();
}

}  // namespace head
}  // namespace mixloss
