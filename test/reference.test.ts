// Every loss op against float64 references written from its formula, against tfjs autodiff
// of the same loss in stock ops, and against central finite differences; over shapes from
// 1×1 to C = 2^20. Gradients are compared entry by entry relative to each entry (with a floor
// of the row's largest entry / 100·C): entries are ~1/C at large C, and an absolute bound would
// let a 1e-4 relative error through there.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, mixedLoss } from '../src';
import type { MixedLossOptions } from '../src';
import { kernelOptions } from '../src/kernels/fused_loss';
import { native } from '../src/native';
import { LOSSES } from './support/losses';
import { centralDifference, gradientError, referenceMixedDense, referenceRow, RowLoss, rowLosses, softmax64 } from './support/reference';
import { QUICK, randomLabels, randomLogits, rng, tf, useTestBackend, withSeparateBackward } from './support/tf';

beforeAll(useTestBackend);

/** Per-entry relative gradient error allowed (float32 kernels measure ≤ 1.1e-6 here). */
const GRAD_TOL = 1e-5;
/** Relative error allowed in a loss value. */
const VALUE_TOL = 2e-6;

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

type Op = (logits: tf.Tensor, labels: tf.Tensor, options?: MixedLossOptions) => tf.Tensor;

/** Value and gradient through tf.valueAndGrad, as training computes them. */
function valueAndGrad(op: Op, logits: Float32Array, B: number, C: number, labels: tf.Tensor, options: MixedLossOptions) {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => op(x, labels, options))(tf.tensor2d(logits, [B, C]));
    return { value: value.dataSync()[0], grad: grad.dataSync().slice() };
  });
}

/** Row values and the summed gradient of the float64 reference. */
function reference(loss: RowLoss, logits: Float32Array, labels: Int32Array, B: number, C: number) {
  const rows: number[] = [];
  const grad = new Float64Array(B * C);
  for (let r = 0; r < B; r++) {
    const ref = referenceRow(loss, logits.subarray(r * C, (r + 1) * C), labels[r]);
    rows.push(ref.value);
    grad.set(ref.grad, r * C);
  }
  return { rows, sum: rows.reduce((a, b) => a + b, 0), grad };
}

describe('every loss against its float64 reference', () => {
  const shapes = (
    [
      [1, 1],
      [1, 2],
      [3, 1],
      [2, 3],
      [7, 5],
      [5, 17],
      [64, 10],
      [33, 2049],
      [3, 4097],
      [256, 1000],
      [2, 65537],
      [1, 200003],
    ] as Array<[number, number]>
  ).filter(([B, C]) => !QUICK || B * C <= 70000);
  for (const [B, C] of shapes) {
    for (const loss of LOSSES) {
      it(`${B}×${C} ${loss.name}: row values, sum, gradient`, () => {
        const logits = randomLogits(B, C, B * 7919 + C, 4);
        const labels = randomLabels(B, C, B + C);
        const y = tf.tensor1d(labels, 'int32');
        const ref = reference(loss.reference, logits, labels, B, C);
        const rows = tf.tidy(() => loss.op(tf.tensor2d(logits, [B, C]), y, { reduction: 'none' }).dataSync());
        for (let r = 0; r < B; r++) expect(relErr(rows[r], ref.rows[r]), `row ${r}`).toBeLessThan(VALUE_TOL);
        const { value, grad } = valueAndGrad(loss.op, logits, B, C, y, { reduction: 'sum' });
        expect(relErr(value, ref.sum)).toBeLessThan(VALUE_TOL);
        expect(gradientError(grad, ref.grad, B, C)).toBeLessThan(GRAD_TOL);
        y.dispose();
      });
    }
  }

  // The backward pass that recomputes from the saved statistics (a forward that ran with no
  // tape, or kernelOptions.gradientInForward off) is a different code path: check it too.
  for (const [B, C] of (
    [
      [7, 5],
      [33, 2049],
      [2, 65537],
    ] as Array<[number, number]>
  ).filter(([, C]) => !QUICK || C < 4096)) {
    for (const loss of LOSSES) {
      it(`${B}×${C} ${loss.name}: the separate backward pass`, () => {
        const logits = randomLogits(B, C, B * 31 + C, 4);
        const labels = randomLabels(B, C, B * 3 + C);
        const y = tf.tensor1d(labels, 'int32');
        const ref = reference(loss.reference, logits, labels, B, C);
        const { value, grad } = withSeparateBackward(() => valueAndGrad(loss.op, logits, B, C, y, { reduction: 'sum' }));
        expect(relErr(value, ref.sum)).toBeLessThan(VALUE_TOL);
        expect(gradientError(grad, ref.grad, B, C)).toBeLessThan(GRAD_TOL);
        y.dispose();
      });
    }
  }
});

// Rows of up to 32 classes take one masked step of 16 or two (the target's lane left out) where
// longer rows take the pieces on either side of the target, and the training pass runs them a
// group at a time (each step over up to 16 rows before the next): the target in every column,
// groups cut short, and a NaN or a masked class that must stay in its own row.
describe('short rows: the target in every column, rows in groups', () => {
  const widths = QUICK ? [1, 2, 5, 15, 16, 17, 31, 32, 33] : Array.from({ length: 33 }, (_, i) => i + 1);
  for (const loss of LOSSES) {
    it(`${loss.name}: C = ${widths[0]} to ${widths[widths.length - 1]}, row values (forward pass) and training value and gradient against float64`, () => {
      for (const C of widths) {
        const B = 2 * C + 3; // every column twice, and groups of 16 cut short
        const logits = randomLogits(B, C, C * 101, 4);
        const labels = Int32Array.from({ length: B }, (_, r) => r % C);
        const y = tf.tensor1d(labels, 'int32');
        const ref = reference(loss.reference, logits, labels, B, C);
        const rows = tf.tidy(() => loss.op(tf.tensor2d(logits, [B, C]), y, { reduction: 'none' }).dataSync());
        for (let r = 0; r < B; r++) {
          // VALUE_TOL relative, or 4 float32 ulps of the statistics a row value is formed from
          // (−log p_y and 1 − p_y, each rounded to float): Poly-1 at ε = −1 is their difference,
          // (1 − p)²/2 near p = 1, and no closer than that (2.6e-6 relative at C = 2 here).
          const lp = softmax64(logits.subarray(r * C, (r + 1) * C)).logp[labels[r]];
          const allowed = VALUE_TOL * Math.abs(ref.rows[r]) + 4 * 2 ** -24 * (Math.abs(lp) + 1);
          expect(Math.abs(rows[r] - ref.rows[r]), `C = ${C}, row ${r}`).toBeLessThanOrEqual(allowed);
        }
        const { value, grad } = valueAndGrad(loss.op, logits, B, C, y, { reduction: 'sum' });
        expect(relErr(value, ref.sum), `C = ${C}`).toBeLessThan(VALUE_TOL);
        expect(gradientError(grad, ref.grad, B, C), `C = ${C}`).toBeLessThan(GRAD_TOL);
        y.dispose();
      }
    });
  }

  it('a NaN logit makes its own row NaN, value and gradient, and no other; a masked class adds nothing; a far larger logit anywhere', () => {
    for (const C of [3, 16, 17, 32, 33]) {
      const B = 40;
      const logits = randomLogits(B, C, C * 7, 4);
      const labels = Int32Array.from({ length: B }, (_, r) => (r * 5) % C);
      const nanRow = 17,
        maskedRow = 18,
        spikeRow = 19; // in the second group of 16, next to each other
      // The last column (the second step of 16 beyond 16 classes), or the one before it when it is the target.
      const off = (r: number) => (labels[r] === C - 1 ? C - 2 : C - 1);
      logits[nanRow * C + off(nanRow)] = NaN;
      logits[maskedRow * C + off(maskedRow)] = -Infinity;
      // A NaN whose row has no other class left (the rest masked): NaN too, not a row of masked classes.
      const lonelyRow = 20;
      for (let j = 0; j < C; j++) if (j !== labels[lonelyRow]) logits[lonelyRow * C + j] = j === off(lonelyRow) ? NaN : -Infinity;
      // 150 above the rest: exp(q − max) overflows float unless the max is that logit.
      logits[spikeRow * C + off(spikeRow)] = 150;
      const y = tf.tensor1d(labels, 'int32');
      const rows = tf.tidy(() => crossEntropy(tf.tensor2d(logits, [B, C]), y, { reduction: 'none' }).dataSync());
      const { grad } = valueAndGrad(crossEntropy, logits, B, C, y, { reduction: 'sum' });
      y.dispose();
      for (let r = 0; r < B; r++) {
        const g = grad.subarray(r * C, (r + 1) * C);
        if (r === nanRow || r === lonelyRow) {
          expect(rows[r], `C = ${C}`).toBeNaN();
          expect(Array.from(g).every(Number.isNaN), `C = ${C}: the NaN row's gradient`).toBe(true);
          continue;
        }
        const ref = referenceRow(rowLosses.mixed(1, 0), logits.subarray(r * C, (r + 1) * C), labels[r]);
        expect(relErr(rows[r], ref.value), `C = ${C}, row ${r}`).toBeLessThan(VALUE_TOL);
        expect(gradientError(g, ref.grad, 1, C), `C = ${C}, row ${r}`).toBeLessThan(GRAD_TOL);
        if (r === maskedRow) expect(g[off(r)], `C = ${C}: the masked class`).toBe(0);
      }
    }
  });
});

describe('reductions and upstream gradients, every loss', () => {
  const B = 9,
    C = 13;
  const logits = randomLogits(B, C, 1);
  const labels = randomLabels(B, C, 2);
  for (const loss of LOSSES) {
    it(`${loss.name}: 'mean' (the default) is 'sum' / B, value and gradient`, () => {
      const y = tf.tensor1d(labels, 'int32');
      const ref = reference(loss.reference, logits, labels, B, C);
      const sum = valueAndGrad(loss.op, logits, B, C, y, { reduction: 'sum' });
      const mean = valueAndGrad(loss.op, logits, B, C, y, {});
      expect(relErr(sum.value, ref.sum)).toBeLessThan(VALUE_TOL);
      expect(relErr(mean.value, ref.sum / B)).toBeLessThan(VALUE_TOL);
      expect(
        gradientError(
          mean.grad,
          ref.grad.map((g) => g / B),
          B,
          C,
        ),
      ).toBeLessThan(GRAD_TOL);
      y.dispose();
    });

    it(`${loss.name}: reduction 'none' backpropagates a per-row dy`, () => {
      // dy[0] = 1 while the others are not: a rescale skipped when "dy is 1" must look at all.
      const w = Float32Array.from({ length: B }, (_, r) => [1, -2, 3, 0, 1e-3][r % 5] * (r === 0 ? 1 : 1 + r));
      const y = tf.tensor1d(labels, 'int32');
      const g = tf.tidy(() =>
        tf
          .grad((x: tf.Tensor) => tf.sum(tf.mul(loss.op(x, y, { reduction: 'none' }), tf.tensor1d(w))))(tf.tensor2d(logits, [B, C]))
          .dataSync(),
      );
      const ref = reference(loss.reference, logits, labels, B, C);
      const expected = ref.grad.map((gi, i) => gi * w[Math.floor(i / C)]);
      // Rows with w = 0 must be exactly 0; the others relative to their own entries.
      expect(gradientError(g, expected, B, C)).toBeLessThan(GRAD_TOL);
      y.dispose();
    });
  }

  it('labels as int32 [B], [B, 1], float32 ids, number[] and Int32Array give the same loss and gradient', () => {
    const ids = Array.from(labels);
    const forms: Array<tf.Tensor | number[] | Int32Array> = [
      tf.tensor1d(ids, 'int32'),
      tf.tensor2d(ids, [B, 1], 'int32'),
      tf.tensor1d(ids, 'float32'),
      tf.tensor2d(ids, [B, 1], 'float32'),
      ids,
      Int32Array.from(ids),
    ];
    const results = forms.map((f) =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mixedLoss(x, f, { alpha: 1, beta: 2 }))(tf.tensor2d(logits, [B, C]));
        return [value.dataSync()[0], ...grad.dataSync()];
      }),
    );
    const ref = reference(rowLosses.mixed(1, 2), logits, labels, B, C);
    expect(relErr(results[0][0], ref.sum / B)).toBeLessThan(VALUE_TOL);
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    tf.dispose(forms.filter((f): f is tf.Tensor => f instanceof tf.Tensor));
  });
});

describe('dense targets against a float64 reference', () => {
  const dense = LOSSES.filter((l) => l.dense);
  // (One class has no targets: [B, 1] labels are class ids for every op.)
  for (const [B, C] of [
    [1, 2],
    [4, 3],
    [6, 2049],
    [2, 70000],
  ] as Array<[number, number]>) {
    for (const [alpha, beta] of [
      [1, 0],
      [0, 1],
      [1, 1.6667],
      [0.3, 2.5],
    ]) {
      it(`${B}×${C} probabilities, α=${alpha} β=${beta}`, () => {
        const logits = randomLogits(B, C, 17 * B + C);
        const r = rng(B * C);
        const t = new Float32Array(B * C);
        for (let i = 0; i < B; i++) {
          let s = 0;
          for (let j = 0; j < C; j++) s += t[i * C + j] = r() < 0.3 ? r() : 0;
          for (let j = 0; j < C; j++) t[i * C + j] = s > 0 ? t[i * C + j] / s : 1 / C;
        }
        const targets = tf.tensor2d(t, [B, C]);
        const { value, grad } = valueAndGrad(mixedLoss, logits, B, C, targets, { alpha, beta, reduction: 'sum' });
        const separate = withSeparateBackward(() => valueAndGrad(mixedLoss, logits, B, C, targets, { alpha, beta, reduction: 'sum' }));
        let total = 0;
        const refGrad = new Float64Array(B * C),
          magnitude = new Float64Array(B * C);
        for (let i = 0; i < B; i++) {
          const ref = referenceMixedDense(logits.subarray(i * C, (i + 1) * C), t.subarray(i * C, (i + 1) * C), alpha, beta);
          total += ref.value;
          refGrad.set(ref.grad, i * C);
          magnitude.set(ref.magnitude, i * C);
        }
        expect(relErr(value, total)).toBeLessThan(VALUE_TOL);
        expect(gradientError(grad, refGrad, B, C, magnitude)).toBeLessThan(GRAD_TOL);
        expect(gradientError(separate.grad, refGrad, B, C, magnitude)).toBeLessThan(GRAD_TOL);
        targets.dispose();
      });
    }
  }

  for (const loss of dense) {
    it(`${loss.name}: one-hot targets (float32, tf.oneHot's int32, and int32 held in an Int32Array) equal class ids`, () => {
      const B = 6,
        C = 9;
      const logits = randomLogits(B, C, 8);
      const ids = tf.tensor1d(randomLabels(B, C, 9), 'int32');
      const sparse = valueAndGrad(loss.op, logits, B, C, ids, {});
      // tf.oneHot's int32 is held in a Float32Array on the cpu backend: the third reaches the
      // kernels' int32 targets for certain.
      const int32Held = tf.tensor2d(Int32Array.from(tf.tidy(() => tf.oneHot(ids, C).dataSync())), [B, C], 'int32');
      expect(tf.backend().readSync(int32Held.dataId)).toBeInstanceOf(Int32Array);
      for (const targets of [tf.oneHot(ids, C), tf.cast(tf.oneHot(ids, C), 'float32'), int32Held]) {
        const d = valueAndGrad(loss.op, logits, B, C, targets, {});
        expect(relErr(d.value, sparse.value)).toBeLessThan(VALUE_TOL);
        expect(gradientError(d.grad, sparse.grad, B, C)).toBeLessThan(GRAD_TOL);
        targets.dispose();
      }
      ids.dispose();
    });
  }
});

describe('the gradient with respect to dense targets (issue 14: it was silently zero)', () => {
  // Σ_j t_j (α(lse − q_j) + β(1 − p_j)) in stock ops, differentiated by tfjs with respect to t.
  const stockDense = (alpha: number, beta: number, reduction: 'none' | 'sum' | 'mean') => (q: tf.Tensor, t: tf.Tensor) => {
    const logp = tf.logSoftmax(q);
    const rows = tf.sum(tf.mul(t, tf.add(tf.mul(-alpha, logp), tf.mul(beta, tf.sub(1, tf.exp(logp))))), 1);
    return reduction === 'none' ? rows : reduction === 'sum' ? tf.sum(rows) : tf.mean(rows);
  };
  const B = 5,
    C = 7;
  const data = randomLogits(B, C, 41);
  const t = tf.softmax(tf.tensor2d(randomLogits(B, C, 42), [B, C]));
  const w = tf.tensor1d([1, -2, 0.5, 0, 3]);
  for (const [alpha, beta] of [
    [1, 0],
    [0, 1],
    [1, 2.5],
  ]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      it(`α=${alpha} β=${beta}, reduction ${reduction}: equals tfjs autodiff of the stock loss, for logits and targets`, () => {
        const [fused, stock] = [
          (q: tf.Tensor, y: tf.Tensor) => mixedLoss(q, y, { alpha, beta, reduction }),
          stockDense(alpha, beta, reduction),
        ].map((f) =>
          tf.tidy(() => {
            const scalar = (q: tf.Tensor, y: tf.Tensor) => (reduction === 'none' ? tf.sum(tf.mul(f(q, y), w)) : f(q, y));
            const [gq, gt] = tf.grads(scalar)([tf.tensor2d(data, [B, C]), t]);
            return [gq.dataSync().slice(), gt.dataSync().slice()];
          }),
        );
        expect(gradientError(fused[0], stock[0], B, C)).toBeLessThan(5e-5);
        expect(gradientError(fused[1], stock[1], B, C)).toBeLessThan(5e-5);
        expect(Math.max(...fused[1].map(Math.abs))).toBeGreaterThan(0.01);
      });
    }
  }

  it('EL (α = 0) with a masked class: a finite target gradient; α = β = 0: zeros', () => {
    const q = tf.tensor2d([[2, -Infinity, 0.5]]);
    const targets = tf.tensor2d([[0.5, 0, 0.5]]);
    const el = tf.tidy(() =>
      tf
        .grads((x: tf.Tensor, y: tf.Tensor) => mixedLoss(x, y, { alpha: 0, beta: 1 }))([q, targets])[1]
        .dataSync(),
    );
    const p = [Math.exp(2) / (Math.exp(2) + Math.exp(0.5)), 0, Math.exp(0.5) / (Math.exp(2) + Math.exp(0.5))];
    p.forEach((pj, j) => expect(el[j]).toBeCloseTo(1 - pj, 6));
    const none = tf.tidy(() =>
      tf
        .grads((x: tf.Tensor, y: tf.Tensor) => mixedLoss(x, y, { alpha: 0, beta: 0 }))([q, targets])[1]
        .dataSync(),
    );
    expect(Array.from(none)).toEqual([0, 0, 0]);
    tf.dispose([q, targets]);
  });

  it('class ids have no gradient (they are indices): zeros of their shape', () => {
    const ids = tf.tensor1d([0, 1, 2, 3, 4], 'float32');
    const g = tf.tidy(() =>
      tf
        .grads((q: tf.Tensor, y: tf.Tensor) => crossEntropy(q, y))([tf.tensor2d(data, [B, C]), ids])[1]
        .dataSync(),
    );
    expect(Array.from(g)).toEqual([0, 0, 0, 0, 0]);
    ids.dispose();
  });
});

describe('against tfjs autodiff of the same loss in stock ops', () => {
  // Stock tfjs computes in float32 too, so the bound is looser than against float64; it
  // still fails a 1e-4 relative error in the kernel's gradient.
  const STOCK_TOL = 5e-5;
  for (const loss of LOSSES) {
    it(`${loss.name} at 32×500`, () => {
      const B = 32,
        C = 500;
      const data = randomLogits(B, C, loss.name.length * 97 + 5);
      const ids = tf.tensor1d(randomLabels(B, C, 77), 'int32');
      const oneHot = tf.oneHot(ids, C).toFloat();
      const fused = valueAndGrad(loss.op, data, B, C, ids, {});
      const stock = tf.tidy(() => {
        const f = (q: tf.Tensor) => tf.mean(loss.stock(tf.sum(tf.mul(oneHot, tf.logSoftmax(q)), 1)));
        const { value, grad } = tf.valueAndGrad(f)(tf.tensor2d(data, [B, C]));
        return { value: value.dataSync()[0], grad: grad.dataSync().slice() };
      });
      expect(relErr(fused.value, stock.value)).toBeLessThan(1e-5);
      expect(gradientError(fused.grad, stock.grad, B, C)).toBeLessThan(STOCK_TOL);
      tf.dispose([ids, oneHot]);
    });
  }

  it('crossEntropy equals tf.losses.softmaxCrossEntropy, value and gradient', () => {
    const B = 16,
      C = 100;
    const data = randomLogits(B, C, 5, 6);
    const ids = tf.tensor1d(randomLabels(B, C, 6), 'int32');
    const oneHot = tf.oneHot(ids, C);
    const fused = valueAndGrad(crossEntropy, data, B, C, ids, {});
    const stock = tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, q))(tf.tensor2d(data, [B, C]));
      return { value: value.dataSync()[0], grad: grad.dataSync().slice() };
    });
    expect(relErr(fused.value, stock.value)).toBeLessThan(1e-5);
    expect(gradientError(fused.grad, stock.grad, B, C)).toBeLessThan(STOCK_TOL);
    tf.dispose([ids, oneHot]);
  });
});

describe('central finite differences (float64) of each loss', () => {
  for (const loss of LOSSES) {
    it(`${loss.name}: the kernel gradient matches d/dq of the float64 loss over random rows`, () => {
      const r = rng(99 + loss.name.length);
      for (let trial = 0; trial < 12; trial++) {
        const C = 2 + Math.floor(r() * 9);
        const q = Array.from({ length: C }, () => (r() * 2 - 1) * 4);
        const y = Math.floor(r() * C);
        const fd = centralDifference((x) => referenceRow(loss.reference, x, y).value, q);
        const g = tf.tidy(() =>
          tf
            .grad((x: tf.Tensor) => loss.op(x, tf.tensor1d([y], 'int32')))(tf.tensor2d([q]))
            .dataSync(),
        );
        const scale = Math.max(...fd.map(Math.abs));
        for (let j = 0; j < C; j++) expect(Math.abs(g[j] - fd[j]), `trial ${trial}, class ${j}`).toBeLessThan(2e-6 * Math.max(1, scale));
      }
    });
  }
});

describe.skipIf(QUICK)('a million classes', () => {
  it('4 × 2^20: row values within 2e-6 of float64, gradient entries within 1e-5 relative, rows summing to zero', () => {
    const B = 4,
      C = 1 << 20;
    const logits = randomLogits(B, C, 2024, 8);
    const labels = randomLabels(B, C, 2025);
    const y = tf.tensor1d(labels, 'int32');
    const { value, grad } = valueAndGrad(mixedLoss, logits, B, C, y, { alpha: 1, beta: 1, reduction: 'sum' });
    const rows = tf.tidy(() => mixedLoss(tf.tensor2d(logits, [B, C]), y, { reduction: 'none' }).dataSync());
    const ref = reference(rowLosses.mixed(1, 1), logits, labels, B, C);
    for (let r = 0; r < B; r++) {
      expect(relErr(rows[r], ref.rows[r])).toBeLessThan(VALUE_TOL);
      let s = 0;
      for (let j = 0; j < C; j++) s += grad[r * C + j];
      expect(Math.abs(s)).toBeLessThan(1e-5);
    }
    expect(relErr(value, ref.sum)).toBeLessThan(VALUE_TOL);
    expect(gradientError(grad, ref.grad, B, C)).toBeLessThan(GRAD_TOL);
    y.dispose();
  });
});

describe('gradient computed in forward (training) against the separate backward pass', () => {
  const addon = native();
  const original = { forwardBackward: addon.forwardBackward, backward: addon.backward };
  afterEach(() => {
    Object.assign(addon, original);
    kernelOptions.gradientInForward = true;
  });

  it('agree for sparse and dense labels, all reductions, with NaN and −∞ rows', () => {
    const calls = { forwardBackward: 0, backward: 0 };
    addon.forwardBackward = (...args) => {
      calls.forwardBackward++;
      return original.forwardBackward(...args);
    };
    addon.backward = (...args) => {
      calls.backward++;
      return original.backward(...args);
    };
    for (const [B, C, dense] of [
      [1, 1, false],
      [5, 9, true],
      [64, 1000, false],
      [3, 70000, true],
      [2, 300000, false],
      [40, 5000, false],
    ] as Array<[number, number, boolean]>) {
      const data = randomLogits(B, C, B * C, 5);
      if (C > 10) {
        data[3] = -Infinity;
        data[C + 5] = NaN;
        data.fill(-Infinity, 2 * C, 3 * C - 1);
      }
      const ids = tf.tensor1d(randomLabels(B, C, B), 'int32');
      const labels = dense ? tf.oneHot(ids, C).toFloat() : ids;
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const run = () =>
          tf.tidy(() => {
            const w = tf.linspace(-1, 2, B);
            const f = (x: tf.Tensor) => {
              const l = mixedLoss(x, labels, { alpha: 1, beta: 2.5, reduction });
              return reduction === 'none' ? tf.sum(tf.mul(l, w)) : tf.mul(l, 3);
            };
            return tf
              .grad(f)(tf.tensor2d(data, [B, C]))
              .dataSync() as Float32Array;
          });
        const before = { ...calls };
        const separate = withSeparateBackward(run);
        expect([calls.forwardBackward - before.forwardBackward, calls.backward - before.backward]).toEqual([0, 1]);
        const fused = run();
        expect([calls.forwardBackward - before.forwardBackward, calls.backward - before.backward]).toEqual([1, 1]);
        // NaN exactly where the separate pass has NaN; elsewhere entry by entry.
        expect(Array.from(fused, Number.isNaN)).toEqual(Array.from(separate, Number.isNaN));
        const finite = (g: Float32Array) => g.map((v) => (Number.isNaN(v) ? 0 : v));
        expect(gradientError(finite(fused), finite(separate), B, C)).toBeLessThan(GRAD_TOL);
      }
      tf.dispose(dense ? [ids, labels] : [ids]);
    }
  });
});
