"""Writes test/fixtures/experiment-stats.json: the experiment's statistics computed with scipy
on fixed accuracy tables (ties included), for test/experiment-stats.test.ts to compare against.

    /usr/bin/python3 experiments/uci/stats_reference.py   (Debian's python3-scipy)
"""
import json
from itertools import combinations
from pathlib import Path

import numpy as np
from scipy import stats


def conover(table):
    n, k = table.shape
    ranks = np.array([stats.rankdata(-row, method="average") for row in table])
    R = ranks.sum(axis=0)
    A = (ranks ** 2).sum()
    spread = 2 * n * (A - (R ** 2).sum() / n) / ((n - 1) * (k - 1))
    df = (n - 1) * (k - 1)
    out = []
    for i, j in combinations(range(k), 2):
        t = abs(R[i] - R[j]) / np.sqrt(spread)
        out.append(float(2 * stats.t.sf(t, df)))
    return out


def bh(p):
    # R's p.adjust(p, "BH")
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p)[::-1]
    adjusted = np.minimum.accumulate(p[order] * m / np.arange(m, 0, -1))
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1)
    return out.tolist()


rng = np.random.default_rng(20261206)
tables = {
    "small-with-ties": [
        [0.90, 0.92, 0.92, 0.95, 0.80, 0.90],
        [0.70, 0.71, 0.72, 0.73, 0.60, 0.69],
        [1.00, 1.00, 1.00, 1.00, 0.98, 1.00],
        [0.55, 0.60, 0.58, 0.61, 0.50, 0.57],
        [0.81, 0.80, 0.83, 0.83, 0.79, 0.78],
        [0.66, 0.66, 0.70, 0.69, 0.60, 0.62],
        [0.93, 0.94, 0.94, 0.96, 0.91, 0.92],
        [0.75, 0.74, 0.77, 0.78, 0.70, 0.72],
    ],
    "eighteen-rounded": np.round(rng.uniform(0.6, 0.9, size=(18, 6)) * 50) / 50,
    "three-methods": np.round(rng.uniform(0.5, 1.0, size=(5, 3)) * 20) / 20,
}
cases = []
for name, table in tables.items():
    table = np.asarray(table, dtype=float)
    ranks = np.array([stats.rankdata(-row, method="average") for row in table])
    f = stats.friedmanchisquare(*table.T)
    p = conover(table)
    cases.append({
        "name": name,
        "table": table.tolist(),
        "ranks": ranks.tolist(),
        "meanRank": ranks.mean(axis=0).tolist(),
        "friedman": {"statistic": float(f.statistic), "pValue": float(f.pvalue)},
        "conover": {"pValue": p, "pAdjusted": bh(p)},
    })

tails = [{"x": x, "df": df, "chi2": float(stats.chi2.sf(x, df))} for x, df in [(0.5, 5), (11.07, 5), (40, 5), (120, 5), (300, 10)]]
tails += [{"t": t, "df": df, "twoSided": float(2 * stats.t.sf(abs(t), df))} for t, df in [(0.3, 85), (2.0, 10), (-3.5, 85), (9.0, 85)]]
bh_cases = [[0.01, 0.04, 0.03, 0.005, 0.2, 0.04], [0.5, 0.5, 0.5], [1e-10, 0.9, 0.02, 0.02]]
out = {
    "generatedBy": "experiments/uci/stats_reference.py with scipy " + __import__("scipy").__version__,
    "cases": cases,
    "tails": tails,
    "bh": [{"p": p, "adjusted": bh(p)} for p in bh_cases],
}
path = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "experiment-stats.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
