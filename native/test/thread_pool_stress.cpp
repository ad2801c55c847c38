// The thread pool under ThreadSanitizer (scripts/tsan-pool.sh): many loops of varied sizes and
// grains, more threads than cores (so workers often reach a loop after its caller closed it), and
// resizes between them. Each index must be visited exactly once, and no worker may still be in a
// loop's function (or touch its memory) after parallel_for returns: the loop's memory is freed
// right after, where TSan reports any late access as a race.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "thread_pool.h"

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  const int loops = argc > 2 ? std::atoi(argv[2]) : 20000;
  auto& pool = mixloss::ThreadPool::instance();
  pool.resize(threads);
  long wrong = 0;
  for (int it = 0; it < loops; ++it) {
    const int64_t n = 1 + (static_cast<int64_t>(it) * 7919) % 10000;
    const int64_t grain = 1 + it % 97;
    // Plain ints: each index is written by exactly one thread, and read here after the loop.
    std::unique_ptr<int[]> hits(new int[n]());
    pool.parallel_for(n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) hits[i] += 1;
    });
    for (int64_t i = 0; i < n; ++i) wrong += hits[i] != 1;
    if (it % 5000 == 4999) pool.resize(1 + it % threads);
  }
  std::printf("thread pool: %d loops on %d threads (resized along the way), %ld indices visited other than once\n", loops, threads, wrong);
  pool.shutdown();
  return wrong == 0 ? 0 : 1;
}
