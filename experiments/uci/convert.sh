#!/usr/bin/env bash
# Converts the 18 UCI sets once into experiments/uci/data/*.csv. Needs Debian's r-base-core,
# r-cran-mlbench and python3-sklearn (apt-get install r-base-core r-cran-mlbench python3-sklearn).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
Rscript "$here/convert.R" "$here/data"
/usr/bin/python3 "$here/convert_sklearn.py" "$here/data"
