#!/usr/bin/env bash
# The CPU kernels' thread pool (native/core/thread_pool.cpp) under ThreadSanitizer, on its own:
# a Node process cannot load a TSan build of the addon (V8 is not instrumented). Fails on any
# report or on an index visited other than once (native/test/thread_pool_stress.cpp).
#   scripts/tsan-pool.sh [threads] [loops]     default 8 threads, 20000 loops
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
g++ -std=c++17 -O1 -g -fsanitize=thread -Inative/core native/test/thread_pool_stress.cpp native/core/thread_pool.cpp \
  native/core/cpu_limits.cpp -o "$out/thread_pool_stress" -lpthread
for threads in 2 3 "${1:-8}"; do
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$out/thread_pool_stress" "$threads" "${2:-20000}"
done
rm -rf "$out"
