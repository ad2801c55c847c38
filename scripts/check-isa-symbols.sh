#!/usr/bin/env bash
# Build-time check (CMakeLists.txt) that the AVX2 build of the information measures shares no
# symbol with the rest of the addon: every weak or unique symbol it defines must be in its own
# namespaces (EigenAvx2, mixloss::information::avx2). A shared template instantiation (a
# std::vector<long> compiled with AVX2, say) could be the copy the baseline code calls on a CPU
# without AVX2, and crash there with SIGILL.
#   scripts/check-isa-symbols.sh NM OBJECT...
set -euo pipefail
nm="$1"; shift
shared="$("$nm" -C --defined-only "$@" | awk '$2 ~ /^[WVu]$/ { $1 = ""; $2 = ""; print }' \
  | grep -v -e 'EigenAvx2' -e 'mixloss::information::avx2::' -e 'EigenHeadAvx2' -e 'EigenHeadAvx512' \
      -e 'mixloss::head::avx2::' -e 'mixloss::head::avx512::' -e '^ *DW\.ref\.__gxx_personality_v0$' || true)"
if [ -n "$shared" ]; then
  echo "mixloss: a vector build (information measures' AVX2, the head's AVX2 or AVX-512) defines symbols outside its namespaces:" >&2
  echo "$shared" >&2
  exit 1
fi
