"""float64 numpy reference for `mixloss bench information`: I(Y; Z) with the closed-form
gradient (numpy.linalg.eigh = LAPACK syevd), timed on the same inputs. Reads a JSON
job on stdin, prints JSON: {n: {"valueMs", "valueGradMs", "mi", "grad"}}."""
import json
import sys
import time

import numpy as np


def information(ids, z, width, alpha, grad):
    n = z.shape[0]
    sq = np.maximum((z * z).sum(1)[:, None] + (z * z).sum(1)[None, :] - 2 * z @ z.T, 0)
    np.fill_diagonal(sq, 0)
    k = np.exp(-sq / width**2)

    def entropy(m, want):
        if want:
            lam, u = np.linalg.eigh(m)
        else:
            lam, u = np.linalg.eigvalsh(m), None
        lam = np.abs(lam)
        s = (lam**alpha).sum()
        h = np.log2(s) / (1 - alpha)
        if not want:
            return h, None
        g = alpha * np.expm1((alpha - 1) * np.log(np.where(lam > 0, lam, 1))) / ((1 - alpha) * np.log(2) * s)
        return h, (u * g) @ u.T

    counts = np.bincount(ids) / n
    counts = counts[counts > 0]
    hy = np.log2((counts**alpha).sum()) / (1 - alpha)
    hz, gz = entropy(k / n, grad)
    hj, gj = entropy(k * (ids[:, None] == ids[None, :]) / n, grad)  # dense joint, as public code does
    mi = hy + hz - hj
    if not grad:
        return mi, None
    p = (gz - gj) / n * k
    return mi, -4 / width**2 * (np.diag(p.sum(1)) - p) @ z


def main():
    job = json.load(sys.stdin)
    out = {}
    for case in job["cases"]:
        n, d = case["n"], case["d"]
        z = np.array(case["layer"], dtype=np.float64).reshape(n, d)
        ids = np.array(case["labels"], dtype=np.int64)
        timings = {}
        for name, want in (("valueMs", False), ("valueGradMs", True)):
            ts = []
            for _ in range(job["reps"]):
                t = time.perf_counter()
                mi, g = information(ids, z, case["width"], case["alpha"], want)
                ts.append((time.perf_counter() - t) * 1e3)
            timings[name] = sorted(ts)[len(ts) // 2]
        out[str(n)] = {**timings, "mi": mi, "grad": g.ravel().tolist()}
    json.dump(out, sys.stdout)


main()
