// The fused classifier head (linear + loss, the logits never stored): value and the gradients for
// hidden, kernel and bias against float64 references written from the losses' formulas, every
// option against the unfused composition tf.matMul + the loss op (itself checked against
// PyTorch's semantics in options.test.ts), shapes that cross the tiles, the class-sharded
// statistics against the op, top-k, the bug classes peers hit, and bad input.
import { beforeAll, describe, expect, it } from 'vitest';

import {
  crossEntropy,
  focalLoss,
  focusSchedule,
  generalizedCrossEntropy,
  headGradients,
  headLoss,
  headStatistics,
  headTopK,
  linearCrossEntropy,
  linearLoss,
  linearMixedLoss,
  maeLoss,
  mergeHeadStatistics,
  mixedLoss,
  tamedCrossEntropy,
} from '../src';
import type { LinearLossSpec } from '../src';
import { rowLosses, softmax64 } from './support/reference';
import type { RowLoss } from './support/reference';
import { backendCounts, randomLabels, randomLogits, rng, tf, thrownBy, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

interface Head {
  h: Float32Array;
  w: Float32Array;
  b: Float32Array;
  y: Int32Array;
  N: number;
  D: number;
  C: number;
}

function makeHead(N: number, D: number, C: number, seed: number, scale = 1): Head {
  return {
    h: randomLogits(N, D, seed, scale),
    w: randomLogits(D, C, seed + 1, scale),
    b: randomLogits(1, C, seed + 2, scale),
    y: randomLabels(N, C, seed + 3),
    N,
    D,
    C,
  };
}

/** Float64 logits z = h·W + b (softcap applied) and their un-capped values. */
function logits64(x: Head, bias: boolean, softcap?: number): { z: Float64Array[]; raw: Float64Array[] } {
  const z: Float64Array[] = [];
  const raw: Float64Array[] = [];
  for (let r = 0; r < x.N; r++) {
    const row = new Float64Array(x.C);
    for (let c = 0; c < x.C; c++) {
      let s = bias ? x.b[c] : 0;
      for (let d = 0; d < x.D; d++) s += x.h[r * x.D + d] * x.w[d * x.C + c];
      row[c] = s;
    }
    raw.push(row);
    z.push(softcap === undefined ? row : row.map((v) => softcap * Math.tanh(v / softcap)));
  }
  return { z, raw };
}

/**
 * The float64 reference of Σ_r ℓ(log p_{y_r}) / N (mean) and its gradients for hidden, kernel and
 * bias, by the chain rule: dZ_rj = dℓ/dlog p · ([j = y] − p_j) / N, then dH = dZ·Wᵀ, dW = Hᵀ·dZ,
 * db = Σ_r dZ_r (softcap's factor 1 − (z/cap)² on dZ).
 */
function reference(x: Head, loss: RowLoss, bias = true, softcap?: number) {
  const { z } = logits64(x, bias, softcap);
  let value = 0;
  const dZ = z.map(() => new Float64Array(x.C));
  z.forEach((row, r) => {
    const { logp, p } = softmax64(row);
    const y = x.y[r];
    const l = loss(logp[y]);
    value += l.value / x.N;
    for (let j = 0; j < x.C; j++) {
      let g = (l.dlp * ((j === y ? 1 : 0) - p[j])) / x.N;
      if (softcap !== undefined) g *= 1 - (row[j] / softcap) ** 2;
      dZ[r][j] = g;
    }
  });
  return { value, ...chain(x, dZ) };
}

/** dH, dW, db from dZ [N][C] in float64. */
function chain(x: Head, dZ: Float64Array[]) {
  const gh = new Float64Array(x.N * x.D);
  const gw = new Float64Array(x.D * x.C);
  const gb = new Float64Array(x.C);
  for (let r = 0; r < x.N; r++) {
    for (let j = 0; j < x.C; j++) {
      const g = dZ[r][j];
      if (g === 0) continue;
      gb[j] += g;
      for (let d = 0; d < x.D; d++) {
        gh[r * x.D + d] += g * x.w[d * x.C + j];
        gw[d * x.C + j] += g * x.h[r * x.D + d];
      }
    }
  }
  return { gh, gw, gb };
}

/** Max |a − b| over max |b|: the gradients' entries are sums of many terms of either sign. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0,
    size = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(b[i]));
  }
  return worst / (size || 1);
}

/** The op's value and its three gradients through tf.grads. */
function run(x: Head, f: (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor, hShape = [x.N, x.D]) {
  return tf.tidy(() => {
    const h = tf.tensor(x.h, hShape);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const b = tf.tensor(x.b, [x.C]);
    const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => f(hh, ww, bb) as tf.Scalar)([h, w, b]);
    return { value: value.dataSync()[0], gh: grads[0].dataSync(), gw: grads[1].dataSync(), gb: grads[2].dataSync() };
  });
}

function expectClose(
  got: ReturnType<typeof run>,
  ref: { value: number; gh: ArrayLike<number>; gw: ArrayLike<number>; gb: ArrayLike<number> },
  tol = 2e-5,
) {
  expect(Math.abs(got.value - ref.value) / Math.max(Math.abs(ref.value), 1e-6)).toBeLessThan(tol);
  expect(relError(got.gh, ref.gh)).toBeLessThan(tol);
  expect(relError(got.gw, ref.gw)).toBeLessThan(tol);
  expect(relError(got.gb, ref.gb)).toBeLessThan(tol);
}

const yTensor = (x: Head) => tf.tensor(x.y, [x.N], 'int32');

describe('linearLoss against float64 references (value, hidden, kernel and bias gradients)', () => {
  // N = 70 crosses the 64-row block; C = 1100 crosses two 512-class chunks and ends in a partial one.
  const x = makeHead(70, 9, 1100, 11);
  const kinds: Array<{ spec: LinearLossSpec; loss: RowLoss }> = [
    { spec: { kind: 'mixed', alpha: 1, beta: 0 }, loss: rowLosses.mixed(1, 0) },
    { spec: { kind: 'mixed', alpha: 0, beta: 1 }, loss: rowLosses.mixed(0, 1) },
    { spec: { kind: 'mixed', alpha: 1, beta: 2.5 }, loss: rowLosses.mixed(1, 2.5) },
    { spec: { kind: 'mixed', alpha: 1, beta: -1 }, loss: rowLosses.mixed(1, -1) }, // Poly-1 with ε = −1
    { spec: { kind: 'mae' }, loss: rowLosses.mae() },
    { spec: { kind: 'focal', gamma: 2, alpha: 0.25 }, loss: rowLosses.scaledFocal(2, 0.25) },
    { spec: { kind: 'focal', gamma: 0.5, alpha: 1 }, loss: rowLosses.scaledFocal(0.5, 1) },
    { spec: { kind: 'generalizedCE', q: 0.7, truncation: 0 }, loss: rowLosses.generalizedCE(0.7) },
    { spec: { kind: 'generalizedCE', q: 0.7, truncation: 0.0009 }, loss: rowLosses.truncatedGCE(0.7, 0.0009) },
    { spec: { kind: 'tamedCE', a: 0.5 }, loss: rowLosses.tamedCE(0.5) },
  ];
  for (const { spec, loss } of kinds) {
    it(JSON.stringify(spec), () => {
      const got = run(x, (h, w, b) => linearLoss(h, w, yTensor(x), { ...spec, bias: b }));
      expectClose(got, reference(x, loss));
    });
  }

  it('truncated GCE leaves rows below the threshold out of the gradient (some are, some are not)', () => {
    const { z } = logits64(x, true);
    const below = z.filter((row, r) => softmax64(row).p[x.y[r]] <= 0.0009).length;
    expect(below).toBeGreaterThan(0);
    expect(below).toBeLessThan(x.N);
  });

  it('the kind parameters default as the loss ops (mixed: α = 1, β = 1; focal: γ = 2, α = 1)', () => {
    expectClose(
      run(x, (h, w, b) => linearLoss(h, w, yTensor(x), { kind: 'mixed', bias: b })),
      reference(x, rowLosses.mixed(1, 1)),
    );
    expectClose(
      run(x, (h, w, b) => linearLoss(h, w, yTensor(x), { kind: 'focal', bias: b })),
      reference(x, rowLosses.scaledFocal(2, 1)),
    );
  });

  it('linearCrossEntropy and linearMixedLoss are the mixed kind', () => {
    expectClose(
      run(x, (h, w, b) => linearCrossEntropy(h, w, yTensor(x), { bias: b })),
      reference(x, rowLosses.mixed(1, 0)),
    );
    expectClose(
      run(x, (h, w, b) => linearMixedLoss(h, w, yTensor(x), { alpha: 1, beta: 0.5, bias: b })),
      reference(x, rowLosses.mixed(1, 0.5)),
    );
  });

  it('softcap, fused in the tiles: the loss of cap·tanh(z/cap) and its chain factor', () => {
    const wide = makeHead(70, 9, 1100, 12, 3); // logits up to ~30: the cap bends them
    expectClose(
      run(wide, (h, w, b) => linearCrossEntropy(h, w, yTensor(wide), { bias: b, softcap: 5 })),
      reference(wide, rowLosses.mixed(1, 0), true, 5),
    );
  });

  it('softcap with saturated logits beside bent ones: every entry of the bias gradient within 1e-5, its sign included', () => {
    // One row (the bias gradient is dZ itself) of 1100 classes: logits within ±cap in most
    // 256-class blocks, saturated ones (up to 10 caps) in others, where 1 − (z/cap)² from a float
    // z would keep no digit.
    const C = 1100;
    const cap = 3;
    const z = Float32Array.from({ length: C }, (_, j) => (j % 256 < 200 ? 0.97 * cap * Math.sin(j * 0.41) : cap * (((j * 7) % 21) - 10)));
    const x: Head = {
      h: Float32Array.from([1, 0]),
      w: new Float32Array(2 * C),
      b: new Float32Array(C),
      y: Int32Array.from([3]),
      N: 1,
      D: 2,
      C,
    };
    x.w.set(z);
    const ref = reference(x, rowLosses.mixed(1, 0.5), true, cap);
    const got = run(x, (h, w, b) => linearMixedLoss(h, w, yTensor(x), { alpha: 1, beta: 0.5, bias: b, softcap: cap }));
    let worst = 0;
    for (let j = 0; j < C; j++) worst = Math.max(worst, Math.abs(got.gb[j] - ref.gb[j]) / Math.abs(ref.gb[j]));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.min(...Array.from(ref.gb, Math.abs))).toBeLessThan(1e-9); // saturated entries are in the row
    expectClose(got, ref);
  });

  it('without a bias: the same loss, and no bias gradient asked', () => {
    const ref = reference(x, rowLosses.mixed(1, 0), false);
    const got = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((h: tf.Tensor, w: tf.Tensor) => linearCrossEntropy(h, w, yTensor(x)))([
        tf.tensor(x.h, [x.N, x.D]),
        tf.tensor(x.w, [x.D, x.C]),
      ]);
      return { value: value.dataSync()[0], gh: grads[0].dataSync(), gw: grads[1].dataSync() };
    });
    expect(Math.abs(got.value - ref.value) / ref.value).toBeLessThan(2e-5);
    expect(relError(got.gh, ref.gh)).toBeLessThan(2e-5);
    expect(relError(got.gw, ref.gw)).toBeLessThan(2e-5);
  });
});

describe('linearLoss options against tf.matMul + the loss op', () => {
  const x = makeHead(37, 6, 700, 21);
  const cw = Array.from(randomLogits(1, x.C, 5, 1), (v) => Math.abs(v) + 0.1);
  const composition = (op: typeof crossEntropy) => (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor, y: tf.Tensor, o: Record<string, unknown>) =>
    op(tf.add(tf.matMul(h, w), b), y, o as never) as tf.Tensor;
  const cases: Array<{
    name: string;
    spec: LinearLossSpec;
    op: typeof crossEntropy;
    own?: Record<string, number>;
    labels?: (y: Int32Array) => Int32Array;
  }> = [
    { name: 'classWeights', spec: { kind: 'mixed', alpha: 1, beta: 0.5, classWeights: cw }, op: mixedLoss, own: { alpha: 1, beta: 0.5 } },
    {
      name: 'sample weights per row',
      spec: { kind: 'mixed', alpha: 1, beta: 0, weights: Array.from({ length: 37 }, (_, i) => (i % 4) * 0.5) },
      op: crossEntropy,
    },
    {
      name: 'a scalar sample weight and tf.Reduction.SUM_BY_NONZERO_WEIGHTS',
      spec: { kind: 'mixed', alpha: 1, beta: 0, weights: 2, reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS },
      op: crossEntropy,
    },
    {
      name: 'ignoreIndex',
      spec: { kind: 'mixed', alpha: 1, beta: 1, ignoreIndex: -1 },
      op: mixedLoss,
      own: { alpha: 1, beta: 1 },
      labels: (y) => y.map((v, i) => (i % 3 === 0 ? -1 : v)),
    },
    { name: 'labelSmoothing', spec: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.2 }, op: crossEntropy },
    {
      name: 'labelSmoothing with classWeights (PyTorch)',
      spec: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.1, classWeights: cw },
      op: crossEntropy,
    },
    { name: 'zLoss', spec: { kind: 'mixed', alpha: 1, beta: 0, zLoss: 1e-3 }, op: crossEntropy },
    {
      name: 'zLoss with classWeights under mean (Liger)',
      spec: { kind: 'mixed', alpha: 1, beta: 0, zLoss: 1e-2, classWeights: cw },
      op: crossEntropy,
    },
    { name: "reduction 'sum'", spec: { kind: 'focal', gamma: 2, alpha: 1, reduction: 'sum' }, op: focalLoss, own: { gamma: 2, alpha: 1 } },
    {
      name: 'everything with ignoreIndex',
      spec: { kind: 'mixed', alpha: 1, beta: 0.3, ignoreIndex: 5, labelSmoothing: 0.05, zLoss: 1e-3, classWeights: cw, softcap: 4 },
      op: mixedLoss,
      own: { alpha: 1, beta: 0.3 },
      labels: (y) => y.map((v, i) => (i % 5 === 0 ? 5 : v)),
    },
    {
      name: 'generalizedCE with truncation, classWeights',
      spec: { kind: 'generalizedCE', q: 0.5, truncation: 0.001, classWeights: cw },
      op: generalizedCrossEntropy,
      own: { q: 0.5, truncation: 0.001 },
    },
    { name: 'tamedCE, sum', spec: { kind: 'tamedCE', a: 0.3, reduction: 'sum' }, op: tamedCrossEntropy, own: { a: 0.3 } },
    { name: 'mae, weights', spec: { kind: 'mae', weights: Array.from({ length: 37 }, (_, i) => i / 37) }, op: maeLoss },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const y = c.labels ? c.labels(x.y) : x.y;
      const { kind: _k, alpha: _a, beta: _b, gamma: _g, q: _q, truncation: _t, a: _ta, ...options } = c.spec;
      const mine = run(x, (h, w, b) => linearLoss(h, w, tf.tensor(y, [x.N], 'int32'), { ...c.spec, bias: b }));
      const theirs = run(x, (h, w, b) => composition(c.op)(h, w, b, tf.tensor(y, [x.N], 'int32'), { ...options, ...(c.own ?? {}) }));
      expectClose(mine, theirs, 1e-4);
    });
  }

  it("'none' gives the rows, and a non-uniform upstream gradient scales each row's gradient", () => {
    const up = tf.tensor(Array.from({ length: x.N }, (_, i) => (i % 7) - 3));
    const f = (loss: (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (h: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(loss(h, w, b), up));
    const mine = run(
      x,
      f((h, w, b) => linearCrossEntropy(h, w, yTensor(x), { bias: b, reduction: 'none' })),
    );
    const theirs = run(
      x,
      f((h, w, b) => crossEntropy(tf.add(tf.matMul(h, w), b), yTensor(x), { reduction: 'none' }) as tf.Tensor),
    );
    expectClose(mine, theirs, 1e-4);
    const rows = tf.tidy(() =>
      linearCrossEntropy(tf.tensor(x.h, [x.N, x.D]), tf.tensor(x.w, [x.D, x.C]), yTensor(x), { reduction: 'none' }),
    );
    expect(rows.shape).toEqual([x.N]);
    rows.dispose();
    up.dispose();
  });

  it('rank-3 hidden [B, T, D] with labels [B, T]: the same as the flattened rows', () => {
    const h3 = makeHead(6 * 5, 4, 300, 31);
    const flat = run(h3, (h, w, b) => linearCrossEntropy(h, w, yTensor(h3), { bias: b }));
    const ranked = run(h3, (h, w, b) => linearCrossEntropy(h, w, tf.tensor(h3.y, [6, 5], 'int32'), { bias: b }), [6, 5, 4]);
    expectClose(ranked, flat, 1e-6);
    const rows = tf.tidy(() =>
      linearCrossEntropy(tf.tensor(h3.h, [6, 5, 4]), tf.tensor(h3.w, [4, 300]), tf.tensor(h3.y, [6, 5], 'int32'), { reduction: 'none' }),
    );
    expect(rows.shape).toEqual([6, 5]);
    rows.dispose();
  });

  it('labels [N, 1], float32 class ids and nested arrays are the same class ids', () => {
    const ref = run(x, (h, w, b) => linearCrossEntropy(h, w, yTensor(x), { bias: b }));
    expectClose(
      run(x, (h, w, b) => linearCrossEntropy(h, w, tf.tensor(x.y, [x.N, 1], 'int32'), { bias: b })),
      ref,
      1e-7,
    );
    expectClose(
      run(x, (h, w, b) => linearCrossEntropy(h, w, tf.tensor(Float32Array.from(x.y), [x.N]), { bias: b })),
      ref,
      1e-7,
    );
    expectClose(
      run(x, (h, w, b) => linearCrossEntropy(h, w, Array.from(x.y), { bias: b })),
      ref,
      1e-7,
    );
  });
});

describe('shapes that cross the tiles and the threads', () => {
  for (const [N, D, C] of [
    [1, 3, 1],
    [1, 1, 7],
    [5, 2, 1],
    [3, 5, 511],
    [3, 5, 512],
    [3, 5, 513],
    [65, 3, 1025],
    [128, 17, 2049],
  ]) {
    it(`N = ${N}, D = ${D}, C = ${C}`, () => {
      const x = makeHead(N, D, C, N * 1000 + C);
      expectClose(
        run(x, (h, w, b) => linearMixedLoss(h, w, yTensor(x), { alpha: 1, beta: 1, bias: b })),
        reference(x, rowLosses.mixed(1, 1)),
      );
    });
  }

  it('N·C >= 2^31 with D = 2: every row exact (the logits of a row are known in closed form)', () => {
    // Every row's hidden is [1, 0]: each row's logits are kernel row 0 plus the bias, so
    // lse is one float64 sum and CE_r = lse − z_{y_r}; dH_r = E_p[W] − W[:, y_r].
    const N = 2048,
      C = 2 ** 20 + 3;
    expect(N * C).toBeGreaterThan(2 ** 31);
    const r = rng(7);
    const w = new Float32Array(2 * C);
    for (let c = 0; c < C; c++) {
      w[c] = (r() * 2 - 1) * 4;
      w[C + c] = r() * 2 - 1;
    }
    const h = new Float32Array(2 * N);
    for (let i = 0; i < N; i++) h[2 * i] = 1;
    const y = Int32Array.from({ length: N }, () => Math.floor(r() * C));
    const { lse, p } = softmax64(w.subarray(0, C));
    let ce = 0;
    for (let i = 0; i < N; i++) ce += (lse - w[y[i]]) / N;
    let e1 = 0;
    for (let c = 0; c < C; c++) e1 += p[c] * w[C + c];
    const got = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor) => linearCrossEntropy(hh, ww, tf.tensor(y, [N], 'int32')))([
        tf.tensor(h, [N, 2]),
        tf.tensor(w, [2, C]),
      ]);
      return { value: value.dataSync()[0], gh: grads[0].dataSync(), gw: grads[1].dataSync() };
    });
    expect(Math.abs(got.value - ce) / ce).toBeLessThan(1e-6);
    for (const i of [0, 1, N - 1]) {
      // ∂/∂h_i1 = (E_p[W_1] − W_1[y_i]) / N
      expect(Math.abs(got.gh[2 * i + 1] - (e1 - w[C + y[i]]) / N)).toBeLessThan(1e-6 / N);
    }
    // ∂/∂W_0j = Σ_i h_i0 (p_j − [y_i = j]) / N = p_j − count_j / N; W_1 has h_i1 = 0: zero.
    const count = new Map<number, number>();
    for (const v of y) count.set(v, (count.get(v) ?? 0) + 1);
    for (const j of [0, y[0], C - 1]) {
      expect(Math.abs(got.gw[j] - (p[j] - (count.get(j) ?? 0) / N))).toBeLessThan(1e-8 + 1e-5 * Math.abs(p[j]));
      expect(got.gw[C + j]).toBe(0);
    }
  });
});

describe('the bug classes peers hit', () => {
  const x = makeHead(20, 5, 300, 41);

  it('the bias gradient is Σ_r dZ_r (CCE #52) and matches tfjs autodiff of stock ops', () => {
    const stock = run(x, (h, w, b) => tf.losses.softmaxCrossEntropy(tf.oneHot(yTensor(x), x.C), tf.add(tf.matMul(h, w), b)));
    expectClose(
      run(x, (h, w, b) => linearCrossEntropy(h, w, yTensor(x), { bias: b })),
      stock,
      1e-4,
    );
  });

  it('every row ignored: mean is NaN (as PyTorch), gradients are 0 and finite (Liger #177)', () => {
    const ignored = new Int32Array(x.N).fill(-100);
    const got = run(x, (h, w, b) => linearCrossEntropy(h, w, tf.tensor(ignored, [x.N], 'int32'), { bias: b, ignoreIndex: -100 }));
    expect(got.value).toBeNaN();
    for (const g of [got.gh, got.gw, got.gb]) expect(Array.from(g).every((v) => v === 0)).toBe(true);
    const sum = run(x, (h, w, b) =>
      linearCrossEntropy(h, w, tf.tensor(ignored, [x.N], 'int32'), { bias: b, ignoreIndex: -100, reduction: 'sum' }),
    );
    expect(sum.value).toBe(0);
  });

  it('sample weights that sum to 0 under a mean: NaN and zero gradients, as the loss ops give, in every form', () => {
    const ids = tf.tensor(x.y, [x.N], 'int32');
    for (const reduction of ['mean', tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS] as const) {
      for (const weights of [0, [0], new Array(x.N).fill(0)]) {
        const got = run(x, (h, w, b) => linearCrossEntropy(h, w, ids, { bias: b, weights, reduction }));
        expect(got.value).toBeNaN();
        for (const g of [got.gh, got.gw, got.gb]) expect(Array.from(g).every((v) => v === 0)).toBe(true);
      }
    }
    // Weights that are not all 0: the head's weighted mean is the loss ops' (value and gradients).
    const w = Array.from({ length: x.N }, (_, i) => (i % 3) * 0.5);
    const head = run(x, (h, k, b) =>
      linearCrossEntropy(h, k, ids, { bias: b, weights: w, reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS }),
    );
    const ops = run(x, (h, k, b) =>
      crossEntropy(tf.add(tf.matMul(h, k), b), ids, { weights: w, reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS }),
    );
    expectClose(head, ops, 2e-5);
    ids.dispose();
  });

  it('focal on dense targets (stock ops) with every row masked out: NaN and a zero gradient, as the kernels give', () => {
    const q = tf.tensor2d([2, 1, 0.1, 0.5, -1, 3], [2, 3]);
    const t = tf.tensor2d([1, 0, 0, 0, 0, 1], [2, 3]);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => focalLoss(v, t, { gamma: 2, where: [false, false] }) as tf.Scalar)(q);
    expect(value.dataSync()[0]).toBeNaN();
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    tf.dispose([q, t, value, grad]);
  });

  it('a common logit offset of 1e4 changes nothing (PyTorch #195829)', () => {
    const shifted = { ...x, b: x.b.map((v) => v + 1e4) };
    const a = run(x, (h, w, b) => linearCrossEntropy(h, w, yTensor(x), { bias: b }));
    const b = run(shifted, (h, w, bb) => linearCrossEntropy(h, w, yTensor(x), { bias: bb }));
    // Float32 logits near 1e4 keep 1e4·2^-24 ≈ 6e-4 absolute: the loss moves by that much at most.
    expect(Math.abs(a.value - b.value)).toBeLessThan(2e-3);
    expect(relError(b.gw, a.gw)).toBeLessThan(5e-3);
    expect(Number.isFinite(b.value)).toBe(true);
  });
});

describe('the gradient with respect to sample weights', () => {
  it("is ℓ_r / d (mean: (ℓ_r − L) / Σ s) under every reduction: the mean's guards are not a tfjs gradient Error", () => {
    const x = makeHead(5, 4, 30, 81);
    const sv = [1, 0, 2, 0.5, 1.5];
    tf.tidy(() => {
      const h = tf.tensor(x.h, [x.N, x.D]);
      const w = tf.tensor(x.w, [x.D, x.C]);
      const y = tf.tensor(x.y, [x.N], 'int32');
      const rowLoss = Array.from(linearCrossEntropy(h, w, y, { reduction: 'none' }).dataSync());
      const sumS = sv.reduce((a, b) => a + b, 0);
      const mean = rowLoss.reduce((a, l, r) => a + sv[r] * l, 0) / sumS;
      for (const [reduction, d, shift] of [
        ['sum', 1, 0],
        ['mean', sumS, mean],
        [tf.Reduction.SUM_BY_NONZERO_WEIGHTS, 4, 0],
      ] as const) {
        const g = tf.grad((s: tf.Tensor) => linearCrossEntropy(h, w, y, { weights: s, reduction }))(tf.tensor1d(sv));
        expect(
          relError(
            g.dataSync(),
            rowLoss.map((l) => (l - shift) / d),
          ),
          String(reduction),
        ).toBeLessThan(1e-5);
      }
    });
  });
});

describe('the class-sharded statistics against the op', () => {
  const x = makeHead(33, 5, 1000, 51);
  // Uneven shards, one of a single class, one that holds no row's target.
  const cuts = [0, 300, 301, 640, 1000];
  const y = x.y.map((v) => (v >= 301 && v < 640 ? v + 340 : v)); // no target in [301, 640)
  const kernelShard = (lo: number, hi: number) => {
    const out = new Float32Array(x.D * (hi - lo));
    for (let d = 0; d < x.D; d++) out.set(x.w.subarray(d * x.C + lo, d * x.C + hi), d * (hi - lo));
    return tf.tensor(out, [x.D, hi - lo]);
  };
  const shards = cuts.slice(0, -1).map((lo, i) => ({ lo, hi: cuts[i + 1] }));
  const options = { numClasses: x.C, labelSmoothing: 0.1, zLoss: 1e-3, ignoreIndex: -1 };
  const labels = y.map((v, i) => (i === 4 ? -1 : v));

  function permutations<T>(a: T[]): T[][] {
    if (a.length <= 1) return [a];
    return a.flatMap((v, i) => permutations([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [v, ...p]));
  }

  it("the merged statistics give the op's loss in every merge order and grouping (smoothing with the global C)", () => {
    expect(y.some((v) => v >= 301 && v < 640)).toBe(false);
    const ref = tf.tidy(
      () =>
        linearCrossEntropy(tf.tensor(x.h, [x.N, x.D]), tf.tensor(x.w, [x.D, x.C]), tf.tensor(labels, [x.N], 'int32'), {
          bias: tf.tensor(x.b),
          labelSmoothing: 0.1,
          zLoss: 1e-3,
          ignoreIndex: -1,
        }).dataSync()[0],
    );
    const before = backendCounts().tensors;
    const stats = shards.map(({ lo, hi }) =>
      tf.tidy(() =>
        headStatistics(tf.tensor(x.h, [x.N, x.D]), kernelShard(lo, hi), tf.tensor(labels, [x.N], 'int32'), {
          ...options,
          classOffset: lo,
          bias: tf.tensor(x.b.subarray(lo, hi)),
        }),
      ),
    );
    const values: number[] = [];
    for (const order of permutations(stats)) {
      values.push(tf.tidy(() => headLoss(mergeHeadStatistics(order), tf.tensor(labels, [x.N], 'int32'), options).dataSync()[0]));
    }
    // Grouped: (a ⊕ b) ⊕ (c ⊕ d).
    values.push(
      tf.tidy(
        () =>
          headLoss(
            mergeHeadStatistics([mergeHeadStatistics(stats.slice(0, 2)), mergeHeadStatistics(stats.slice(2))]),
            tf.tensor(labels, [x.N], 'int32'),
            options,
          ).dataSync()[0],
      ),
    );
    for (const v of values) expect(Math.abs(v - ref) / ref).toBeLessThan(1e-6);
    for (const s of stats) s.dispose();
    expect(backendCounts().tensors).toBe(before);
  });

  it("each shard's gradients: kernel and bias columns as the op's, hidden summed over shards", () => {
    const ref = run(x, (h, w, b) =>
      linearCrossEntropy(h, w, tf.tensor(labels, [x.N], 'int32'), { bias: b, labelSmoothing: 0.1, zLoss: 1e-3, ignoreIndex: -1 }),
    );
    const gh = new Float64Array(x.N * x.D);
    const gw = new Float64Array(x.D * x.C);
    const gb = new Float64Array(x.C);
    tf.tidy(() => {
      const h = tf.tensor(x.h, [x.N, x.D]);
      const yy = tf.tensor(labels, [x.N], 'int32');
      const merged = mergeHeadStatistics(
        shards.map(({ lo, hi }) =>
          headStatistics(h, kernelShard(lo, hi), yy, { ...options, classOffset: lo, bias: tf.tensor(x.b.subarray(lo, hi)) }),
        ),
      );
      for (const { lo, hi } of shards) {
        const g = headGradients(h, kernelShard(lo, hi), yy, merged, { ...options, classOffset: lo, bias: tf.tensor(x.b.subarray(lo, hi)) });
        const dh = g.hidden.dataSync();
        for (let i = 0; i < dh.length; i++) gh[i] += dh[i];
        const dw = g.kernel.dataSync();
        for (let d = 0; d < x.D; d++) for (let j = lo; j < hi; j++) gw[d * x.C + j] = dw[d * (hi - lo) + j - lo];
        gb.set((g.bias as tf.Tensor).dataSync(), lo);
      }
    });
    expect(relError(gh, ref.gh)).toBeLessThan(1e-5);
    expect(relError(gw, ref.gw)).toBeLessThan(1e-5);
    expect(relError(gb, ref.gb)).toBeLessThan(1e-5);
  });

  it('a target in no merged shard, or in two, is an Error (not a padded-column loss)', () => {
    tf.tidy(() => {
      const h = tf.tensor(x.h, [x.N, x.D]);
      const yy = tf.tensor(labels, [x.N], 'int32');
      const stat = (lo: number, hi: number) => headStatistics(h, kernelShard(lo, hi), yy, { ...options, classOffset: lo });
      const partial = mergeHeadStatistics([stat(0, 300), stat(300, 301)]);
      expect(() => headLoss(partial, yy, options)).toThrow(/in none of the merged shards: merge every shard/);
      const overlap = mergeHeadStatistics([stat(0, 700), stat(600, 1000)]); // targets in [641, 700) are in both
      expect(() => headLoss(overlap, yy, options)).toThrow(/in 2 of the merged shards: shards must not overlap/);
    });
  });

  it('headLoss without numClasses (no smoothing), and mergeHeadStatistics(a, b) as ([a, b])', () => {
    tf.tidy(() => {
      const h = tf.tensor(x.h, [x.N, x.D]);
      const yy = tf.tensor(y, [x.N], 'int32');
      const a = headStatistics(h, kernelShard(0, 500), yy, { numClasses: x.C, bias: tf.tensor(x.b.subarray(0, 500)) });
      const b = headStatistics(h, kernelShard(500, 1000), yy, { numClasses: x.C, classOffset: 500, bias: tf.tensor(x.b.subarray(500)) });
      const want = linearCrossEntropy(h, tf.tensor(x.w, [x.D, x.C]), yy, { bias: tf.tensor(x.b) }).dataSync()[0];
      const got = headLoss(mergeHeadStatistics(a, b), yy).dataSync()[0];
      expect(Math.abs(got - want) / want).toBeLessThan(1e-6);
      expect(Array.from(mergeHeadStatistics(a, b).dataSync())).toEqual(Array.from(mergeHeadStatistics([a, b]).dataSync()));
      expect(() => headLoss(mergeHeadStatistics(a, b), yy, { labelSmoothing: 0.1 })).toThrow(/labelSmoothing needs options\.numClasses/);
    });
  });

  it("sample weights in the sharded calls: as linearLoss's per-row weights, and nothing left behind", () => {
    const h = tf.tensor(x.h, [x.N, x.D]);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const yy = tf.tensor(y, [x.N], 'int32');
    const weights = tf.tensor(Array.from({ length: x.N }, (_, i) => (i % 3) * 0.5));
    const want = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor) => linearCrossEntropy(hh, ww, yy, { weights }))([h, w]);
      return { value: value.dataSync()[0], gh: grads[0].dataSync(), gw: grads[1].dataSync() };
    });
    const before = backendCounts();
    const merged = headStatistics(h, w, yy, { numClasses: x.C });
    const loss = headLoss(merged, yy, { weights });
    const g = headGradients(h, w, yy, merged, { numClasses: x.C, weights });
    expect(Math.abs(loss.dataSync()[0] - want.value) / want.value).toBeLessThan(1e-6);
    expect(relError(g.hidden.dataSync(), want.gh)).toBeLessThan(1e-5);
    expect(relError(g.kernel.dataSync(), want.gw)).toBeLessThan(1e-5);
    tf.dispose([merged, loss, g.hidden, g.kernel]);
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, w, yy, weights]);
  });

  it("rows of more than one axis: the statistics keep hidden's rows' shape, and headLoss reads labels of that shape in any form", () => {
    const h = tf.tensor(x.h.subarray(0, 6 * x.D), [2, 3, x.D]);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const ids = [
      [3, 700, 9],
      [640, 1, 999],
    ];
    const y = tf.tensor(ids, [2, 3], 'int32');
    const rowWeights = tf.tensor([0.5, 1, 2], [1, 3]);
    const before = backendCounts();
    const stats = headStatistics(h, w, y, { numClasses: x.C });
    expect(stats.shape).toEqual([2, 3, stats.shape[2]]);
    const want = linearCrossEntropy(h, w, y, { weights: rowWeights, reduction: 'none' });
    expect(want.shape).toEqual([2, 3]);
    const merged = mergeHeadStatistics(stats);
    expect(merged.shape).toEqual(stats.shape);
    // As a tensor, as nested arrays, and as nested columns [2, 3, 1].
    for (const labels of [y, ids, ids.map((row) => row.map((v) => [v]))]) {
      const got = headLoss(merged, labels, { weights: rowWeights, reduction: 'none' });
      expect(got.shape).toEqual([2, 3]);
      expect(relError(got.dataSync(), want.dataSync())).toBeLessThan(1e-6);
      got.dispose();
    }
    tf.dispose([stats, merged, want]);
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, w, y, rowWeights]);
  });

  it('rows [N, 1] (not a column of class ids) keep their shape under reduction none, and take weights [N, 1]', () => {
    const N = 5;
    const h = tf.tensor(x.h.subarray(0, N * x.D), [N, 1, x.D]);
    const h2 = tf.reshape(h, [N, x.D]);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const y = tf.tensor(Array.from(x.y.subarray(0, N)), [N, 1], 'int32');
    const weights = tf.tensor([1, 0, 2, 0.5, 3], [N, 1]);
    const before = backendCounts();
    tf.tidy(() => {
      // hidden [N, 1, D]: the rows are [N, 1], and so is the loss per row.
      const merged = headStatistics(h, w, y, { numClasses: x.C, weights });
      const want = linearCrossEntropy(h, w, y, { weights, reduction: 'none' });
      const got = headLoss(merged, y, { weights, reduction: 'none' });
      expect(want.shape).toEqual([N, 1]);
      expect(got.shape).toEqual([N, 1]);
      expect(relError(got.dataSync(), want.dataSync())).toBeLessThan(1e-6);
      const sum = linearCrossEntropy(h, w, y, { weights, reduction: 'sum' }).dataSync()[0];
      expect(Math.abs(headLoss(merged, y, { weights, reduction: 'sum' }).dataSync()[0] - sum) / sum).toBeLessThan(1e-6);
      const g = headGradients(h, w, y, merged, { numClasses: x.C, weights, reduction: 'sum' });
      const ref = tf.grads((hh: tf.Tensor, ww: tf.Tensor) => linearCrossEntropy(hh, ww, y, { weights, reduction: 'sum' }))([h, w]);
      expect(g.hidden.shape).toEqual([N, 1, x.D]);
      expect(relError(g.hidden.dataSync(), ref[0].dataSync())).toBeLessThan(1e-5);
      expect(relError(g.kernel.dataSync(), ref[1].dataSync())).toBeLessThan(1e-5);
      // hidden [N, D] with the same labels: a column of class ids, one loss per row [N].
      const column = headLoss(headStatistics(h2, w, y, { numClasses: x.C }), y, { reduction: 'none' });
      expect(column.shape).toEqual([N]);
      expect(linearCrossEntropy(h2, w, y, { reduction: 'none' }).shape).toEqual([N]);
    });
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, h2, w, y, weights]);
  });

  it("weights that would grow the rows' shape (tf.losses' broadcasting) are an Error in each sharded call, nothing left behind", () => {
    const N = 4;
    const h = tf.tensor(x.h.subarray(0, N * x.D), [N, x.D]);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const y = tf.tensor(Array.from(x.y.subarray(0, N)), [N], 'int32');
    const grow = tf.tensor([1, 2, 3, 4], [N, 1]); // [N] rows by [N, 1] weights: [N, N] in tf.losses
    const merged = headStatistics(h, w, y, { numClasses: x.C });
    const before = backendCounts();
    const message =
      /weights of shape \[4, 1\] would grow the rows \[4\] to \[4, 4\]; the sharded head weights each row: pass weights that broadcast to \[4\]/;
    expect(thrownBy(() => headStatistics(h, w, y, { numClasses: x.C, weights: grow })).message).toMatch(message);
    expect(thrownBy(() => headLoss(merged, y, { weights: grow })).message).toMatch(message);
    expect(thrownBy(() => headGradients(h, w, y, merged, { numClasses: x.C, weights: grow })).message).toMatch(message);
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, w, y, grow, merged]);
  });

  it("a bad class id first read under a mean's divisor is the sharded call's own Error", () => {
    const N = 3;
    const h = tf.tensor(x.h.subarray(0, N * x.D), [N, x.D]);
    const w = tf.tensor(x.w, [x.D, x.C]);
    const merged = headStatistics(h, w, tf.tensor([1, 2, 3], [N], 'int32'), { numClasses: x.C });
    const bad = tf.tensor([NaN, 2, 3], [N]); // float labels: not checked on the host
    const before = backendCounts();
    for (const weights of [undefined, tf.ones([N])]) {
      expect(thrownBy(() => headLoss(merged, bad, { weights })).message).toMatch(
        /^mixloss\.headLoss: label nan at row 0 is not a class id/,
      );
      expect(thrownBy(() => headGradients(h, w, bad, merged, { numClasses: x.C, weights })).message).toMatch(
        /^mixloss\.headGradients: label nan at row 0 is not a class id/,
      );
      weights?.dispose();
    }
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, w, merged, bad]);
  });

  it('statistics computed without labelSmoothing cannot finish a smoothed loss', () => {
    tf.tidy(() => {
      const yy = tf.tensor(labels, [x.N], 'int32');
      const plain = headStatistics(tf.tensor(x.h, [x.N, x.D]), tf.tensor(x.w, [x.D, x.C]), yy, { numClasses: x.C, ignoreIndex: -1 });
      expect(() => headLoss(plain, yy, options)).toThrow(/computed without labelSmoothing/);
    });
  });
});

describe('headTopK', () => {
  it('the k best classes as log-probabilities, best first, ties to the lower id', () => {
    const x = makeHead(9, 4, 1300, 61);
    x.w[x.C - 1] = x.w[3]; // class C − 1 ties class 3 wherever bias ties too
    for (let d = 0; d < x.D; d++) x.w[d * x.C + x.C - 1] = x.w[d * x.C + 3];
    x.b[x.C - 1] = x.b[3];
    const { values, indices } = headTopK(tf.tensor(x.h, [x.N, x.D]), tf.tensor(x.w, [x.D, x.C]), 5, { bias: tf.tensor(x.b) });
    expect(values.shape).toEqual([x.N, 5]);
    expect(indices.dtype).toBe('int32');
    const { z } = logits64(x, true);
    const v = values.dataSync(),
      ids = indices.dataSync();
    z.forEach((row, r) => {
      const { logp } = softmax64(row);
      const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
      for (let k = 0; k < 5; k++) {
        expect(Math.abs(row[ids[r * 5 + k]] - row[order[k]])).toBeLessThan(1e-5);
        expect(Math.abs(v[r * 5 + k] - logp[ids[r * 5 + k]])).toBeLessThan(2e-5);
      }
      const at3 = Array.from(ids.subarray(r * 5, r * 5 + 5)).indexOf(3);
      const atLast = Array.from(ids.subarray(r * 5, r * 5 + 5)).indexOf(x.C - 1);
      if (at3 >= 0 && atLast >= 0) expect(at3).toBeLessThan(atLast);
    });
    values.dispose();
    indices.dispose();
  });
});

describe('bad input: an Error naming the problem, before any kernel, nothing left behind', () => {
  const x = makeHead(4, 3, 10, 71);
  // Each case makes its tensors first (h, w, y; then `extra`), and the leak count starts after.
  type Inputs = { h: tf.Tensor; w: tf.Tensor; y: tf.Tensor; t: tf.Tensor[] };
  const cases: Array<[string, (i: Inputs) => unknown, RegExp, (() => { h?: tf.Tensor; w?: tf.Tensor; y?: tf.Tensor; t?: tf.Tensor[] })?]> =
    [
      [
        'a [C, D] kernel',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /must be \[D, C\] with D = 3.*\[C, D\] kernel.*tf\.transpose/,
        () => ({ w: tf.zeros([10, 3]) }),
      ],
      [
        'D mismatch',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /kernel \[4, 10\] must be \[D, C\] with D = 3/,
        () => ({ w: tf.zeros([4, 10]) }),
      ],
      [
        'a label >= C',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /label 10 at row 2 is not a class id in \[0, 10\)/,
        () => ({ y: tf.tensor([0, 1, 10, 2], [4], 'int32') }),
      ],
      [
        'a label >= C, rank 3',
        (i) => linearCrossEntropy(i.t[0], i.w, i.y),
        /label 10 at row 2/,
        () => ({ y: tf.tensor([0, 1, 10, 2], [2, 2], 'int32'), t: [tf.zeros([2, 2, 3])] }),
      ],
      [
        "labels of another rows' shape",
        (i) => linearCrossEntropy(i.t[0], i.w, i.y),
        /labels must be class ids \[2, 2\] or \[2, 2, 1\].*got shape \[4\] \(hidden's rows: \[2, 2\]\)/,
        () => ({ t: [tf.zeros([2, 2, 3])] }),
      ],
      [
        'a bias of the wrong length',
        (i) => linearCrossEntropy(i.h, i.w, i.y, { bias: i.t[0] }),
        /bias must have shape \[10\]/,
        () => ({ t: [tf.zeros([9])] }),
      ],
      [
        'a bool kernel',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /kernel must be float32 or int32, got bool/,
        () => ({ w: tf.zeros([3, 10], 'bool') }),
      ],
      [
        'labels with other rows',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /labels have 3 rows but hidden have 4/,
        () => ({ y: tf.tensor([1, 2, 3], [3], 'int32') }),
      ],
      [
        'dense targets',
        (i) => linearCrossEntropy(i.h, i.w, i.y),
        /takes class ids/,
        () => ({ y: tf.oneHot(tf.tensor(x.y, [4], 'int32'), 10) }),
      ],
      ['an unknown option', (i) => linearCrossEntropy(i.h, i.w, i.y, { axis: 1 } as never), /unknown option 'axis'/],
      ['a kind outside the seam', (i) => linearLoss(i.h, i.w, i.y, { kind: 'mpce' }), /'mpce' is not one/],
      ['no kind', (i) => linearLoss(i.h, i.w, i.y, {} as never), /kind is required/],
      ['labelSmoothing on focal', (i) => linearLoss(i.h, i.w, i.y, { kind: 'focal', labelSmoothing: 0.1 }), /labelSmoothing/],
      ['a negative softcap', (i) => linearCrossEntropy(i.h, i.w, i.y, { softcap: -1 }), /softcap must be a finite number > 0/],
      ['an unknown device', (i) => linearCrossEntropy(i.h, i.w, i.y, { device: 'gpu' as never }), /device must be 'auto', 'cpu' or 'cuda'/],
      ['k > C', (i) => headTopK(i.h, i.w, 11), /k must be a finite number \(an integer in \[1, 10\]/],
      [
        'a shard past numClasses',
        (i) => headStatistics(i.h, i.w, i.y, { numClasses: 12, classOffset: 5 }),
        /\[5, 15\) pass the head's numClasses 12/,
      ],
      [
        "headGradients with 'none'",
        (i) => headGradients(i.h, i.w, i.y, i.t[0], { numClasses: 10, reduction: 'none' }),
        /'none' has no single gradient/,
        () => ({ t: [tf.zeros([4, 7])] }),
      ],
    ];
  for (const [name, call, message, make] of cases) {
    it(name, () => {
      const given = make?.() ?? {};
      const inputs: Inputs = {
        h: given.h ?? tf.tensor(x.h, [4, 3]),
        w: given.w ?? tf.tensor(x.w, [3, 10]),
        y: given.y ?? tf.tensor(x.y, [4], 'int32'),
        t: given.t ?? [],
      };
      const before = backendCounts();
      const e = thrownBy(() => call(inputs));
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/^mixloss\.\w+: /);
      expect(backendCounts()).toEqual(before);
      tf.dispose([inputs.h, inputs.w, inputs.y, ...inputs.t]);
    });
  }

  it('a bad label under tf.grad fails before the kernel and leaves nothing behind', () => {
    const h = tf.tensor(x.h, [4, 3]),
      w = tf.tensor(x.w, [3, 10]),
      y = tf.tensor([0, 1, 10, 2], [4], 'int32');
    const before = backendCounts();
    const e = thrownBy(() => tf.grads((hh: tf.Tensor, ww: tf.Tensor) => linearCrossEntropy(hh, ww, y))([h, w]));
    expect(e.message).toMatch(/label 10 at row 2/);
    expect(backendCounts()).toEqual(before);
    tf.dispose([h, w, y]);
  });
});

describe('a tfjs-layers model whose last layer is a Dense without activation, trained with the head', () => {
  it("a custom loop on the body and the Dense layer's variables lowers the loss; top-k predicts", () => {
    const r = rng(81);
    const C = 40,
      N = 64,
      F = 8;
    // Separable data: class c's inputs around a random centre.
    const centres = Array.from({ length: C }, () => Array.from({ length: F }, () => r() * 4 - 2));
    const ys = Int32Array.from({ length: N }, () => Math.floor(r() * C));
    const xs = Float32Array.from({ length: N * F }, (_, i) => centres[ys[Math.floor(i / F)]][i % F] + (r() - 0.5) * 0.2);
    const body = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [F], units: 16, activation: 'relu', kernelInitializer: 'glorotUniform' })],
    });
    const head = tf.layers.dense({ units: C, useBias: true });
    const model = tf.sequential({ layers: [...body.layers, head] });
    const optimizer = tf.train.adam(0.05);
    const x = tf.tensor(xs, [N, F]);
    const y = tf.tensor(ys, [N], 'int32');
    const step = (alpha: number, beta: number) =>
      optimizer.minimize(
        () => linearMixedLoss(body.apply(x) as tf.Tensor, head.kernel.read(), y, { alpha, beta, bias: head.bias.read() }),
        true,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      ) as tf.Scalar;
    // Plain CE before and after (the mixture's own value grows with β as F moves toward 0.5).
    const ce = () =>
      tf.tidy(() => linearCrossEntropy(body.apply(x) as tf.Tensor, head.kernel.read(), y, { bias: head.bias.read() }).dataSync()[0]);
    const start = ce();
    // scheduledMixedLoss's schedule (F from 0 toward 0.5), stepped by the loop.
    const schedule = focusSchedule('F=0-0.5');
    for (let epoch = 0; epoch < 60; epoch++) {
      const { alpha, beta } = schedule.atStep(epoch, 60);
      step(alpha, beta).dispose();
    }
    expect(ce()).toBeLessThan(start / 4);
    // The trained model's own predict agrees with top-1 of the head on the body's output.
    tf.tidy(() => {
      const { indices } = headTopK(body.predict(x) as tf.Tensor, head.kernel.read(), 1, { bias: head.bias.read() });
      const predicted = (tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync() as Int32Array).join();
      expect(Array.from(indices.dataSync()).join()).toBe(predicted);
    });
    x.dispose();
    y.dispose();
    optimizer.dispose();
  });
});
