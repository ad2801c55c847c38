#!/usr/bin/env bash
# On a GPU machine without Node: unpacks what bench/gpu/pack-webgpu.sh packed (.gpu-node/, .gl/),
# then runs the WGSL kernels on the GPU's Vulkan driver: the check against the cpu backend
# (bench/gpu/webgpu_check.ts), the fused head's benchmark and the loss op's.
#
#   bash bench/gpu/webgpu.sh [results-dir]      (default: $OUT, else bench/gpu/results)
# Writes webgpu-check.txt and .json, head-webgpu.md, webgpu.md and webgpu.log (the benches'
# progress and errors). Device call: carry [".gpu-node", ".gl"]; beside bench/gpu/run.sh in one
# call, give each its own results folder and tar them into $OUT (at most 8 files come back).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mkdir -p "${1:-${OUT:-bench/gpu/results}}" && cd "${1:-${OUT:-bench/gpu/results}}" && pwd)
status=0

# Vulkan's loader (the driver's ICD comes with the machine's NVIDIA driver).
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd

app=$(mktemp -d)
xz -dc .gpu-node/node.xz > "$app/node" && chmod +x "$app/node" && tar -xJf .gpu-node/app.tar.xz -C "$app" || exit 1
cd "$app"
# MIXLOSS_GPU_QUICK=1: small shapes (a trial of this script on a software adapter).
quick=${MIXLOSS_GPU_QUICK:+--quick}
shapes=${quick:+64x128x8192}
./node dist/bench/gpu/webgpu_check.js --json "$out/webgpu-check.json" $quick 2>&1 | tee "$out/webgpu-check.txt"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
# A shape at a time, so that one that does not fit the device leaves the others' tables.
: > "$out/head-webgpu.md"
for shape in ${shapes:-256x256x32768 1024x256x131072 64x512x262144}; do
  ./node bin/mixloss.js bench head-webgpu --shapes "$shape" --reps 5 >> "$out/head-webgpu.md" 2>> "$out/webgpu.log" || status=1
done
./node bin/mixloss.js bench webgpu ${quick:+--shapes 256x1000 --reps 3} > "$out/webgpu.md" 2>> "$out/webgpu.log" || status=1
cat "$out/head-webgpu.md" "$out/webgpu.md"
tail -5 "$out/webgpu.log"
exit $status
