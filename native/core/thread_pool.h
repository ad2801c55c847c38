// A persistent pool of worker threads for the CPU kernels.
//
// Workers sleep on a condition variable between calls, so a kernel pays a wake-up rather
// than a thread start; after a loop they first spin for a short, bounded time (kSpin), so that
// the next kernel of the same training step (tfjs runs several within tens of microseconds)
// finds them awake. An idle pool sleeps. The calling thread works too. A second caller that
// arrives while the pool is busy (another Node worker thread, say) runs its loop inline rather
// than wait.
//
// A loop waits only for the workers that joined it. A worker the OS has not run yet (on a machine
// whose cores are all busy: the process's own JavaScript and the engine's garbage collector,
// say) finds the loop closed when it gets a core and waits for the next one: the caller takes the
// chunks that worker would have taken instead of sleeping until the OS schedules it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mixloss {

class ThreadPool {
 public:
  // The most threads a pool runs (MIXLOSS_NUM_THREADS and resize are capped to it).
  static constexpr int kMaxThreads = 1024;

  // The process-wide pool, sized by MIXLOSS_NUM_THREADS or the CPUs this process may use
  // (cpu_limits.h: its affinity, and its cgroup's quota rounded up). When
  // the system refuses a thread, the pool runs with those it could start (with a warning).
  static ThreadPool& instance();

  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total threads that work on a loop, the caller included.
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Restarts the pool with `threads` (clamped to [1, kMaxThreads]); returns the size it got.
  int resize(int threads);

  // Calls fn(begin, end) on disjoint ranges covering [0, n), `grain` items at a time.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Stops the workers (Node's environment cleanup calls this before the addon unloads).
  void shutdown();

 private:
  explicit ThreadPool(int threads);
  void start(int threads);
  void worker_loop(uint64_t seen);
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one loop at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<bool> stopping_{false};
  // The loop's gate: its number (high bits; published after the loop's state, and read by spinning
  // workers without the mutex), whether it is closed to workers that have not joined yet
  // (kClosed), and how many joined workers are still in it (low bits).
  static constexpr uint64_t kClosed = uint64_t{1} << 15;
  static constexpr uint64_t kCountMask = kClosed - 1;
  static constexpr int kGenerationShift = 16;
  static_assert(kMaxThreads < static_cast<int>(kCountMask), "the gate counts every worker");
  std::atomic<uint64_t> gate_{kClosed};
  // The number of the loop published last.
  uint64_t generation() const { return gate_.load(std::memory_order_acquire) >> kGenerationShift; }
  bool join(uint64_t number);

  // The loop in flight.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace mixloss
