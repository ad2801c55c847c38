#!/usr/bin/env bash
# libFuzzer over the native core's entry points (native/fuzz/fuzz_losses.cpp), with ASan and
# UBSan (issue 12). Needs clang (Debian: apt-get install clang).
#
#   scripts/fuzz.sh [SECONDS]   run that long (default 60) from the kept corpus; a crash or a
#                               broken invariant fails, and its input is written to build-fuzz/
#   scripts/fuzz.sh --merge N   run N seconds and merge what was new into native/fuzz/corpus
#   scripts/fuzz.sh --replay    run every kept input (corpus and regressions) once
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang++ > /dev/null || { echo "scripts/fuzz.sh needs clang: apt-get install clang" >&2; exit 1; }
mkdir -p build-fuzz
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined,float-cast-overflow -fno-sanitize-recover=all -fopenmp-simd \
  -Wno-pass-failed -Inative/core native/fuzz/fuzz_losses.cpp native/core/fused_loss.cpp native/core/row_blocks.cpp \
  native/core/row_plan.cpp native/core/thread_pool.cpp -o build-fuzz/fuzz_losses -lpthread
corpus=native/fuzz/corpus
regressions=native/fuzz/regressions
run=(./build-fuzz/fuzz_losses -rss_limit_mb=4096 -artifact_prefix=build-fuzz/)
case "${1:-}" in
  --replay)
    "${run[@]}" -runs=0 "$corpus" "$regressions"
    ;;
  --merge)
    work="$(mktemp -d)"
    "${run[@]}" -max_total_time="${2:-600}" "$work" "$corpus" "$regressions"
    "${run[@]}" -merge=1 "$corpus" "$work"
    ;;
  *)
    # New inputs go to a scratch directory (the first one); the kept corpus is only read.
    work="$(mktemp -d)"
    "${run[@]}" -max_total_time="${1:-60}" -print_final_stats=1 "$work" "$corpus" "$regressions"
    ;;
esac
