// NaN and −∞ logits, extreme logit gaps, huge logits, confident rows: what the kernels promise
// (README, "Numerics"), for every loss.
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, expectationLoss, focalLoss, mixedLoss } from '../src';
import { LOSSES } from './support/losses';
import { referenceMixedDense, referenceMixedRow, referenceRow } from './support/reference';
import { randomLogits, tf, useTestBackend, withSeparateBackward } from './support/tf';

beforeAll(useTestBackend);

const rowsOf = (q: number[][], y: number[], opts = {}) =>
  tf.tidy(() => mixedLoss(tf.tensor2d(q), tf.tensor1d(y, 'int32'), { reduction: 'none', ...opts }).dataSync());
const gradOf = (q: number[][], y: number[], opts = {}) =>
  tf.tidy(() =>
    tf
      .grad((x: tf.Tensor) => mixedLoss(x, tf.tensor1d(y, 'int32'), { reduction: 'sum', ...opts }))(tf.tensor2d(q))
      .dataSync(),
  );

/** Row values and the gradient (reduction 'sum') of a loss case. */
function valuesAndGrad(op: (typeof LOSSES)[number]['op'], q: number[][], y: number[]) {
  return tf.tidy(() => {
    const labels = tf.tensor1d(y, 'int32');
    const rows = op(tf.tensor2d(q), labels, { reduction: 'none' }).dataSync();
    const grad = tf
      .grad((x: tf.Tensor) => op(x, labels, { reduction: 'sum' }))(tf.tensor2d(q))
      .dataSync();
    return { rows, grad };
  });
}

describe('every loss: NaN, −∞ and extreme gaps', () => {
  for (const loss of LOSSES) {
    it(`${loss.name}: a NaN gives NaN for its own row only (value and gradient)`, () => {
      const q = [
        [1, NaN, 2],
        [1, 2, 3],
        [NaN, NaN, NaN],
      ];
      const { rows, grad } = valuesAndGrad(loss.op, q, [0, 1, 2]);
      expect(rows[0]).toBeNaN();
      expect(rows[2]).toBeNaN();
      expect(Math.abs(rows[1] - referenceRow(loss.reference, q[1], 1).value)).toBeLessThan(1e-6);
      for (let j = 0; j < 3; j++) {
        expect(grad[j]).toBeNaN();
        expect(grad[3 + j]).toBeCloseTo(referenceRow(loss.reference, q[1], 1).grad[j], 6);
      }
    });

    it(`${loss.name}: a row entirely −∞, or holding +∞, is NaN in its value and every gradient entry, in both passes`, () => {
      // (It has no softmax. The separate backward pass took exp(−∞ − (−∞)) = NaN for entries the
      // fused pass stored as 0, so the two passes gave different rows.)
      const q = [
        [-Infinity, -Infinity, -Infinity],
        [1, Infinity, 0],
        [0.5, -1, 2],
      ];
      const ref = referenceRow(loss.reference, q[2], 2);
      for (const path of [<T>(f: () => T) => f(), withSeparateBackward]) {
        const { rows, grad } = path(() => valuesAndGrad(loss.op, q, [0, 0, 2]));
        expect([rows[0], rows[1]]).toEqual([NaN, NaN]);
        expect(Array.from(grad.subarray(0, 6)).every(Number.isNaN)).toBe(true);
        expect(rows[2]).toBeCloseTo(ref.value, 6);
        Array.from(grad.subarray(6)).forEach((g, j) => expect(g).toBeCloseTo(ref.grad[j], 6));
      }
    });

    it(`${loss.name}: masked (−∞) classes add nothing and get a zero gradient`, () => {
      const q = [[2, -Infinity, 1, -Infinity, 0.1]];
      const ref = referenceRow(loss.reference, [2, 1, 0.1], 0);
      const { rows, grad } = valuesAndGrad(loss.op, q, [0]);
      expect(rows[0]).toBeCloseTo(ref.value, 6);
      expect([grad[1], grad[3]]).toEqual([0, 0]);
      [grad[0], grad[2], grad[4]].forEach((g, j) => expect(g).toBeCloseTo(ref.grad[j], 6));
    });

    it(`${loss.name}: a masked target gives the loss's limit and a finite gradient`, () => {
      const { rows, grad } = valuesAndGrad(
        loss.op,
        [
          [1, -Infinity, 0],
          [0.5, 0.2, 0],
        ],
        [1, 0],
      );
      const limit = referenceRow(loss.reference, [1, -Infinity, 0], 1).value; // +∞, 1, 1/q, …
      if (Number.isFinite(limit)) expect(rows[0]).toBeCloseTo(limit, 6);
      else expect(rows[0]).toBe(limit);
      expect(Array.from(grad).every(Number.isFinite)).toBe(true);
      expect(rows[1]).toBeCloseTo(referenceRow(loss.reference, [0.5, 0.2, 0], 0).value, 6);
    });

    // Issue 14: CE was +∞ once the target was ~709.8 below the row max (e_y underflowed in
    // double), and focal's gradient NaN. A finite input gives a finite loss and gradient.
    for (const gap of [100, 709, 710, 745, 800, 1e4, 1e30]) {
      it(`${loss.name}: the target ${gap} below the max gives the float64 value and gradient`, () => {
        const q = [[0, -gap, 1, -3]];
        const { rows, grad } = valuesAndGrad(loss.op, q, [1]);
        const ref = referenceRow(loss.reference, q[0], 1);
        expect(Number.isFinite(rows[0])).toBe(true);
        expect(Math.abs(rows[0] - ref.value) / Math.max(1, Math.abs(ref.value))).toBeLessThan(1e-6);
        for (let j = 0; j < 4; j++) {
          expect(Number.isFinite(grad[j])).toBe(true);
          expect(Math.abs(grad[j] - ref.grad[j])).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.grad[j])));
        }
      });
    }
  }
});

describe('NaN logits', () => {
  it('a NaN in a block of otherwise masked (−∞) logits still poisons its row, in long rows and in short ones', () => {
    const C = 5000;
    const q = Array.from({ length: C }, () => -Infinity);
    q[10] = NaN;
    q[4000] = 1;
    expect(rowsOf([q], [4000])[0]).toBeNaN();
    // A short piece beside the target (fewer than 16 columns: the short pieces' own loop).
    for (const row of [
      [-Infinity, NaN, -Infinity, 1],
      [1, -Infinity, NaN],
    ])
      expect(rowsOf([row], [row.indexOf(1)])[0], `[${row}]`).toBeNaN();
  });

  it('a NaN in the target logit poisons the row', () => {
    expect(rowsOf([[1, NaN, 0]], [1])[0]).toBeNaN();
  });
});

describe('−∞ logits (masked classes)', () => {
  it('whole blocks of −∞ before and after the finite logits', () => {
    const C = 3 * 2048 + 7;
    const q = Array.from({ length: C }, () => -Infinity);
    q[5000] = 2;
    q[5001] = 1;
    q[C - 1] = 0.1;
    expect(rowsOf([q], [5000], { alpha: 1, beta: 1 })[0]).toBeCloseTo(0.758028877392, 6);
  });

  it('a masked target: CE = +∞, EL = 1, and the gradient of CE is p − onehot', () => {
    const q = [[1, -Infinity, 0]];
    expect(crossEntropy(tf.tensor2d(q), tf.tensor1d([1], 'int32'), { reduction: 'none' }).dataSync()[0]).toBe(Infinity);
    expect(expectationLoss(tf.tensor2d(q), tf.tensor1d([1], 'int32'), { reduction: 'none' }).dataSync()[0]).toBe(1);
    const g = gradOf(q, [1], { alpha: 1, beta: 0 });
    const p0 = 1 / (1 + Math.exp(-1));
    [p0, -1, 1 - p0].forEach((gj, j) => expect(g[j]).toBeCloseTo(gj, 6));
  });

  it('focal with γ = 0 on a masked target: the gradient of CE, not NaN (issue 14)', () => {
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => focalLoss(x, [1], { gamma: 0 }))(tf.tensor2d([[1, -Infinity, 0]]))
        .dataSync(),
    );
    const p0 = 1 / (1 + Math.exp(-1));
    [p0, -1, 1 - p0].forEach((gj, j) => expect(g[j]).toBeCloseTo(gj, 6));
  });

  it('an all −∞ row is NaN (no class to predict), and other rows are unaffected', () => {
    const v = rowsOf(
      [
        [-Infinity, -Infinity],
        [0, 0],
      ],
      [0, 0],
    );
    expect(v[0]).toBeNaN();
    expect(v[1]).toBeCloseTo(Math.log(2) + 0.5, 6);
  });

  it('dense targets: zero target on a masked class is fine, positive target is +∞', () => {
    const q = tf.tensor2d([[2, -Infinity, 1]]);
    expect(crossEntropy(q, tf.tensor2d([[1, 0, 0]]), { reduction: 'none' }).dataSync()[0]).toBeCloseTo(Math.log1p(Math.exp(-1)), 6);
    expect(crossEntropy(q, tf.tensor2d([[0.5, 0.5, 0]]), { reduction: 'none' }).dataSync()[0]).toBe(Infinity);
    q.dispose();
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

  it('dense targets where t·logit overflows float32: CE stays finite, or is +∞ when it truly is (issue 14)', () => {
    // Targets a user passes are distributions (t <= 1, so t·q stays finite); the kernel's targets
    // are Σ_c w_c t_c with class weights, and those can exceed 1.
    const ce = (q: number[], t: number[], w: number[]) =>
      tf.tidy(() => crossEntropy(tf.tensor2d([q]), tf.tensor2d([t]), { reduction: 'none', classWeights: w }).dataSync()[0]);
    // 2·3e38 overflows float32; the true CE is 2·log(1 + e^−3e38) = 0.
    expect(ce([3e38, 0], [1, 0], [2, 1])).toBe(0);
    expect(ce([3e38, 1, 0], [0.75, 0.25, 0], [2, 2, 1])).toBeCloseTo(0.5 * (3e38 - 1), -32);
    // Σ t (lse − q) = 0 + 6e38: beyond float32, so +∞ (it was −∞).
    expect(ce([3e38, -3e38], [0.5, 0.5], [2, 2])).toBe(Infinity);
  });

  it('dense soft targets with logits near 1e5: CE = Σ t·lse − Σ t·q to float64 (Σ t summed in double)', () => {
    // CE is a small difference of two terms ~1e5: Σ t summed in float lanes was ~1e-7 off, and
    // that times lse ~1e5 was the whole error (found by the fuzzer's float64 reference).
    const [B, C] = [6, 3000];
    const q = randomLogits(B, C, 21, 4).map((v) => v + 1e5);
    const t = randomLogits(B, C, 22, 1).map((v) => v + 1);
    for (let r = 0; r < B; r++) {
      q[r * C + 7] += 30; // a confident row: t mostly on its max, so CE is small
      const row = t.subarray(r * C, (r + 1) * C);
      row.fill(0).fill(1e-4, 100, 1100);
      row[7] = 0.9;
    }
    const got = tf.tidy(() => crossEntropy(tf.tensor2d(q, [B, C]), tf.tensor2d(t, [B, C]), { reduction: 'none' }).dataSync());
    for (let r = 0; r < B; r++) {
      const want = referenceMixedDense(q.subarray(r * C, (r + 1) * C), t.subarray(r * C, (r + 1) * C), 1, 0).value;
      expect(Math.abs(got[r] - want) / want, `row ${r}`).toBeLessThan(1e-6);
    }
  });

  it('label smoothing with logits near 1e5: its term (ε/C)·Σ_c (lse − q_c) to float64 (summed as Σ (max − q))', () => {
    // Σ_c (lse − q_c) with Σ q summed as is lost digits to its size: 4e-4 of the row's value here.
    const [B, C, eps] = [6, 3000, 0.1];
    const q = randomLogits(B, C, 23, 4).map((v) => v + 1e5);
    const y = Array.from({ length: B }, (_, r) => (r * 977) % C);
    y.forEach((k, r) => (q[r * C + k] += 30));
    const got = tf.tidy(() =>
      crossEntropy(tf.tensor2d(q, [B, C]), tf.tensor1d(y, 'int32'), { labelSmoothing: eps, reduction: 'none' }).dataSync(),
    );
    for (let r = 0; r < B; r++) {
      const t = Array.from({ length: C }, (_, j) => eps / C + (j === y[r] ? 1 - eps : 0));
      const want = referenceMixedDense(q.subarray(r * C, (r + 1) * C), t, 1, 0).value;
      expect(Math.abs(got[r] - want) / want, `row ${r}`).toBeLessThan(1e-6);
    }
  });

  it('CE and 1 − p_y stay exact when p_y is within 1e-13 of 1 (no cancellation)', () => {
    const q = [[30, 0, 0]];
    const ce = 2 * Math.exp(-30); // log1p(2e^-30)
    const v = crossEntropy(tf.tensor2d(q), tf.tensor1d([0], 'int32'), { reduction: 'none' }).dataSync()[0];
    expect(Math.abs(v - ce) / ce).toBeLessThan(1e-6);
    const el = expectationLoss(tf.tensor2d(q), tf.tensor1d([0], 'int32'), { reduction: 'none' }).dataSync()[0];
    expect(Math.abs(el - ce) / ce).toBeLessThan(1e-6);
    const g = gradOf(q, [0], { alpha: 1, beta: 0 });
    expect(Math.abs(g[0] + ce) / ce).toBeLessThan(1e-6); // −(1 − p_y), not 0
    expect(g[1] + g[2] + g[0]).toBeCloseTo(0, 12);
  });

  it('EL keeps its relative precision when p_y is tiny (the gradient scales with p_y)', () => {
    for (const gap of [16, 46, 80]) {
      // p_y ≈ 4e-8, 1e-20, 6e-36
      const q = [[0, -gap, 0, 0]];
      const ref = referenceMixedRow(q[0], 1, 0, 1);
      const g = gradOf(q, [1], { alpha: 0, beta: 1 });
      ref.grad.forEach((gj, j) => expect(Math.abs(g[j] - gj) / Math.abs(gj), `gap ${gap}, class ${j}`).toBeLessThan(1e-5));
    }
  });

  it('a single class: loss 0, gradient 0', () => {
    const v = mixedLoss(tf.tensor2d([[3.5]]), tf.tensor1d([0], 'int32')).dataSync()[0];
    expect(v).toBe(0);
    expect(Math.abs(gradOf([[3.5]], [0])[0])).toBe(0);
  });
});
