#include "thread_pool.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace mixloss {

namespace {
int hardware_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, ThreadPool::kMaxThreads));
}

// MIXLOSS_NUM_THREADS when it is an integer in [1, kMaxThreads]; otherwise a warning and
// the hardware's concurrency (larger values are capped).
int default_threads() {
  const char* env = std::getenv("MIXLOSS_NUM_THREADS");
  if (env == nullptr || *env == '\0') return hardware_threads();
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(env, &end, 10);
  if (end == env || *end != '\0' || errno == ERANGE || n < 1) {
    std::fprintf(stderr, "mixloss: ignoring MIXLOSS_NUM_THREADS=%s (not a positive integer); using %d threads\n", env, hardware_threads());
    return hardware_threads();
  }
  if (n > ThreadPool::kMaxThreads) {
    std::fprintf(stderr, "mixloss: MIXLOSS_NUM_THREADS=%s is above the limit; using %d threads\n", env, ThreadPool::kMaxThreads);
    return ThreadPool::kMaxThreads;
  }
  return static_cast<int>(n);
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
  stopping_ = false;  // threads is in [1, kMaxThreads]: default_threads() and resize() bound it
  for (int i = 1; i < threads; ++i) {
    const uint64_t seen = generation_;
    try {
      workers_.emplace_back([this, seen] { worker_loop(seen); });
    } catch (const std::exception& e) {
      // No thread (address space, ulimit -u, cgroup pids limit): run with the ones we have.
      std::fprintf(stderr, "mixloss: could not start thread %d of %d (%s); running with %d\n", i + 1, threads, e.what(), i);
      break;
    }
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

int ThreadPool::resize(int threads) {
  threads = std::min(std::max(1, threads), kMaxThreads);
  if (threads == size()) return threads;
  shutdown();
  std::lock_guard<std::mutex> call(call_mutex_);
  start(threads);
  return size();
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

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
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
