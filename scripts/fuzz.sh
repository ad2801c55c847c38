#!/usr/bin/env bash
# libFuzzer over the native core's entry points (native/fuzz/fuzz_losses.cpp, and the information
# measures: fuzz_information.cpp), with ASan and UBSan. Needs clang (Debian: apt-get
# install clang) and Eigen's headers.
#
#   scripts/fuzz.sh [SECONDS]   run that long (default 60) from the kept corpus; a crash or a
#                               broken invariant fails, and its input is written to build-fuzz/
#   scripts/fuzz.sh --merge N   run N seconds and merge what was new into the kept corpora
#   scripts/fuzz.sh --replay    run every kept input (corpus and regressions) once
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang++ > /dev/null || { echo "scripts/fuzz.sh needs clang: apt-get install clang" >&2; exit 1; }
mkdir -p build-fuzz
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined,float-cast-overflow -fno-sanitize-recover=all -fopenmp-simd \
  -Wno-pass-failed -Inative/core native/fuzz/fuzz_losses.cpp native/core/fused_loss.cpp native/core/row_blocks.cpp \
  native/core/row_blocks_avx2.cpp native/core/row_blocks_avx512.cpp native/core/row_plan.cpp native/core/cpu_limits.cpp native/core/thread_pool.cpp native/core/vector_exp.cpp -o build-fuzz/fuzz_losses -lpthread
# The information measures' AVX2 build is its own object (its own flags), as in CMakeLists.txt.
sanitizers=(-fsanitize=fuzzer,address,undefined,float-cast-overflow -fno-sanitize-recover=all -Wno-pass-failed)
clang++ -std=c++17 -O1 -g "${sanitizers[@]/fuzzer,/fuzzer-no-link,}" -mavx2 -mfma -Inative/core -I/usr/include/eigen3 \
  -ffp-contract=off -c native/core/information/renyi_avx2.cpp -o build-fuzz/renyi_avx2.o
clang++ -std=c++17 -O1 -g "${sanitizers[@]}" -DMIXLOSS_INFO_AVX2 -Inative/core -I/usr/include/eigen3 native/fuzz/fuzz_information.cpp \
  native/core/information/renyi.cpp native/core/information/renyi_base.cpp build-fuzz/renyi_avx2.o native/core/cpu_limits.cpp native/core/thread_pool.cpp \
  -o build-fuzz/fuzz_information -lpthread
# Two targets: the losses (corpus and regressions kept in native/fuzz/corpus, .../regressions) and
# the information measures (native/fuzz/corpus-information), which get half the time.
fuzz() {
  local target="$1" secs="$2"; shift 2
  local run=(./build-fuzz/"$target" -rss_limit_mb=4096 -artifact_prefix=build-fuzz/)
  case "$mode" in
    --replay)
      "${run[@]}" -runs=0 "$@"
      ;;
    --merge)
      local work
      work="$(mktemp -d)"
      "${run[@]}" -max_total_time="$secs" "$work" "$@"
      "${run[@]}" -merge=1 "$1" "$work"
      ;;
    *)
      # New inputs go to a scratch directory (the first one); the kept corpus is only read.
      local work
      work="$(mktemp -d)"
      "${run[@]}" -max_total_time="$secs" -print_final_stats=1 "$work" "$@"
      ;;
  esac
}
mode="${1:-}"
case "$mode" in
  --merge) secs="${2:-600}" ;;
  --replay) secs=0 ;;
  *) secs="${1:-60}" ;;
esac
mkdir -p native/fuzz/corpus-information native/fuzz/regressions-information
fuzz fuzz_losses "$secs" native/fuzz/corpus native/fuzz/regressions
fuzz fuzz_information "$(( (secs + 1) / 2 ))" native/fuzz/corpus-information native/fuzz/regressions-information
