#!/usr/bin/env bash
# Builds and runs everything GPU-side in one go (no Node needed): the CUDA self-test, the
# self-test under compute-sanitizer (memcheck, racecheck), the kernel benchmark against a
# device-to-device copy, and PyTorch's cross entropy at the same shapes.
#
#   bash bench/gpu/run.sh [results-dir]      (default: bench/gpu/results)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-bench/gpu/results}}
mkdir -p "$out"
status=0

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DMIXLOSS_TOOLS=ON -DCMAKE_CUDA_ARCHITECTURES="80-real;90-real" \
  > "$out/build.log" 2>&1 && cmake --build build-gpu -j >> "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }

build-gpu/mixloss_cuda_selftest > "$out/selftest.txt" 2>&1 || status=1
tail -1 "$out/selftest.txt"
for tool in memcheck racecheck; do
  compute-sanitizer --tool "$tool" --error-exitcode 1 build-gpu/mixloss_cuda_selftest --small > "$out/sanitizer-$tool.txt" 2>&1 || status=1
  echo "compute-sanitizer $tool: $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out/sanitizer-$tool.txt" | tail -1)"
done
build-gpu/mixloss_cuda_bench | tee "$out/bench.jsonl" || status=1
python3 bench/gpu/torch_ce.py | tee "$out/torch.jsonl" || status=1
exit $status
