#include "thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace mixloss {

namespace {
int default_threads() {
  if (const char* env = std::getenv("MIXLOSS_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}
}  // namespace

ThreadPool& ThreadPool::instance() {
  // Never destroyed: Node may unload the addon with its own exit path, and the cleanup
  // hook stops the workers first.
  static ThreadPool* pool = new ThreadPool(default_threads());
  return *pool;
}

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { shutdown(); }

void ThreadPool::start(int threads) {
  stopping_ = false;
  for (int i = 1; i < threads; ++i) {
    const uint64_t seen = generation_;
    workers_.emplace_back([this, seen] { worker_loop(seen); });
  }
}

void ThreadPool::shutdown() {
  std::lock_guard<std::mutex> call(call_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::resize(int threads) {
  threads = std::max(1, threads);
  if (threads == size()) return;
  shutdown();
  std::lock_guard<std::mutex> call(call_mutex_);
  start(threads);
}

void ThreadPool::run_chunks() {
  for (;;) {
    const int64_t begin = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (begin >= n_) return;
    (*fn_)(begin, std::min(n_, begin + grain_));
  }
}

void ThreadPool::worker_loop(uint64_t seen) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    run_chunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (++finished_workers_ == static_cast<int>(workers_.size())) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  std::unique_lock<std::mutex> call(call_mutex_, std::try_to_lock);
  if (!call.owns_lock() || workers_.empty() || n <= grain) {
    fn(0, n);  // busy (re-entrant or concurrent caller), single-threaded, or too small
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    n_ = n;
    grain_ = grain;
    next_.store(0, std::memory_order_relaxed);
    finished_workers_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  std::unique_lock<std::mutex> lock(mutex_);
  // Every worker checks in for every loop, so none can still be reading this loop's state
  // (or calling fn) when the next loop overwrites it.
  done_.wait(lock, [&] { return finished_workers_ == static_cast<int>(workers_.size()); });
  fn_ = nullptr;
}

}  // namespace mixloss
