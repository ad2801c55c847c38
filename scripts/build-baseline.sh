#!/usr/bin/env bash
# Builds the CPU addon of an earlier commit for `mixloss bench family --baseline`:
#   scripts/build-baseline.sh 61b5acf   →   prints the path of its mixloss.node
set -euo pipefail
commit="${1:?usage: scripts/build-baseline.sh COMMIT}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${TMPDIR:-/tmp}/mixloss-baseline-$commit"
if [ ! -f "$dir/build/Release/mixloss.node" ]; then
  rm -rf "$dir"
  git -C "$root" worktree add --detach "$dir" "$commit" >&2
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && MIXLOSS_CUDA=OFF npx cmake-js compile >&2)
fi
echo "$dir/build/Release/mixloss.node"
