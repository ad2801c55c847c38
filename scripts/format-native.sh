#!/usr/bin/env bash
# The native code's format (.clang-format, Debian bookworm's clang-format 14):
#   scripts/format-native.sh          check it (npm run lint): fails on any difference
#   scripts/format-native.sh --fix    apply it
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "clang-format not found: apt-get install clang-format (Debian/Ubuntu), dnf install clang-tools-extra (Fedora), brew install clang-format (macOS)" >&2
  exit 1
fi
mapfile -t files < <(find native \( -name '*.h' -o -name '*.cc' -o -name '*.cpp' -o -name '*.cu' \) -not -path '*/corpus/*' -not -path '*/regressions*' | sort)
if [ "${1:-}" = --fix ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
