"""Writes the 4 UCI classification sets that Debian's python3-sklearn ships as CSV files in
data/ (features as they are, then `class`). Run once (convert.sh does it)."""
import csv
import sys
from pathlib import Path

from sklearn import datasets

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
SETS = [
    ("iris", datasets.load_iris),
    ("wine", datasets.load_wine),
    ("breast-cancer-wisconsin-diagnostic", datasets.load_breast_cancer),
    ("digits", datasets.load_digits),
]

OUT.mkdir(parents=True, exist_ok=True)
for name, load in SETS:
    d = load()
    names = [str(n) for n in getattr(d, "feature_names", [])] or [f"x{j}" for j in range(d.data.shape[1])]
    with open(OUT / f"{name}.csv", "w", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        w.writerow(names + ["class"])
        for row, label in zip(d.data, d.target):
            w.writerow([float(v) if v != int(v) else int(v) for v in row] + [str(d.target_names[label])])
    print(f"{name:36s} {d.data.shape[0]:6d} rows {d.data.shape[1]:4d} features {len(d.target_names):3d} classes  <- sklearn.datasets.{load.__name__}")
