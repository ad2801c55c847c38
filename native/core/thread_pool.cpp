#include "thread_pool.h"

#include "cpu_limits.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace mixloss {

namespace {
// How long a worker spins for the next loop before it sleeps, and the caller for the workers to
// finish before it sleeps: long enough to span the JavaScript between the kernels of one
// training step, short enough that an idle process uses no CPU (docs/benchmarks.md).
constexpr auto kSpin = std::chrono::microseconds(200);
constexpr auto kCallerSpin = std::chrono::microseconds(50);

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or `limit` has passed; whether done() became true.
template <typename F>
bool spin_until(F&& done, std::chrono::microseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
    relax();
  }
}

// The CPUs this process may use (its affinity and its cgroup's quota), capped.
int hardware_threads() { return std::min(usable_cpus(cpu_limits()), ThreadPool::kMaxThreads); }

// MIXLOSS_NUM_THREADS when it is an integer in [1, kMaxThreads]; otherwise a warning and
// the CPUs this process may use (larger values are capped).
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
    const uint64_t seen = generation();
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

// A worker joins the loop `number` if it is still open: it then counts in the gate until it
// leaves, and the caller waits for it. A loop already closed (the caller finished while this
// worker waited for a core) or replaced by a later one is not joined.
bool ThreadPool::join(uint64_t number) {
  uint64_t g = gate_.load(std::memory_order_acquire);
  for (;;) {
    if ((g >> kGenerationShift) != number || (g & kClosed) != 0) return false;
    if (gate_.compare_exchange_weak(g, g + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  }
}

void ThreadPool::worker_loop(uint64_t seen) {
  for (;;) {
    // A short spin first: the next loop of the same training step comes within microseconds.
    if (!spin_until([&] { return stopping_.load(std::memory_order_acquire) || generation() != seen; }, kSpin)) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_.load() || generation() != seen; });
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation();
    if (!join(seen)) continue;
    run_chunks();
    // Leaving (release: the caller that sees the count fall sees this worker's writes). The last
    // one out of a closed loop wakes its caller, under the mutex: a caller that found the count
    // short and is about to sleep gets this.
    const uint64_t left = gate_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if ((left & kClosed) != 0 && (left & kCountMask) == 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
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
  const uint64_t next = (generation() + 1) & (~uint64_t{0} >> kGenerationShift);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    n_ = n;
    grain_ = grain;
    next_.store(0, std::memory_order_relaxed);
    // Published and open to workers (release: a worker that joins sees the loop's state).
    gate_.store(next << kGenerationShift, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks();
  // Closed: a worker that has not joined by now never reads this loop's state. Those that did
  // are waited for, so none can still be calling fn (or reading the loop) when the next loop
  // overwrites it.
  const uint64_t at_close = gate_.fetch_or(kClosed, std::memory_order_acq_rel) | kClosed;
  if ((at_close & kCountMask) != 0) {
    const auto all_out = [&] { return (gate_.load(std::memory_order_acquire) & kCountMask) == 0; };
    if (!spin_until(all_out, kCallerSpin)) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, all_out);
    }
  }
  fn_ = nullptr;
}

}  // namespace mixloss
