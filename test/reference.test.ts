// The fused kernels against float64 references, tfjs autodiff of the same losses written
// with stock ops, and central finite differences; over shapes from 1×1 to C = 2^20.
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, expectationLoss, mixedLoss } from '../src';
import {
  centralDifference, maxRelError, randomLabels, randomLogits, referenceMixedDense, referenceMixedRow, rng, tf, useTestBackend,
} from './support/tf';

beforeAll(useTestBackend);

function fusedValueAndGrad(logits: Float32Array, B: number, C: number, labels: tf.Tensor, opts: Parameters<typeof mixedLoss>[2]) {
  const q = tf.tensor2d(logits, [B, C]);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mixedLoss(x, labels, opts))(q);
  const out = { value: value.dataSync().slice(), grad: grad.dataSync().slice() };
  tf.dispose([q, value, grad]);
  return out;
}

describe('sparse labels against a float64 reference', () => {
  const shapes: Array<[number, number]> = [
    [1, 1], [1, 2], [3, 1], [2, 3], [7, 5], [5, 17], [64, 10], [33, 2049], [3, 4097], [256, 1000], [2, 65537], [1, 200003],
  ];
  for (const [B, C] of shapes) {
    for (const [alpha, beta] of [[1, 0], [0, 1], [1, 2.5], [0.3, 0.7]]) {
      it(`${B}×${C}, α=${alpha} β=${beta}, reduction none`, () => {
        const logits = randomLogits(B, C, B * 7919 + C, 4);
        const labels = randomLabels(B, C, B + C);
        const y = tf.tensor1d(labels, 'int32');
        const { value, grad } = fusedValueAndGrad(logits, B, C, y, { alpha, beta, reduction: 'sum' });
        const rows = mixedLoss(tf.tensor2d(logits, [B, C]), y, { alpha, beta, reduction: 'none' }).dataSync();
        let total = 0;
        const refGrad = new Float64Array(B * C);
        for (let r = 0; r < B; r++) {
          const ref = referenceMixedRow(logits.subarray(r * C, (r + 1) * C), labels[r], alpha, beta);
          expect(Math.abs(rows[r] - ref.value)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.value)));
          total += ref.value;
          refGrad.set(ref.grad, r * C);
        }
        expect(Math.abs(value[0] - total)).toBeLessThan(1e-5 * Math.max(1, Math.abs(total)));
        // Gradient entries: absolute error relative to the row's largest entry.
        let worst = 0;
        for (let i = 0; i < grad.length; i++) worst = Math.max(worst, Math.abs(grad[i] - refGrad[i]));
        expect(worst).toBeLessThan(2e-6 * Math.max(alpha + beta, 1));
        y.dispose();
      });
    }
  }

  it('mean and sum reductions agree with none', () => {
    const B = 9, C = 13;
    const logits = tf.tensor2d(randomLogits(B, C, 1), [B, C]);
    const y = tf.tensor1d(randomLabels(B, C, 2), 'int32');
    const none = mixedLoss(logits, y, { reduction: 'none' }).dataSync();
    const sum = none.reduce((a, b) => a + b, 0);
    expect(mixedLoss(logits, y, { reduction: 'sum' }).dataSync()[0]).toBeCloseTo(sum, 4);
    expect(mixedLoss(logits, y).dataSync()[0]).toBeCloseTo(sum / B, 5);
  });

  it("reduction 'none' backpropagates a per-row dy", () => {
    const B = 4, C = 6;
    const data = randomLogits(B, C, 5);
    const labels = randomLabels(B, C, 6);
    const w = [0.5, -2, 3, 0];
    const logits = tf.tensor2d(data, [B, C]);
    const y = tf.tensor1d(labels, 'int32');
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(mixedLoss(x, y, { reduction: 'none', alpha: 1, beta: 2 }), tf.tensor1d(w))))(logits).dataSync();
    for (let r = 0; r < B; r++) {
      const ref = referenceMixedRow(data.subarray(r * C, (r + 1) * C), labels[r], 1, 2);
      for (let j = 0; j < C; j++) expect(g[r * C + j]).toBeCloseTo(w[r] * ref.grad[j], 5);
    }
  });

  it('labels as [B, 1], as float32 class ids, and as a plain array give the same loss', () => {
    const B = 5, C = 7;
    const logits = tf.tensor2d(randomLogits(B, C, 3), [B, C]);
    const ids = Array.from(randomLabels(B, C, 4));
    const a = mixedLoss(logits, tf.tensor1d(ids, 'int32')).dataSync()[0];
    expect(mixedLoss(logits, tf.tensor2d(ids, [B, 1], 'int32')).dataSync()[0]).toBe(a);
    expect(mixedLoss(logits, tf.tensor1d(ids, 'float32')).dataSync()[0]).toBe(a);
    expect(mixedLoss(logits, ids).dataSync()[0]).toBe(a);
  });
});

describe('dense targets against a float64 reference', () => {
  for (const [B, C] of [[1, 1], [4, 3], [6, 2049], [2, 70000]] as Array<[number, number]>) {
    for (const [alpha, beta] of [[1, 0], [0, 1], [1, 1.6667]]) {
      it(`${B}×${C} probabilities, α=${alpha} β=${beta}`, () => {
        const logits = randomLogits(B, C, 17 * B + C);
        const r = rng(B * C);
        const t = new Float32Array(B * C);
        for (let i = 0; i < B; i++) {
          let s = 0;
          for (let j = 0; j < C; j++) s += (t[i * C + j] = r() < 0.3 ? r() : 0);
          for (let j = 0; j < C; j++) t[i * C + j] = s > 0 ? t[i * C + j] / s : 1 / C;
        }
        const targets = tf.tensor2d(t, [B, C]);
        const { value, grad } = fusedValueAndGrad(logits, B, C, targets, { alpha, beta, reduction: 'sum' });
        let total = 0;
        for (let i = 0; i < B; i++) {
          const ref = referenceMixedDense(logits.subarray(i * C, (i + 1) * C), t.subarray(i * C, (i + 1) * C), alpha, beta);
          total += ref.value;
          for (let j = 0; j < C; j++) expect(Math.abs(grad[i * C + j] - ref.grad[j])).toBeLessThan(3e-6);
        }
        expect(Math.abs(value[0] - total)).toBeLessThan(2e-5 * Math.max(1, total));
        targets.dispose();
      });
    }
  }

  it('one-hot targets (float32 or tf.oneHot int32) equal class ids', () => {
    const B = 6, C = 9;
    const logits = tf.tensor2d(randomLogits(B, C, 8), [B, C]);
    const ids = tf.tensor1d(randomLabels(B, C, 9), 'int32');
    const sparse = tf.grad((x: tf.Tensor) => mixedLoss(x, ids, { alpha: 1, beta: 2 }))(logits).dataSync();
    for (const targets of [tf.oneHot(ids, C), tf.cast(tf.oneHot(ids, C), 'float32')]) {
      const dense = tf.grad((x: tf.Tensor) => mixedLoss(x, targets, { alpha: 1, beta: 2 }))(logits).dataSync();
      expect(maxRelError(dense, sparse, 1e-3)).toBeLessThan(1e-5);
      expect(mixedLoss(logits, targets, { alpha: 1, beta: 2 }).dataSync()[0]).toBeCloseTo(
        mixedLoss(logits, ids, { alpha: 1, beta: 2 }).dataSync()[0], 5);
    }
  });
});

describe('against tfjs autodiff of the same loss in stock ops', () => {
  const stockMixed = (alpha: number, beta: number) => (q: tf.Tensor, oneHot: tf.Tensor) => {
    const logp = tf.logSoftmax(q);
    const ce = tf.neg(tf.sum(tf.mul(oneHot, logp), 1));
    const el = tf.sub(1, tf.sum(tf.mul(oneHot, tf.exp(logp)), 1));
    return tf.mean(tf.add(tf.mul(alpha, ce), tf.mul(beta, el)));
  };

  for (const [alpha, beta] of [[1, 0], [0, 1], [1, 1], [1, 5]]) {
    it(`α=${alpha} β=${beta} at 32×500`, () => {
      const B = 32, C = 500;
      const logits = tf.tensor2d(randomLogits(B, C, alpha * 10 + beta), [B, C]);
      const ids = tf.tensor1d(randomLabels(B, C, 77), 'int32');
      const oneHot = tf.oneHot(ids, C).toFloat();
      const fused = tf.valueAndGrad((q: tf.Tensor) => mixedLoss(q, ids, { alpha, beta }))(logits);
      const stock = tf.valueAndGrad((q: tf.Tensor) => stockMixed(alpha, beta)(q, oneHot))(logits);
      expect(fused.value.dataSync()[0]).toBeCloseTo(stock.value.dataSync()[0], 5);
      const a = fused.grad.dataSync(), b = stock.grad.dataSync();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      expect(worst).toBeLessThan(1e-7 * 10);
    });
  }

  it('crossEntropy equals tf.losses.softmaxCrossEntropy, value and gradient', () => {
    const B = 16, C = 100;
    const logits = tf.tensor2d(randomLogits(B, C, 5, 6), [B, C]);
    const ids = tf.tensor1d(randomLabels(B, C, 6), 'int32');
    const oneHot = tf.oneHot(ids, C);
    const fused = tf.valueAndGrad((q: tf.Tensor) => crossEntropy(q, ids))(logits);
    const stock = tf.valueAndGrad((q: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, q))(logits);
    expect(fused.value.dataSync()[0]).toBeCloseTo(stock.value.dataSync()[0], 5);
    expect(maxRelError(fused.grad.dataSync(), stock.grad.dataSync(), 1e-4)).toBeLessThan(1e-4);
  });
});

describe('central finite differences (float64) of the loss', () => {
  it('the kernel gradient matches d/dq of the float64 loss for every loss and many rows', () => {
    const r = rng(99);
    for (let trial = 0; trial < 20; trial++) {
      const C = 2 + Math.floor(r() * 9);
      const q = Array.from({ length: C }, () => (r() * 2 - 1) * 4);
      const y = Math.floor(r() * C);
      const alpha = r() < 0.3 ? 0 : r() * 2, beta = r() * 5;
      const f = (x: number[]) => referenceMixedRow(x, y, alpha, beta).value;
      const fd = centralDifference(f, q);
      const g = tf.grad((x: tf.Tensor) => mixedLoss(x, tf.tensor1d([y], 'int32'), { alpha, beta }))(tf.tensor2d([q])).dataSync();
      for (let j = 0; j < C; j++) expect(Math.abs(g[j] - fd[j])).toBeLessThan(2e-6 * Math.max(1, alpha + beta));
    }
  });

  it('expectationLoss and crossEntropy are the α/β corners of mixedLoss', () => {
    const logits = tf.tensor2d(randomLogits(3, 11, 12), [3, 11]);
    const ids = tf.tensor1d([0, 5, 10], 'int32');
    expect(expectationLoss(logits, ids).dataSync()[0]).toBe(mixedLoss(logits, ids, { alpha: 0, beta: 1 }).dataSync()[0]);
    expect(crossEntropy(logits, ids).dataSync()[0]).toBe(mixedLoss(logits, ids, { alpha: 1, beta: 0 }).dataSync()[0]);
  });
});

describe('a million classes', () => {
  it('4 × 2^20: row sums within 1e-5 relative of float64, gradient sums to zero', () => {
    const B = 4, C = 1 << 20;
    const logits = randomLogits(B, C, 2024, 8);
    const labels = randomLabels(B, C, 2025);
    const y = tf.tensor1d(labels, 'int32');
    const q = tf.tensor2d(logits, [B, C]);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mixedLoss(x, y, { alpha: 1, beta: 1, reduction: 'sum' }))(q);
    const rows = mixedLoss(q, y, { reduction: 'none', alpha: 1, beta: 1 }).dataSync();
    const g = grad.dataSync();
    let total = 0;
    for (let r = 0; r < B; r++) {
      const ref = referenceMixedRow(logits.subarray(r * C, (r + 1) * C), labels[r], 1, 1);
      expect(Math.abs(rows[r] - ref.value) / ref.value).toBeLessThan(1e-5);
      total += ref.value;
      let s = 0, worst = 0;
      for (let j = 0; j < C; j++) {
        s += g[r * C + j];
        worst = Math.max(worst, Math.abs(g[r * C + j] - ref.grad[j]));
      }
      expect(Math.abs(s)).toBeLessThan(1e-5);
      expect(worst).toBeLessThan(1e-6);
    }
    expect(Math.abs(value.dataSync()[0] - total) / total).toBeLessThan(1e-5);
    tf.dispose([q, y, value, grad]);
  });
});

describe('gradient computed in forward (training) against the separate backward pass', () => {
  it('agree for sparse and dense labels, all reductions, with NaN and −∞ rows', async () => {
    const { kernelOptions } = await import('../src/kernels/fused_loss');
    const { native } = await import('../src/native');
    const addon = native();
    const calls = { forwardBackward: 0, backward: 0 };
    const original = { forwardBackward: addon.forwardBackward, backward: addon.backward };
    addon.forwardBackward = (...args) => { calls.forwardBackward++; return original.forwardBackward(...args); };
    addon.backward = (...args) => { calls.backward++; return original.backward(...args); };
    for (const [B, C, dense] of [[1, 1, false], [5, 9, true], [64, 1000, false], [3, 70000, true], [2, 300000, false], [40, 5000, false]] as Array<[number, number, boolean]>) {
      const data = randomLogits(B, C, B * C, 5);
      if (C > 10) { data[3] = -Infinity; data[C + 5] = NaN; data.fill(-Infinity, 2 * C, 3 * C - 1); }
      const ids = tf.tensor1d(randomLabels(B, C, B), 'int32');
      const labels = dense ? tf.oneHot(ids, C).toFloat() : ids;
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const run = () => tf.tidy(() => {
          const w = tf.linspace(-1, 2, B);
          const f = (x: tf.Tensor) => {
            const l = mixedLoss(x, labels, { alpha: 1, beta: 2.5, reduction });
            return reduction === 'none' ? tf.sum(tf.mul(l, w)) : tf.mul(l, 3);
          };
          return tf.grad(f)(tf.tensor2d(data, [B, C])).dataSync();
        });
        kernelOptions.gradientInForward = false;
        const before = { ...calls };
        const separate = run();
        expect([calls.forwardBackward - before.forwardBackward, calls.backward - before.backward]).toEqual([0, 1]);
        kernelOptions.gradientInForward = true;
        const fused = run();
        expect([calls.forwardBackward - before.forwardBackward, calls.backward - before.backward]).toEqual([1, 1]);
        let scale = 0;
        for (const g of separate) if (Number.isFinite(g)) scale = Math.max(scale, Math.abs(g));
        for (let i = 0; i < fused.length; i++) {
          if (Number.isNaN(separate[i])) expect(fused[i]).toBeNaN();
          else expect(Math.abs(fused[i] - separate[i])).toBeLessThanOrEqual(1e-6 * scale);
        }
      }
    }
    Object.assign(addon, original);
  });
});
