// Float64 references written from the losses' formulas (the spec), not from the kernels' seam:
// each loss is a function ℓ of log p_y, and its gradient follows from the chain rule
// ∂ log p_y/∂q_j = [j = y] − p_j. Plus the comparisons the suites make against them.

/** Float64 log-sum-exp, log-softmax and softmax of one row. */
export function softmax64(q: ArrayLike<number>): { lse: number; logp: number[]; p: number[] } {
  let m = -Infinity;
  for (let j = 0; j < q.length; j++) m = Math.max(m, q[j]);
  let s = 0;
  for (let j = 0; j < q.length; j++) s += Math.exp(q[j] - m);
  const lse = m + Math.log(s);
  const logp = Array.from({ length: q.length }, (_, j) => q[j] - lse);
  return { lse, logp, p: logp.map(Math.exp) };
}

/** A sparse-label loss as ℓ(log p_y) and its derivative dℓ/d log p_y. */
export type RowLoss = (lp: number) => { value: number; dlp: number };

/** The losses of the paper's family, each written out from its definition. */
export const rowLosses = {
  /** α·(−log p) + β·(1 − p) (Eq. 12); CE, EL, Poly-1 and MAE are its corners. */
  mixed:
    (alpha: number, beta: number): RowLoss =>
    (lp) => {
      const p = Math.exp(lp);
      return { value: (alpha !== 0 ? -alpha * lp : 0) + beta * -Math.expm1(lp), dlp: -alpha - beta * p };
    },
  /** 2(1 − p) = ‖onehot − p‖₁ (Eq. 3). */
  mae: (): RowLoss => (lp) => ({ value: -2 * Math.expm1(lp), dlp: -2 * Math.exp(lp) }),
  /** α·(−(1 − p)^γ log p): focal with a global scale. */
  scaledFocal:
    (gamma: number, alpha: number): RowLoss =>
    (lp) => {
      const { value, dlp } = rowLosses.focal(gamma)(lp);
      return { value: alpha * value, dlp: alpha * dlp };
    },
  /** Truncated L_q: L_q(k) (constant) for p <= k, else (1 − p^q)/q. */
  truncatedGCE:
    (q: number, k: number): RowLoss =>
    (lp) =>
      Math.exp(lp) <= k ? { value: -Math.expm1(q * Math.log(k)) / q, dlp: 0 } : rowLosses.generalizedCE(q)(lp),
  /** −(1 − p)^γ log p (Lin et al.). */
  focal:
    (gamma: number): RowLoss =>
    (lp) => {
      const p = Math.exp(lp),
        u = -Math.expm1(lp); // u = 1 − p
      const w = u ** gamma;
      const slope = gamma === 0 || p === 0 || u === 0 ? 0 : gamma * u ** (gamma - 1) * p * lp; // → 0 at both ends
      return { value: -w * lp, dlp: slope - w };
    },
  /** (1 − p^q)/q (Zhang & Sabuncu). */
  generalizedCE:
    (q: number): RowLoss =>
    (lp) => ({ value: -Math.expm1(q * lp) / q, dlp: -Math.exp(q * lp) }),
  /** ((1 − log p)^(1−a) − 1)/(1 − a), log(1 − log p) at a = 1 (Martinez & Stiefelhagen). */
  tamedCE:
    (a: number): RowLoss =>
    (lp) => {
      const u = 1 - lp;
      return { value: a === 1 ? Math.log(u) : (u ** (1 - a) - 1) / (1 - a), dlp: -(u ** -a) };
    },
};

/** Value and gradient of one row with class id y. */
export function referenceRow(loss: RowLoss, q: ArrayLike<number>, y: number): { value: number; grad: number[]; p: number[] } {
  const { logp, p } = softmax64(q);
  const { value, dlp } = loss(logp[y]);
  return { value, grad: p.map((pj, j) => dlp * ((j === y ? 1 : 0) - pj)), p };
}

/** α·CE + β·EL of one row (sparse label). */
export function referenceMixedRow(q: ArrayLike<number>, y: number, alpha: number, beta: number) {
  return referenceRow(rowLosses.mixed(alpha, beta), q, y);
}

/**
 * Dense targets: Σ_j t_j (α(−log p_j) + β(1 − p_j)), its gradient, and per entry the size of
 * the terms the gradient is a difference of (what float32 rounding error scales with).
 */
export function referenceMixedDense(q: ArrayLike<number>, t: ArrayLike<number>, alpha: number, beta: number) {
  const C = q.length;
  const { logp, p } = softmax64(q);
  let T = 0,
    pt = 0,
    value = 0;
  for (let j = 0; j < C; j++) {
    T += t[j];
    pt += t[j] * p[j];
    if (t[j] !== 0) value += t[j] * ((alpha !== 0 ? -alpha * logp[j] : 0) + beta * (1 - p[j]));
  }
  const grad = p.map((pj, j) => pj * (alpha * T + beta * pt) - alpha * t[j] - beta * t[j] * pj);
  const magnitude = p.map((pj, j) => Math.abs(pj * (alpha * T + beta * pt)) + Math.abs(t[j] * (alpha + beta * pj)));
  return { value, grad, magnitude };
}

/** Central differences in float64 of a scalar function of a vector. */
export function centralDifference(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const up = x.slice();
    const down = x.slice();
    up[i] += h;
    down[i] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

/** Max |a − b| / max(|b|, floor). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}

/**
 * The worst per-entry relative error of a [rows, classes] gradient: |a − r| / (scale + floor),
 * where scale is |r| (or the size of the terms r is a difference of, when given) and the floor
 * is the row's largest entry / (100·C). Entries are ~1/C for large C, so an absolute bound
 * would let a 1e-4 relative error through; this one does not, at any C.
 */
export function gradientError(
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  rows: number,
  classes: number,
  scale?: ArrayLike<number>,
): number {
  let worst = 0;
  for (let r = 0; r < rows; r++) {
    let rowMax = 0;
    for (let j = 0; j < classes; j++) rowMax = Math.max(rowMax, Math.abs(ref[r * classes + j]));
    const floor = rowMax / (100 * classes) || Number.MIN_VALUE;
    for (let j = 0; j < classes; j++) {
      const i = r * classes + j;
      const err = Math.abs(actual[i] - ref[i]) / ((scale ? scale[i] : Math.abs(ref[i])) + floor);
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
  }
  return worst;
}

/** (1/C)·Σ_{j≠y} r log r and its gradient (1/C)·r_j (log r_j − Σ r log r), float64. */
export function referenceComplement(q: ArrayLike<number>, y: number) {
  const C = q.length;
  let m = -Infinity;
  for (let j = 0; j < C; j++) if (j !== y) m = Math.max(m, q[j]);
  let s = 0;
  for (let j = 0; j < C; j++) if (j !== y) s += Math.exp(q[j] - m);
  const lo = m + Math.log(s);
  let ell = 0;
  for (let j = 0; j < C; j++) if (j !== y && q[j] > -Infinity) ell += Math.exp(q[j] - lo) * (q[j] - lo);
  const grad = Array.from({ length: C }, (_, j) => {
    const r = j === y || !(q[j] > -Infinity) ? 0 : Math.exp(q[j] - lo);
    return r === 0 ? 0 : (r * (q[j] - lo - ell)) / C;
  });
  const scale = Array.from({ length: C }, (_, j) => {
    const r = j === y || !(q[j] > -Infinity) ? 0 : Math.exp(q[j] - lo);
    return r === 0 ? 0 : (r * (Math.abs(q[j] - lo) + Math.abs(ell))) / C;
  });
  return { value: C === 1 ? 0 : ell / C, grad, scale };
}
