#!/usr/bin/env bash
# The test suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon.
# Node loads it with libasan preloaded; any report (memory error, undefined
# behaviour, a float cast out of range, a leak outside node itself) fails the run.
#
#   scripts/sanitize.sh                 the suites CI runs sanitized (see SUITES)
#   scripts/sanitize.sh test/x.test.ts  others
set -euo pipefail
cd "$(dirname "$0")/.."
# Every suite that calls the addon, except package.test.ts: it packs and installs the
# prebuild (a different, unsanitized binary) and runs npm and cmake, which are not ours to check;
# and the suites of the experiment runner and the analysis tools, which start node processes and
# run the ops the suites above already cover.
SUITES=(test/native.test.ts test/worked-values.test.ts test/reference.test.ts test/numerics.test.ts test/bad-input.test.ts
  test/options.test.ts test/complement-entropy.test.ts test/torch-parity.test.ts test/drop-in.test.ts test/backends.test.ts
  test/backend-move.test.ts test/gradient-pool.test.ts test/metrics.test.ts test/training.test.ts test/wasm.test.ts
  test/cuda.test.ts test/loader.test.ts test/schedule.test.ts test/concurrency.test.ts test/information.test.ts
  test/bad-input-matrix.test.ts test/head.test.ts test/softcap.test.ts test/cpu_limits.test.ts)
[ $# -gt 0 ] && SUITES=("$@")

echo "== sanitized addon: building build-sanitize/ (ASan + UBSan, CPU only)"
MIXLOSS_SANITIZE=ON MIXLOSS_CUDA=OFF npx cmake-js compile -O build-sanitize > build-sanitize.log 2>&1 || { tail -40 build-sanitize.log; exit 1; }

asan="$(gcc -print-file-name=libasan.so)"
supp="$(mktemp)"
# V8 and node keep allocations alive until exit by design: leaks whose stacks are in the node
# binary alone are not ours. A leak with a frame in mixloss.node is still reported.
echo "leak:$(readlink -f "$(command -v node)")" > "$supp"
report="$(mktemp -d)"
export MIXLOSS_ADDON="$PWD/build-sanitize/Release/mixloss.node" MIXLOSS_SANITIZED=1
export ASAN_OPTIONS="detect_leaks=1:exitcode=66:log_path=$report/asan"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$report/ubsan"
status=0
LD_PRELOAD="$asan" node node_modules/vitest/vitest.mjs run "${SUITES[@]}" || status=$?
unset LD_PRELOAD
# Reports go to files (log_path), one per process: any file is a finding, whatever vitest said.
if compgen -G "$report/*" > /dev/null; then
  echo "== sanitizer reports:"
  cat "$report"/*
  exit 1
fi
echo "== sanitized run: no sanitizer reports (vitest exit $status)"
exit "$status"
