// NaN and −∞ logits, huge logits, confident rows: what the kernels promise (README, "Numerics").
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, expectationLoss, mixedLoss } from '../src';
import { referenceMixedRow, tf, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

const rowsOf = (q: number[][], y: number[], opts = {}) =>
  mixedLoss(tf.tensor2d(q), tf.tensor1d(y, 'int32'), { reduction: 'none', ...opts }).dataSync();
const gradOf = (q: number[][], y: number[], opts = {}) =>
  tf.grad((x: tf.Tensor) => mixedLoss(x, tf.tensor1d(y, 'int32'), { reduction: 'sum', ...opts }))(tf.tensor2d(q)).dataSync();

describe('NaN logits', () => {
  it('a NaN gives NaN for its own row only (value and gradient)', () => {
    const q = [[1, NaN, 2], [1, 2, 3], [NaN, NaN, NaN]];
    const v = rowsOf(q, [0, 1, 2]);
    expect(v[0]).toBeNaN();
    expect(v[1]).toBeCloseTo(referenceMixedRow(q[1], 1, 1, 1).value, 5);
    expect(v[2]).toBeNaN();
    const g = gradOf(q, [0, 1, 2]);
    for (let j = 0; j < 3; j++) {
      expect(g[j]).toBeNaN();
      expect(Number.isFinite(g[3 + j])).toBe(true);
    }
  });

  it('a NaN in a block of otherwise masked (−∞) logits still poisons its row', () => {
    const C = 5000;
    const q = Array.from({ length: C }, () => -Infinity);
    q[10] = NaN;
    q[4000] = 1;
    expect(rowsOf([q], [4000])[0]).toBeNaN();
  });

  it('a NaN in the target logit poisons the row', () => {
    expect(rowsOf([[1, NaN, 0]], [1])[0]).toBeNaN();
  });
});

describe('−∞ logits (masked classes)', () => {
  it('contribute nothing to the loss and get a zero gradient', () => {
    const q = [[2, -Infinity, 1, -Infinity, 0.1]];
    const v = rowsOf(q, [0], { alpha: 1, beta: 1 })[0];
    expect(v).toBeCloseTo(0.758028877392, 6);  // the worked value of [2, 1, 0.1]
    const g = gradOf(q, [0], { alpha: 1, beta: 1 });
    expect(g[1]).toBe(0);
    expect(g[3]).toBe(0);
    expect(g[0]).toBeCloseTo(-0.565717498947, 6);
  });

  it('whole blocks of −∞ before and after the finite logits', () => {
    const C = 3 * 2048 + 7;
    const q = Array.from({ length: C }, () => -Infinity);
    q[5000] = 2; q[5001] = 1; q[C - 1] = 0.1;
    expect(rowsOf([q], [5000], { alpha: 1, beta: 1 })[0]).toBeCloseTo(0.758028877392, 6);
  });

  it('a masked target gives CE = +∞, EL = 1, and a finite gradient', () => {
    const q = [[1, -Infinity, 0]];
    expect(crossEntropy(tf.tensor2d(q), tf.tensor1d([1], 'int32'), { reduction: 'none' }).dataSync()[0]).toBe(Infinity);
    expect(expectationLoss(tf.tensor2d(q), tf.tensor1d([1], 'int32'), { reduction: 'none' }).dataSync()[0]).toBe(1);
    const g = gradOf(q, [1], { alpha: 1, beta: 0 });
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
  });

  it('an all −∞ row is NaN (no class to predict), and other rows are unaffected', () => {
    const v = rowsOf([[-Infinity, -Infinity], [0, 0]], [0, 0]);
    expect(v[0]).toBeNaN();
    expect(v[1]).toBeCloseTo(Math.log(2) + 0.5, 6);
  });

  it('dense targets: zero target on a masked class is fine, positive target is +∞', () => {
    const q = tf.tensor2d([[2, -Infinity, 1]]);
    expect(crossEntropy(q, tf.tensor2d([[1, 0, 0]]), { reduction: 'none' }).dataSync()[0]).toBeCloseTo(Math.log1p(Math.exp(-1)), 6);
    expect(crossEntropy(q, tf.tensor2d([[0.5, 0.5, 0]]), { reduction: 'none' }).dataSync()[0]).toBe(Infinity);
  });
});

describe('large and confident logits', () => {
  it('logits near ±1e4 match the float64 reference', () => {
    const q = [[10000, 9999, 9990, -10000]];
    const ref = referenceMixedRow(q[0], 1, 1, 1);
    expect(rowsOf(q, [1])[0]).toBeCloseTo(ref.value, 5);
    const g = gradOf(q, [1]);
    ref.grad.forEach((gj, j) => expect(g[j]).toBeCloseTo(gj, 6));
  });

  it('CE and 1 − p_y stay exact when p_y is within 1e-13 of 1 (no cancellation)', () => {
    const q = [[30, 0, 0]];
    const ce = 2 * Math.exp(-30);  // log1p(2e^-30)
    const v = crossEntropy(tf.tensor2d(q), tf.tensor1d([0], 'int32'), { reduction: 'none' }).dataSync()[0];
    expect(Math.abs(v - ce) / ce).toBeLessThan(1e-6);
    const el = expectationLoss(tf.tensor2d(q), tf.tensor1d([0], 'int32'), { reduction: 'none' }).dataSync()[0];
    expect(Math.abs(el - ce) / ce).toBeLessThan(1e-6);
    const g = gradOf(q, [0], { alpha: 1, beta: 0 });
    expect(Math.abs(g[0] + ce) / ce).toBeLessThan(1e-6);  // −(1 − p_y), not 0
    expect(g[1] + g[2] + g[0]).toBeCloseTo(0, 12);
  });

  it('a single class: loss 0, gradient 0', () => {
    const v = mixedLoss(tf.tensor2d([[3.5]]), tf.tensor1d([0], 'int32')).dataSync()[0];
    expect(v).toBe(0);
    expect(Math.abs(gradOf([[3.5]], [0])[0])).toBe(0);
  });
});
