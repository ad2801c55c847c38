#!/usr/bin/env bash
# Packs, on this machine, what bench/gpu/webgpu.sh needs on a GPU machine that has no Node and no
# registry: this machine's node binary and exactly the files Node loads for the webgpu check and
# benchmarks (traced from short runs here), plus the Vulkan loader's Debian package. Writes
# .gpu-node/ (node.xz, app.tar.xz) and .gl/ (libvulkan1's .deb); both are git-ignored: name them
# in the device call's carry.
#
#   bash bench/gpu/pack-webgpu.sh       (needs a built tree: npm run build, and the webgpu packages)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out=.gpu-node
rm -rf "$out" && mkdir -p "$out" .gl
npx tsc -p tsconfig.json

# The files Node loads: each short run appends require.cache's keys at exit.
loaded=$(mktemp)
hook=$(mktemp --suffix=.js)
echo "process.on('exit', () => require('fs').appendFileSync(process.env.MIXLOSS_LOADED, Object.keys(require.cache).join('\n') + '\n'));" > "$hook"
trace() { MIXLOSS_LOADED=$loaded node -r "$hook" "$@" > /dev/null 2>&1; }
trace dist/bench/gpu/webgpu_check.js --quick
trace bin/mixloss.js bench head-webgpu --shapes 32x32x256 --reps 1
trace bin/mixloss.js bench webgpu --shapes 8x100 --reps 1

# Those files under this tree, every package.json between them and node_modules (the resolver
# reads them), and the package's own package.json.
files=$(mktemp)
{
  echo package.json
  grep "^$root/" "$loaded" | sed "s|^$root/||" | grep -v '^node_modules/\.vite' | sort -u | while read -r f; do
    echo "$f"
    d=$(dirname "$f")
    while [ "$d" != . ] && [ "$d" != node_modules ]; do
      [ -f "$d/package.json" ] && echo "$d/package.json"
      d=$(dirname "$d")
    done
  done
} | sort -u > "$files"
tar -cJf "$out/app.tar.xz" -T "$files"
xz -T2 -c "$(command -v node)" > "$out/node.xz"
(cd .gl && apt-get download libvulkan1 > /dev/null 2>&1) || { echo "apt-get download libvulkan1 failed"; exit 1; }
rm -f "$loaded" "$hook" "$files"
du -ch "$out"/* .gl/*.deb | tail -1
