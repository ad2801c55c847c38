#!/usr/bin/env bash
# exp8 (native/core/exp8.h, the AVX2 row loops' exp) checked on all 2^32 floats against exp16's
# arithmetic and against exp (native/test/exp8_all_floats.cpp). About 2.5 minutes on one core;
# prints "skipped" on a CPU without AVX2 and FMA.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build-tools
g++ -std=c++17 -O2 -ffp-contract=off -Inative/core native/test/exp8_all_floats.cpp -o build-tools/exp8_all_floats
build-tools/exp8_all_floats
