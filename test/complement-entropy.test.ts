// Complement entropy (COT): the one kind whose gradient is not of the seam's form. Against a
// float64 reference of its definition at every size the kernels cut differently (whole rows,
// rows split across threads), with masked classes, on both gradient paths; against tfjs
// autodiff of a stock-op composition; with the options; and the authors' two-step scheme.
import { beforeAll, describe, expect, it } from 'vitest';

import { complementEntropy, complementObjectiveStep, crossEntropy } from '../src';
import { NO_SOFTMAX_ROWS } from './support/no-softmax-rows';
import { gradientError, referenceComplement } from './support/reference';
import { backendCounts, randomLabels, randomLogits, tf, useTestBackend, withSeparateBackward } from './support/tf';

describe('complementEntropy', () => {
  beforeAll(useTestBackend);

  for (const [B, C] of [
    [1, 1],
    [3, 7],
    [64, 1000],
    [3, 200_000],
  ] as const) {
    it(`${B} × ${C}: row values and every gradient entry against float64, masked classes included (both paths)`, () => {
      const data = randomLogits(B, C, B * 7 + C);
      if (C > 100) data.fill(-Infinity, 10, 60); // masked classes of row 0
      const ids = randomLabels(B, C, C + 3);
      const refs = Array.from({ length: B }, (_, r) => referenceComplement(data.subarray(r * C, (r + 1) * C), ids[r]));
      const refGrad = refs.flatMap((r) => r.grad.map((g) => g / B));
      const refScale = refs.flatMap((r) => r.scale.map((g) => g / B));
      for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
        path(() => {
          const x = tf.tensor2d(data, [B, C]),
            y = tf.tensor1d(ids, 'int32');
          const rows = complementEntropy(x, y, { reduction: 'none' });
          Array.from(rows.dataSync()).forEach((v, r) =>
            expect(Math.abs(v - refs[r].value)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(refs[r].value))),
          );
          const g = tf.grad((v: tf.Tensor) => complementEntropy(v, y))(x);
          expect(gradientError(g.dataSync(), refGrad, B, C, refScale)).toBeLessThan(1e-4);
          tf.dispose([x, y, rows, g]);
        });
      }
    });
  }

  // Issue 12, a fuzzer finding (native/fuzz/regressions/complement-el-underflow): with the
  // target ~100 above the rest, 1 − p_y underflows float; the gradient was 0 (el = 0 read as
  // "no other class") or ±∞ (a factor e^102 in float). r_j depends on the other classes only.
  // Past ~708 (another fuzzer finding: native/fuzz/regressions/complement-target-far-above), the
  // others' sum rebased to q_y left double's normal range: Σ r log r was 25% off at 732, 0 past 745.
  for (const gap of [90, 120, 400, 732, 800, 1e5]) {
    it(`the target ${gap} above the other classes: the same r_j, value and gradient as without the target (both paths)`, () => {
      const rows = [
        [0, gap, 1, 0.5],
        [-0.3, 2, 0.7, gap + 3],
      ];
      const ids = [1, 3];
      const refs = rows.map((row, r) => referenceComplement(row, ids[r]));
      for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
        path(() => {
          const x = tf.tensor2d(rows),
            y = tf.tensor1d(ids, 'int32');
          const values = complementEntropy(x, y, { reduction: 'none' }).dataSync();
          const g = tf
            .grad((v: tf.Tensor) => complementEntropy(v, y, { reduction: 'sum' }))(x)
            .dataSync();
          refs.forEach((ref, r) => {
            expect(Math.abs(values[r] - ref.value)).toBeLessThan(1e-6);
            ref.grad.forEach((want, j) => expect(Math.abs(g[4 * r + j] - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want))));
          });
          expect(Math.abs(refs[0].grad[2])).toBeGreaterThan(0.01); // a gradient worth getting right
          tf.dispose([x, y]);
        });
      }
    });
  }

  it('logits near 16384 and 1e5: each gradient entry as float64, to the size of the terms it is a difference of (both paths)', () => {
    // The bracket q_j − (lse_o + Σ r log r) was formed against that sum rounded to one float
    // (ulp 0.002 at 16384): gradient rows summed to 1% of their size (a fuzzer finding).
    const [B, C] = [4, 1000];
    const y = [3, 50, 700, 999];
    for (const offset of [16384, 1e5]) {
      const q = randomLogits(B, C, 41, 3).map((v) => v + offset);
      const want = new Float64Array(B * C),
        scale = new Float64Array(B * C);
      for (let r = 0; r < B; r++) {
        const ref = referenceComplement(q.subarray(r * C, (r + 1) * C), y[r]);
        ref.grad.forEach((g, j) => (want[r * C + j] = g));
        ref.scale.forEach((g, j) => (scale[r * C + j] = g));
      }
      for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
        path(() => {
          const x = tf.tensor2d(q, [B, C]);
          const g = tf.grad((v: tf.Tensor) => complementEntropy(v, y, { reduction: 'sum' }))(x);
          expect(gradientError(g.dataSync(), want, B, C, scale), `offset ${offset}`).toBeLessThan(1e-5);
          tf.dispose([x, g]);
        });
      }
    }
  });

  it('each gradient entry within 5e-5 of float64 where it is a small difference (Σ e·(q − max) summed in double)', () => {
    // 12 × 37 logits of scale 3: entries of r_j·(q_j − lse_o − Σ r log r) where the bracket nearly
    // cancels, so Σ r log r must carry the row statistic's digits: 2.8e-5 here; summed in float
    // lanes, over 5e-5.
    const [B, C] = [12, 37];
    const ids = randomLabels(B, C, 6);
    ids[3] = 0;
    const q = randomLogits(B, C, 5, 3);
    const want = new Float64Array(B * C);
    for (let r = 0; r < B; r++) referenceComplement(q.slice(r * C, (r + 1) * C), ids[r]).grad.forEach((g, j) => (want[r * C + j] = g / B));
    for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
      path(() => {
        const x = tf.tensor2d(q, [B, C]);
        const g = tf.grad((v: tf.Tensor) => complementEntropy(v, Array.from(ids)))(x);
        expect(gradientError(g.dataSync(), want, B, C)).toBeLessThan(5e-5);
        tf.dispose([x, g]);
      });
    }
  });

  it('a row entirely −∞, or holding +∞, is NaN in its value and every gradient entry, in both passes, with and without softcap', () => {
    // (It has no softmax; the statistic over the other classes alone gave 0 or a number there,
    // and the two passes gave different gradient rows. The fuzzer's inputs are
    // native/fuzz/regressions/all-masked-row-backward and plus-infinity-target.)
    const { logits: q, ids, undefinedRows } = NO_SOFTMAX_ROWS;
    for (const softcap of [undefined, 3]) {
      const options = softcap ? { softcap } : {};
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor2d(q);
          const rows = complementEntropy(x, ids, { ...options, reduction: 'none' }).dataSync();
          const g = tf.grad((v: tf.Tensor) => complementEntropy(v, ids, { ...options, reduction: 'sum' }))(x);
          return { rows: Array.from(rows), grad: Array.from(g.dataSync()) };
        });
      const fused = run();
      const separate = withSeparateBackward(run);
      // softcap brings +∞ to the cap (a finite row); −∞ stays masked.
      const nanRows = softcap ? 1 : undefinedRows;
      for (const got of [fused, separate]) {
        expect(got.rows.slice(0, nanRows), `softcap ${softcap}`).toEqual(Array(nanRows).fill(NaN));
        expect(got.rows.slice(nanRows).every(Number.isFinite), `softcap ${softcap}`).toBe(true);
        expect(got.grad.slice(0, 3 * nanRows).every(Number.isNaN), `softcap ${softcap}`).toBe(true);
      }
      expect(separate.rows).toEqual(fused.rows);
      separate.grad.slice(3 * nanRows).forEach((g, j) => expect(g).toBeCloseTo(fused.grad[3 * nanRows + j], 6));
    }
    // With the target's class weight 0 the value is 0, but the softmax is still undefined (all
    // −∞; a NaN logit): a NaN gradient row from both passes, where one gave NaN and the other 0
    // (native/fuzz/regressions/all-masked-row-zero-weight, nan-logit-zero-weight).
    const zeroWeight = () =>
      tf.tidy(() => {
        const x = tf.tensor2d([q[0], [-Infinity, -511.919, NaN], q[3]]);
        const options = { classWeights: [0, 1, 1], reduction: 'none' as const };
        const rows = complementEntropy(x, [0, 0, 2], options).dataSync();
        const g = tf
          .grad((v: tf.Tensor) => complementEntropy(v, [0, 0, 2], { ...options, reduction: 'sum' }))(x)
          .dataSync();
        return { rows: Array.from(rows), grad: Array.from(g) };
      });
    for (const got of [zeroWeight(), withSeparateBackward(zeroWeight)]) {
      expect(got.rows.slice(0, 2)).toEqual([0, 0]);
      expect(got.grad.slice(0, 6).every(Number.isNaN)).toBe(true);
      expect(got.grad.slice(6).every(Number.isFinite)).toBe(true);
    }
  });

  it('matches tfjs autodiff of the stock-op composition (softmax over the other classes)', () => {
    const B = 8,
      C = 50;
    const data = randomLogits(B, C, 5),
      ids = randomLabels(B, C, 6);
    const x = tf.tensor2d(data, [B, C]),
      y = tf.tensor1d(ids, 'int32');
    const stock = (v: tf.Tensor) => {
      const mask = tf.oneHot(y, C).toFloat();
      const logr = tf.logSoftmax(tf.add(v, tf.mul(mask, -1e30))); // r over j ≠ y
      const rlogr = tf.mul(tf.mul(tf.exp(logr), logr), tf.sub(1, mask));
      return tf.div(tf.mean(tf.sum(rlogr, -1)), C);
    };
    const [a, b] = [(v: tf.Tensor) => complementEntropy(v, y), stock].map((f) => tf.valueAndGrad(f)(x));
    expect(a.value.dataSync()[0]).toBeCloseTo(b.value.dataSync()[0], 6);
    // The fused gradient against float64, entry by entry (relative, with the terms' scale), and
    // against the stock composition with the same measure: 1e-5, where each is ~3e-7 from
    // float64. Entry by entry without the scale, an entry that is a near-cancelled difference
    // carries any float32 computation's rounding: the stock composition's is 2.7e-4 from
    // float64 on wasm (1.3e-5 on cpu), the fused one's 2.7e-5 to 9e-5 by build (its exp).
    const refs = Array.from({ length: B }, (_, r) => referenceComplement(data.subarray(r * C, (r + 1) * C), ids[r]));
    const refGrad = refs.flatMap((r) => r.grad.map((g) => g / B));
    const refScale = refs.flatMap((r) => r.scale.map((g) => g / B));
    expect(gradientError(a.grad.dataSync(), refGrad, B, C, refScale)).toBeLessThan(1e-5);
    expect(gradientError(a.grad.dataSync(), b.grad.dataSync(), B, C, refScale)).toBeLessThan(1e-5);
    tf.dispose([x, y, a.value, a.grad, b.value, b.grad]);
  });

  it('takes class weights, ignoreIndex and zLoss; rejects dense targets and label smoothing', () => {
    const B = 4,
      C = 6;
    const data = randomLogits(B, C, 9),
      ids = [1, -100, 3, 5];
    const x = tf.tensor2d(data, [B, C]);
    const w = [1, 2, 3, 1, 0.5, 2];
    const got = complementEntropy(x, ids, { classWeights: w, ignoreIndex: -100, zLoss: 0.01 }).dataSync()[0];
    // z-loss as Liger: not weighted, divided by the rows counted; the rest by their class weights.
    let num = 0,
      den = 0,
      z = 0,
      n = 0;
    ids.forEach((y, r) => {
      if (y < 0) return;
      const row = data.subarray(r * C, (r + 1) * C);
      const m = Math.max(...row),
        lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      num += w[y] * referenceComplement(row, y).value;
      z += 0.01 * lse * lse;
      den += w[y];
      n += 1;
    });
    expect(got).toBeCloseTo(num / den + z / n, 6);
    expect(() => complementEntropy(x, tf.zeros([B, C]))).toThrow(/mixloss\.complementEntropy: takes class ids \[batch\] only/);
    expect(() => complementEntropy(x, [0, 1, 2, 3], { labelSmoothing: 0.1 })).toThrow(/labelSmoothing needs a loss that is linear/);
    tf.dispose(x);
  });

  it('complementObjectiveStep: a CE step, then a COT step on a fresh forward pass; each step lowers its loss; nothing leaks', () => {
    const B = 32,
      D = 8,
      C = 5;
    const xs = tf.tensor2d(randomLogits(B, D, 11), [B, D]);
    const ids = Array.from(randomLabels(B, C, 12));
    const w = tf.variable(tf.mul(tf.tensor2d(randomLogits(D, C, 13), [D, C]), 0.1));
    const predict = () => tf.matMul(xs, w);
    const lossNow = (f: typeof crossEntropy) => tf.tidy(() => f(predict(), ids).dataSync()[0]);
    const step = (ceRate: number, cotRate: number) => {
      const opt = tf.train.sgd(ceRate),
        opt2 = tf.train.sgd(cotRate);
      const r = complementObjectiveStep(opt, predict, ids, { complementOptimizer: opt2 });
      opt.dispose();
      opt2.dispose();
      return r;
    };
    // The values returned are each loss before its own step: CE before both, COT after the CE step.
    const ce0 = lossNow(crossEntropy);
    const r = step(0.5, 0);
    expect(r.crossEntropy).toBeCloseTo(ce0, 6);
    expect(r.complementEntropy).toBeCloseTo(lossNow(complementEntropy), 6);
    expect(lossNow(crossEntropy)).toBeLessThan(ce0);
    // The complement step alone flattens the wrong classes: COT falls towards −log(C − 1)/C.
    const cot0 = lossNow(complementEntropy);
    const before = backendCounts();
    for (let i = 0; i < 10; i++) step(0, 2);
    expect(backendCounts()).toEqual(before);
    const cot1 = lossNow(complementEntropy);
    expect(cot1).toBeLessThan(cot0);
    expect(cot1).toBeGreaterThanOrEqual(-Math.log(C - 1) / C - 1e-6);
    tf.dispose([xs, w]);
  });
});
