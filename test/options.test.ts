// The options every loss takes, alone and together, against independent float64 references of
// PyTorch's semantics (cross_entropy's weight, ignore_index, label_smoothing, reductions) and of
// tfjs's (tf.losses.computeWeightedLoss, tf.losses.softmaxCrossEntropy), value and gradient, on
// both gradient paths (in the forward pass, and recomputed in a separate backward).
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, expectationLoss, focalLoss, losses, lossKinds, maeLoss, mixedLoss, mpceLoss, polyLoss } from '../src';
import { lossOps } from '../src/losses/op_table';
import type { LossOptions } from '../src';
import { centralDifference, gradientError, rowLosses, softmax64 } from './support/reference';
import { randomLabels, randomLogits, tf, useTestBackend, withSeparateBackward } from './support/tf';

interface Options {
  classWeights?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  zLoss?: number;
  reduction?: 'none' | 'sum' | 'mean';
}

/**
 * PyTorch's cross_entropy(logits, target, weight, ignore_index, label_smoothing, reduction),
 * written out in float64 (torch/nn/functional.py and aten's cross_entropy): per row
 * (1 − ε)·w_y·(−log p_y) + (ε/C)·Σ_c w_c·(−log p_c), 0 on ignored rows; 'mean' divides by
 * Σ w_y over the rows not ignored. Generalized to α·CE + β·EL per class (EL_c = 1 − p_c),
 * plus z·lse² per counted row.
 */
function torchLike(q: number[][], y: number[], o: Options, alpha = 1, beta = 0): number | number[] {
  const C = q[0].length,
    eps = o.labelSmoothing ?? 0,
    w = o.classWeights ?? new Array(C).fill(1);
  const rows = q.map((row, r) => {
    if (y[r] === o.ignoreIndex) return { value: 0, z: 0, weight: 0, counted: 0 };
    const { lse, logp, p } = softmax64(row);
    const per = (c: number) => (alpha !== 0 ? -alpha * logp[c] : 0) + beta * (1 - p[c]);
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth += w[c] * per(c);
    // z-loss as Liger adds it: not scaled by the class weight, and under 'mean' divided by the
    // rows counted while the rest is divided by their class weights.
    const z = (o.zLoss ?? 0) * lse * lse;
    return { value: (1 - eps) * w[y[r]] * per(y[r]) + (eps / C) * smooth, z, weight: w[y[r]], counted: 1 };
  });
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'none') return rows.map((r) => r.value + r.z);
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((a, r) => a + f(r), 0);
  if (reduction === 'sum') return sum((r) => r.value + r.z);
  return sum((r) => r.value) / sum((r) => r.weight) + sum((r) => r.z) / sum((r) => r.counted);
}

const B = 6,
  C = 5;
const q64 = Array.from(randomLogits(B, C, 31)).map((v) => v);
const rowsOf = (flat: number[]) => Array.from({ length: B }, (_, r) => flat.slice(r * C, (r + 1) * C));
const ids = Array.from(randomLabels(B, C, 32));
ids[2] = -100; // ignored where ignoreIndex is -100
const validIds = ids.map((y) => (y < 0 ? 1 : y));

/** Value and gradient from the op, on the tape (fused) and, separately, recomputed. */
function valueAndGrad(fn: (x: tf.Tensor) => tf.Tensor): { value: number[]; grad: number[] }[] {
  const run = () => {
    const x = tf.tensor2d(q64, [B, C]);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(fn(v)))(x);
    const out = { value: [value.dataSync()[0]], grad: Array.from(grad.dataSync()) };
    tf.dispose([x, value, grad]);
    return out;
  };
  return [run(), withSeparateBackward(run)];
}

/**
 * A gradient [B, C] against float64 central differences, entry by entry relative to itself (the
 * floor: the row's largest entry / 100·C), as the reference suite compares: an absolute bound
 * would let a 1e-3 relative error through entries of 1e-2. 5e-5: some entries are differences of
 * larger terms (smoothing, class weights and z-loss at once: 1.8e-5 measured); a gradient off by
 * 1e-4 fails.
 */
function expectGradient(actual: number[], want: number[]) {
  expect(gradientError(actual, want, B, C)).toBeLessThan(5e-5);
}

function expectClose(actual: number[], want: number[], tol: number) {
  expect(actual.length).toBe(want.length);
  actual.forEach((a, i) =>
    expect(Math.abs(a - want[i]), `entry ${i}: ${a} vs ${want[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]))),
  );
}

describe('options across the family', () => {
  beforeAll(useTestBackend);

  const combos: Array<[string, Options]> = [
    ['classWeights', { classWeights: [1, 2, 0.5, 3, 0.25] }],
    ['ignoreIndex', { ignoreIndex: -100 }],
    ['labelSmoothing', { labelSmoothing: 0.1 }],
    ['zLoss', { zLoss: 1e-3 }],
    ['classWeights + labelSmoothing', { classWeights: [1, 2, 0.5, 3, 0.25], labelSmoothing: 0.2 }],
    ['classWeights + ignoreIndex + labelSmoothing', { classWeights: [1, 2, 0.5, 3, 0.25], ignoreIndex: -100, labelSmoothing: 0.3 }],
    ['everything + zLoss', { classWeights: [0.5, 1, 2, 1, 1], ignoreIndex: -100, labelSmoothing: 1, zLoss: 0.01 }],
  ];
  const kinds: Array<[string, (x: tf.Tensor, y: number[], o: LossOptions) => tf.Tensor, number, number]> = [
    ['crossEntropy', crossEntropy, 1, 0],
    ['expectationLoss', expectationLoss, 0, 1],
    ['mixedLoss α=1 β=2', (x, y, o) => mixedLoss(x, y, { ...o, alpha: 1, beta: 2 }), 1, 2],
    ['polyLoss ε=-1', (x, y, o) => polyLoss(x, y, { ...o, epsilon: -1 }), 1, -1],
    ['maeLoss', maeLoss, 0, 2],
  ];
  for (const [kindName, op, alpha, beta] of kinds) {
    for (const [name, o] of combos) {
      for (const reduction of ['none', 'sum', 'mean'] as const) {
        it(`${kindName}, ${name}, ${reduction}: PyTorch's semantics, value and gradient (both paths)`, () => {
          const y = o.ignoreIndex === undefined ? validIds : ids;
          const opts = { ...o, reduction };
          const ref = (flat: number[]) => {
            const v = torchLike(rowsOf(flat), y, opts, alpha, beta);
            return Array.isArray(v) ? v.reduce((a, b) => a + b, 0) : v;
          };
          const want = ref(q64);
          const wantGrad = centralDifference(ref, q64, 1e-5);
          for (const got of valueAndGrad((x) => op(x, y, opts as LossOptions))) {
            expectClose(got.value, [want], 2e-5);
            expectGradient(got.grad, wantGrad);
          }
          if (o.ignoreIndex !== undefined) {
            // The ignored row: no value, a zero gradient.
            const [fused] = valueAndGrad((x) => op(x, y, opts as LossOptions));
            expect(fused.grad.slice(2 * C, 3 * C)).toEqual(new Array(C).fill(0));
          }
        });
      }
    }
  }

  it('class weights are constants: asking for their gradient is an Error, not a silent zero', () => {
    const x = tf.tensor2d(q64, [B, C]),
      w = tf.tensor1d([1, 2, 0.5, 3, 0.25]);
    expect(() => tf.grad((v: tf.Tensor) => crossEntropy(x, validIds, { classWeights: v }))(w)).toThrow(
      /gradient with respect to classWeights is not implemented/,
    );
    tf.dispose([x, w]);
  });

  it('a scalar sample weight with ignoreIndex: ignored rows leave the nonzero count and the mean', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const rows = Array.from(crossEntropy(x, ids, { ignoreIndex: -100, reduction: 'none' }).dataSync());
    const total = rows.reduce((a, v) => a + 2.5 * v, 0); // the ignored row's loss is 0
    const counted = ids.filter((y) => y !== -100).length; // 5 of 6
    for (const [reduction, want] of [
      [tf.Reduction.SUM_BY_NONZERO_WEIGHTS, total / counted],
      [tf.Reduction.MEAN, total / (2.5 * counted)],
    ] as const) {
      expect(crossEntropy(x, ids, { weights: 2.5, ignoreIndex: -100, reduction }).dataSync()[0]).toBeCloseTo(want, 5);
    }
    x.dispose();
  });

  it('every row ignored: the mean is NaN (0/0, as PyTorch) and the gradient zero', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const y = new Array(B).fill(-100);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => crossEntropy(v, y, { ignoreIndex: -100 }))(x);
    expect(Number.isNaN(value.dataSync()[0])).toBe(true);
    expect(Array.from(grad.dataSync()).every((g) => g === 0)).toBe(true);
    expect(crossEntropy(x, y, { ignoreIndex: -100, reduction: 'sum' }).dataSync()[0]).toBe(0);
    tf.dispose([x, value, grad]);
  });

  it('every form of the same sample weights (number, [1], [B], nested, [B, 1] for rows [B, T]) gives one value and gradient', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const run = (weights: unknown, reduction: tf.Reduction | 'mean' | 'sum') => {
      const { value, grad } = tf.valueAndGrad(
        (v: tf.Tensor) => crossEntropy(v, validIds, { weights: weights as never, reduction }) as tf.Scalar,
      )(x);
      const out = { value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
      tf.dispose([value, grad]);
      return out;
    };
    for (const w of [2.5, 0]) {
      for (const reduction of ['mean', 'sum', tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS] as const) {
        const rows = run(new Array(B).fill(w), reduction);
        for (const form of [w, [w], tf.scalar(w), tf.tensor1d([w]), Float32Array.of(w)]) {
          const got = run(form, reduction);
          // All-zero weights under a mean: 0/0 is NaN, and the gradient is zero in every form.
          expect(got.value, `${String(form)} ${reduction}`).toEqual(rows.value);
          expect(got.grad, `${String(form)} ${reduction}`).toEqual(rows.grad);
          if (form instanceof tf.Tensor) form.dispose();
        }
      }
    }
    // Rows [B, T]: weights [B, 1] are each batch's weight for its T rows.
    const x3 = tf.tensor3d(q64, [2, 3, C]);
    const y3 = tf.tensor2d(validIds, [2, 3], 'int32');
    const column = tf.tensor2d([2, 0.5], [2, 1]);
    const full = tf.tensor2d([2, 2, 2, 0.5, 0.5, 0.5], [2, 3]);
    const g3 = (w: tf.Tensor) => tf.valueAndGrad((v: tf.Tensor) => crossEntropy(v, y3, { weights: w }) as tf.Scalar)(x3);
    const [a, b] = [g3(column), g3(full)];
    expect(a.value.dataSync()[0]).toBe(b.value.dataSync()[0]);
    expect(Array.from(a.grad.dataSync())).toEqual(Array.from(b.grad.dataSync()));
    tf.dispose([x, x3, y3, column, full, a.value, a.grad, b.value, b.grad]);
  });

  it('class ids as floats and [B, 1] honour ignoreIndex and class weights like int32 [B]', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const o = { ignoreIndex: -100, classWeights: [1, 2, 0.5, 3, 0.25], labelSmoothing: 0.1 };
    const a = crossEntropy(x, tf.tensor1d(ids, 'int32'), o).dataSync()[0];
    const b = crossEntropy(x, tf.tensor1d(ids, 'float32'), o).dataSync()[0];
    const c = crossEntropy(x, tf.tensor2d(ids, [B, 1], 'int32'), o).dataSync()[0];
    expect(b).toBeCloseTo(a, 6);
    expect(c).toBeCloseTo(a, 6);
    expect(a).toBeCloseTo(torchLike(rowsOf(q64), ids, o) as number, 5);
    tf.dispose(x);
  });

  it('dense targets take labelSmoothing and classWeights (Σ_c w_c t_c ℓ_c, mean over rows as PyTorch)', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const t = tf.oneHot(tf.tensor1d(validIds, 'int32'), C);
    const w = [1, 2, 0.5, 3, 0.25];
    const got = crossEntropy(x, t, { labelSmoothing: 0.2, classWeights: w }).dataSync()[0];
    let want = 0;
    rowsOf(q64).forEach((row, r) => {
      const { logp } = softmax64(row);
      for (let c = 0; c < C; c++) want += w[c] * ((c === validIds[r] ? 0.8 : 0) + 0.2 / C) * -logp[c];
    });
    expect(got).toBeCloseTo(want / B, 5);
    tf.dispose([x, t]);
  });

  describe('sample weights and tf.Reduction: tf.losses.computeWeightedLoss on the row losses', () => {
    const stockRows = (x: tf.Tensor) =>
      tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(validIds, 'int32'), C), x, undefined, 0, tf.Reduction.NONE);
    for (const [name, weights] of [
      ['per row', [1, 0, 2, 0.5, 0, 3]],
      ['scalar', 2.5],
      ['[B, 1]', null],
    ] as const) {
      for (const reduction of [tf.Reduction.NONE, tf.Reduction.SUM, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]) {
        it(`${name} weights, ${tf.Reduction[reduction]}: value and gradient as stock tfjs`, () => {
          const w = weights === null ? tf.tensor2d([1, 2, 0, 1, 1, 4], [B, 1]) : weights;
          const x = tf.tensor2d(q64, [B, C]);
          const lead = weights === null;
          const f = (v: tf.Tensor) =>
            tf.sum(crossEntropy(v, validIds, { weights: lead ? tf.reshape(w as tf.Tensor, [B]) : (w as never), reduction }));
          const g = (v: tf.Tensor) =>
            tf.sum(tf.losses.computeWeightedLoss(stockRows(v), lead ? tf.reshape(w as tf.Tensor, [B]) : (w as never), reduction));
          for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
            path(() => {
              const ours = tf.valueAndGrad(f)(x),
                theirs = tf.valueAndGrad(g)(x);
              expectClose([ours.value.dataSync()[0]], [theirs.value.dataSync()[0]], 1e-5);
              expectClose(Array.from(ours.grad.dataSync()), Array.from(theirs.grad.dataSync()), 1e-5);
              tf.dispose([ours.value, ours.grad, theirs.value, theirs.grad]);
            });
          }
          tf.dispose(x);
          if (w instanceof tf.Tensor) w.dispose();
        });
      }
    }
  });

  describe('sample weights as a kernel input: the gradient w.r.t. the weights too, as stock tfjs', () => {
    for (const ignore of [false, true]) {
      for (const reduction of [tf.Reduction.NONE, tf.Reduction.SUM, tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]) {
        it(`${tf.Reduction[reduction]}${ignore ? ', ignoreIndex' : ''}: value, ∂/∂logits and ∂/∂weights (both paths)`, () => {
          const y = ignore ? ids : validIds;
          const mask = y.map((v) => (v < 0 ? 0 : 1));
          const stockRows = (v: tf.Tensor) =>
            tf.mul(
              tf.losses.softmaxCrossEntropy(
                tf.oneHot(
                  tf.tensor1d(
                    y.map((v) => Math.max(v, 0)),
                    'int32',
                  ),
                  C,
                ),
                v,
                undefined,
                0,
                tf.Reduction.NONE,
              ),
              tf.tensor1d(mask),
            );
          const ours = (v: tf.Tensor, w: tf.Tensor) =>
            tf.sum(crossEntropy(v, y, { weights: w, reduction, ...(ignore ? { ignoreIndex: -100 } : {}) }));
          // SUM_BY_NONZERO_WEIGHTS divides by a count (tfjs has no gradient for its notEqual): constant in w.
          const nonzero = [1, 0, 2, 0.5, 0, 3].filter((v, i) => v !== 0 && mask[i] === 1).length;
          const theirs = (v: tf.Tensor, w: tf.Tensor) =>
            reduction === tf.Reduction.SUM_BY_NONZERO_WEIGHTS
              ? tf.div(tf.sum(tf.mul(stockRows(v), tf.mul(w, tf.tensor1d(mask)))), nonzero)
              : tf.sum(tf.losses.computeWeightedLoss(stockRows(v), tf.mul(w, tf.tensor1d(mask)), reduction));
          const x = tf.tensor2d(q64, [B, C]),
            w = tf.tensor1d([1, 0, 2, 0.5, 0, 3]);
          for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
            path(() => {
              const a = tf.grads(ours)([x, w]),
                b = tf.grads(theirs)([x, w]);
              expectClose([ours(x, w).dataSync()[0]], [theirs(x, w).dataSync()[0]], 1e-5);
              expectClose(Array.from(a[0].dataSync()), Array.from(b[0].dataSync()), 1e-5);
              expectClose(Array.from(a[1].dataSync()), Array.from(b[1].dataSync()), 1e-5);
              tf.dispose([...a, ...b]);
            });
          }
          tf.dispose([x, w]);
        });
      }
    }

    it("weights of the rows' shape [B, T] for logits [B, T, C]", () => {
      const x = tf.tensor3d(q64, [2, 3, C]),
        y = tf.tensor2d(validIds, [2, 3], 'int32'),
        w = tf.tensor2d([1, 2, 0, 1, 1, 3], [2, 3]);
      const got = crossEntropy(x, y, { weights: w }).dataSync()[0];
      const rows = crossEntropy(x, y, { reduction: 'none' }).dataSync();
      expect(got).toBeCloseTo(Array.from(rows).reduce((a, v, i) => a + v * w.dataSync()[i], 0) / 8, 5);
      tf.dispose([x, y, w]);
    });
  });

  describe('drop-in losses.softmaxCrossEntropy: the same numbers as tf.losses.softmaxCrossEntropy', () => {
    const cases: Array<[string, Array<unknown>]> = [
      ['defaults', []],
      ['weights [B]', [[1, 2, 3, 0, 1, 1]]],
      ['scalar weight', [3]],
      ['label smoothing', [undefined, 0.1]],
      ['weights + smoothing, MEAN', [[1, 2, 3, 0, 1, 1], 0.2, tf.Reduction.MEAN]],
      ['SUM', [undefined, 0, tf.Reduction.SUM]],
      ['NONE with smoothing', [undefined, 0.3, tf.Reduction.NONE]],
    ];
    for (const [name, rest] of cases) {
      it(`${name}: value and gradient w.r.t. logits; w.r.t. the labels, the true one`, () => {
        const x = tf.tensor2d(q64, [B, C]);
        const t = tf.cast(tf.oneHot(tf.tensor1d(validIds, 'int32'), C), 'float32');
        const args = rest.map((a) => (Array.isArray(a) ? tf.tensor1d(a as number[]) : a));
        const ours = tf.grads((v: tf.Tensor, l: tf.Tensor) => tf.sum(losses.softmaxCrossEntropy(l, v, ...(args as []))));
        const theirs = tf.grads((v: tf.Tensor, l: tf.Tensor) => tf.sum(tf.losses.softmaxCrossEntropy(l, v, ...(args as []))));
        // tfjs's own gradient w.r.t. the labels is dy·(t − p) (its customGrad), not ∂/∂t of
        // −Σ t log p = −log p: the reference for that one is tfjs autodiff of the stock formula.
        const stockLoss = (v: tf.Tensor, l: tf.Tensor) => {
          const [w, eps, red] = args as [tf.Tensor | number | undefined, number | undefined, tf.Reduction | undefined];
          const smoothed = eps ? tf.add(tf.mul(l, 1 - eps), eps / C) : l;
          const rowLoss = tf.neg(tf.sum(tf.mul(smoothed, tf.logSoftmax(v)), -1));
          return tf.sum(tf.losses.computeWeightedLoss(rowLoss, w, red));
        };
        const [a, b, c] = [ours, theirs, tf.grads(stockLoss)].map((g) => g([x, t]));
        expectClose(Array.from(a[0].dataSync()), Array.from(b[0].dataSync()), 1e-5);
        expectClose(Array.from(c[0].dataSync()), Array.from(b[0].dataSync()), 1e-5);
        expectClose(Array.from(a[1].dataSync()), Array.from(c[1].dataSync()), 1e-5);
        const va = losses.softmaxCrossEntropy(t, x, ...(args as [])),
          vb = tf.losses.softmaxCrossEntropy(t, x, ...(args as []));
        expect(va.shape).toEqual(vb.shape);
        expectClose(Array.from(va.dataSync()), Array.from(vb.dataSync()), 1e-5);
        const sparse = losses.sparseSoftmaxCrossEntropy(tf.tensor1d(validIds, 'int32'), x, ...(args as []));
        expectClose(Array.from(sparse.dataSync()), Array.from(vb.dataSync()), 1e-5);
        tf.dispose([x, t, ...a, ...b, ...c, va, vb, sparse, ...(args.filter((v) => v instanceof tf.Tensor) as tf.Tensor[])]);
      });
    }
  });

  it('logits [B, T, C] with labels [B, T] (sequence models): rows of the flattened batch', () => {
    const x = tf.tensor3d(q64, [2, 3, C]);
    const y = tf.tensor2d(validIds, [2, 3], 'int32');
    const perRow = crossEntropy(x, y, { reduction: 'none' });
    expect(perRow.shape).toEqual([2, 3]);
    const flat = crossEntropy(tf.reshape(x, [B, C]), validIds, { reduction: 'none' });
    expectClose(Array.from(perRow.dataSync()), Array.from(flat.dataSync()), 1e-7);
    const g3 = tf.grad((v: tf.Tensor) => focalLoss(v, y, { classWeights: [1, 2, 1, 1, 3] }))(x);
    const g2 = tf.grad((v: tf.Tensor) => focalLoss(v, validIds, { classWeights: [1, 2, 1, 1, 3] }))(tf.reshape(x, [B, C]));
    expect(g3.shape).toEqual([2, 3, C]);
    expectClose(Array.from(g3.dataSync()), Array.from(g2.dataSync()), 1e-6);
    const dense = crossEntropy(x, tf.oneHot(y, C));
    expect(dense.dataSync()[0]).toBeCloseTo(flat.mean().dataSync()[0], 5);
    tf.dispose([x, y, perRow, flat, g3, g2, dense]);
  });

  it('focal alpha: a number scales; an array is α-balanced (α_y per row) with the mean over rows', () => {
    const x = tf.tensor2d(q64, [B, C]);
    const alpha = [0.25, 0.5, 1, 2, 0.75];
    const ref = rowsOf(q64).map((row, r) => rowLosses.focal(2)(softmax64(row).logp[validIds[r]]).value);
    const scaled = focalLoss(x, validIds, { alpha: 0.25 }).dataSync()[0];
    expect(scaled).toBeCloseTo((0.25 * ref.reduce((a, b) => a + b, 0)) / B, 6);
    const balanced = focalLoss(x, validIds, { alpha }).dataSync()[0];
    expect(balanced).toBeCloseTo(ref.reduce((a, v, r) => a + alpha[validIds[r]] * v, 0) / B, 6);
    // classWeights instead: PyTorch's weighted mean (divided by Σ w_y).
    const weighted = focalLoss(x, validIds, { classWeights: alpha }).dataSync()[0];
    expect(weighted).toBeCloseTo(ref.reduce((a, v, r) => a + alpha[validIds[r]] * v, 0) / validIds.reduce((a, y) => a + alpha[y], 0), 6);
    tf.dispose(x);
  });

  it('MPCE with class weights and ignoreIndex, gradient against central differences', () => {
    const mpce = (row: number[], y: number) => {
      const { logp, p } = softmax64(row);
      let k = 0;
      for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
      return k === y ? 0 : -(p[k] - p[y]) * logp[y];
    };
    const w = [1, 2, 0.5, 3, 0.25];
    const ref = (flat: number[]) => rowsOf(flat).reduce((a, row, r) => a + (ids[r] < 0 ? 0 : w[ids[r]] * mpce(row, ids[r])), 0);
    for (const got of valueAndGrad((x) => mpceLoss(x, ids, { classWeights: w, ignoreIndex: -100, reduction: 'sum' }))) {
      expectClose(got.value, [ref(q64)], 1e-5);
      expectGradient(got.grad, centralDifference(ref, q64, 1e-5));
    }
  });

  // Issue 12, a fuzzer finding (native/fuzz/regressions/mpce-argmax-cancellation): with
  // log p_y = −1.8e5 the argmax entry a·p_k + c is ~1 from two terms of ~1.8e5 that cancel;
  // adding c to the float a·p_k lost 8 bits (0.99609 for 1).
  it('MPCE: the argmax entry stays exact when the target is 1.8e5 below the max (both paths)', () => {
    // p_k ≈ 1, p_y = e^−177640, p_1 = e^−50: ∂/∂q_k = p_k(gap + CE(1 − gap)) ≈ 1, ∂/∂q_y ≈ −1.
    // Three rows and 'mean' (weight 1/3, not a power of two), gaps that are not integers.
    const rows = [
      [0, -50, -177640.3],
      [0.7, -50, -177639.9],
      [-0.2, -49.1, -170001.7],
    ];
    for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
      path(() => {
        const x = tf.tensor2d(rows);
        const g = tf
          .grad((v: tf.Tensor) => mpceLoss(v, [2, 2, 2]))(x)
          .dataSync();
        for (let r = 0; r < 3; r++) {
          expect(Math.abs(g[3 * r] - 1 / 3)).toBeLessThan(1e-7);
          expect(Math.abs(g[3 * r + 2] + 1 / 3)).toBeLessThan(1e-7);
        }
        x.dispose();
      });
    }
  });

  // Issue 12, a fuzzer finding (native/fuzz/regressions/mpce-nan-row): the target the largest
  // finite logit and a NaN elsewhere gave 0 from forward and NaN from the training pass.
  it('MPCE: a NaN logit makes its row NaN, in every path, whatever the argmax; other rows unaffected', () => {
    const x = tf.tensor2d([
      [1, NaN, 5, 2],
      [0, 1, 2, 3],
    ]);
    const y = [2, 3];
    const values = mpceLoss(x, y, { reduction: 'none' }).dataSync();
    expect(values[0]).toBeNaN();
    expect(values[1]).toBe(0); // k = y
    for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
      path(() => {
        const g = tf
          .grad((v: tf.Tensor) => mpceLoss(v, y, { reduction: 'sum' }))(x)
          .dataSync();
        expect(Array.from(g.subarray(0, 4)).every(Number.isNaN)).toBe(true);
        expect(Array.from(g.subarray(4))).toEqual([0, 0, 0, 0]);
      });
    }
    x.dispose();
  });

  it('softcap: the loss of cap·tanh(q/cap), value and gradient against central differences', () => {
    const cap = 2;
    const ref = (flat: number[]) =>
      rowsOf(flat.map((v) => cap * Math.tanh(v / cap))).reduce(
        (a, row, r) => a + rowLosses.focal(2)(softmax64(row).logp[validIds[r]]).value,
        0,
      );
    for (const got of valueAndGrad((x) => focalLoss(x, validIds, { softcap: cap, reduction: 'sum' }))) {
      expectClose(got.value, [ref(q64)], 1e-5);
      expectGradient(got.grad, centralDifference(ref, q64, 1e-5));
    }
    expect(() => crossEntropy(tf.zeros([2, 3]), [0, 1], { softcap: 0 })).toThrow(/softcap must be a finite number > 0, got 0/);
  });

  it('MPCE: tied maxima in different slices of a split row take the first index (both paths)', () => {
    // 2 × 200000: few long rows are cut into slices across threads; the max 3 stands at 10 and at
    // 150000 of row 0 (different slices) and at 199999 and 5 of row 1 (first: 5).
    const B2 = 2,
      C2 = 200_000;
    const data = new Float32Array(B2 * C2).map((_, i) => Math.sin(i * 0.37));
    data[10] = 3;
    data[150_000] = 3;
    data[C2 + 199_999] = 3;
    data[C2 + 5] = 3;
    const y = [7, 7];
    for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
      path(() => {
        const x = tf.tensor2d(data, [B2, C2]);
        const g = tf
          .grad((v: tf.Tensor) => mpceLoss(v, y, { reduction: 'sum' }))(x)
          .dataSync();
        // ∂/∂q_k = a·p_k + c with c = −p_k log p_y > 0 at the argmax k only; the tied twin gets a·p.
        // (c ≈ p_k·CE ≈ 1e-3 here; a·p_k is ≈ 1e-7.)
        expect(g[10]).toBeGreaterThan(1000 * Math.abs(g[150_000]));
        expect(g[C2 + 5]).toBeGreaterThan(1000 * Math.abs(g[C2 + 199_999]));
        x.dispose();
      });
    }
  });

  it('z-loss on a p_y loss: focal + z·lse², gradient against central differences', () => {
    const ref = (flat: number[]) =>
      rowsOf(flat).reduce((a, row, r) => {
        const { lse, logp } = softmax64(row);
        return a + rowLosses.focal(2)(logp[validIds[r]]).value + 0.05 * lse * lse;
      }, 0);
    for (const got of valueAndGrad((x) => focalLoss(x, validIds, { zLoss: 0.05, reduction: 'sum' }))) {
      expectClose(got.value, [ref(q64)], 1e-5);
      expectGradient(got.grad, centralDifference(ref, q64, 1e-5));
    }
  });

  it('the registry and the ops agree: every native kind has an op, every op runs a kind of the registry', () => {
    expect([...lossKinds().keys()].sort()).toEqual([...new Set(lossOps().values())].sort());
    expect(
      lossKinds()
        .get('focal')
        ?.params.map((p) => p.name),
    ).toEqual(['gamma', 'alpha']);
    expect(lossKinds().get('mixed')?.linear).toBe(true);
    expect(lossKinds().get('focal')?.linear).toBe(false);
  });
});
