// softcap inside the kernels' loops: every loss kind's value and gradient against float64 on the
// capped logits (cap·tanh(q/cap), the chain 1 − tanh²(q/cap) on the gradient), in the fused pass
// and the separate backward pass, rows split into slices, dense targets, the target gradient,
// and a `where` mask (a masked class stays out of the softmax).
import { beforeAll, describe, expect, it } from 'vitest';

import { complementEntropy, crossEntropy, focalLoss, mixedLoss, mpceLoss } from '../src';
import { LOSSES } from './support/losses';
import { centralDifference, gradientError, referenceMixedDense, referenceRow, rowLosses, softmax64 } from './support/reference';
import { backendCounts, randomLabels, randomLogits, tf, useTestBackend, withSeparateBackward } from './support/tf';

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
/** The worst entry's relative error and its index (NaN counts as the worst). */
function worstEntry(got: ArrayLike<number>, want: ArrayLike<number>): [number, number] {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = relErr(got[i], want[i]);
    if (!(e <= worst)) [worst, at] = [e, i];
  }
  return [worst, at];
}
const paths = [
  ['fused pass', <T>(f: () => T) => f()],
  ['separate backward', withSeparateBackward],
] as const;

/** cap·tanh(q/cap) in float64, and its derivative. */
const cap64 = (q: ArrayLike<number>, cap: number) => Array.from(q, (v) => cap * Math.tanh(v / cap));
const chain64 = (q: ArrayLike<number>, cap: number) => Array.from(q, (v) => 1 - Math.tanh(v / cap) ** 2);

/**
 * Every kind on rows of logits x64 (one row per label) with softcap `cap`, in the fused pass and
 * the separate backward pass: the summed value within 2e-6 and every gradient entry within 1e-5
 * of float64 on the capped logits (or within `tol` of each).
 */
function everyKindAsFloat64(x64: number[], labels: number[], cap: number, what: string, tol = { value: 2e-6, grad: 1e-5 }): void {
  const [B, c] = [labels.length, x64.length / labels.length];
  const chain = chain64(x64, cap);
  for (const loss of LOSSES) {
    const want = new Float64Array(B * c);
    let sum = 0;
    for (let r = 0; r < B; r++) {
      const ref = referenceRow(loss.reference, cap64(x64.slice(r * c, (r + 1) * c), cap), labels[r]);
      sum += ref.value;
      ref.grad.forEach((g, j) => (want[r * c + j] = g * chain[r * c + j]));
    }
    for (const [name, path] of paths) {
      const t = tf.tensor2d(x64, [B, c]);
      const { value, grad } = path(() =>
        tf.valueAndGrad((v: tf.Tensor) => loss.op(v, labels, { softcap: cap, reduction: 'sum' }) as tf.Scalar)(t),
      );
      expect(relErr(value.dataSync()[0], sum), `${loss.name}, ${what}, ${name}`).toBeLessThan(tol.value);
      const [worst, at] = worstEntry(grad.dataSync(), want);
      expect(worst, `${loss.name}, ${what}, ${name}, worst at entry ${at}`).toBeLessThan(tol.grad);
      tf.dispose([t, value, grad]);
    }
  }
}

beforeAll(useTestBackend);

describe('softcap in the kernels', () => {
  const [B, C, cap] = [7, 37, 2.5];
  const q = randomLogits(B, C, 11, 6); // |q| up to ~6: well into tanh's bend
  const y = randomLabels(B, C, 12);
  for (const loss of LOSSES) {
    for (const [name, path] of paths) {
      it(`${loss.name}: value and gradient of the capped logits (${name})`, () => {
        let sum = 0;
        const grad = new Float64Array(B * C);
        for (let r = 0; r < B; r++) {
          const row = q.subarray(r * C, (r + 1) * C);
          const ref = referenceRow(loss.reference, cap64(row, cap), y[r]);
          const chain = chain64(row, cap);
          sum += ref.value;
          ref.grad.forEach((g, j) => (grad[r * C + j] = g * chain[j]));
        }
        const x = tf.tensor2d(q, [B, C]);
        const { value, grad: got } = path(() =>
          tf.valueAndGrad((v: tf.Tensor) => loss.op(v, Array.from(y), { softcap: cap, reduction: 'sum' }) as tf.Scalar)(x),
        );
        expect(relErr(value.dataSync()[0], sum)).toBeLessThan(2e-6);
        expect(gradientError(got.dataSync(), grad, B, C)).toBeLessThan(1e-5);
        tf.dispose([x, value, got]);
      });
    }
  }

  it('MPCE and complement entropy (argmax and complement terms) against central differences of the capped float64 loss', () => {
    const [b, c] = [3, 9];
    const x64 = Array.from(randomLogits(b, c, 21, 5));
    const labels = Array.from(randomLabels(b, c, 22));
    const mpce = (flat: number[]) =>
      labels.reduce((s, yy, r) => {
        const { logp, p } = softmax64(cap64(flat.slice(r * c, (r + 1) * c), cap));
        const k = p.indexOf(Math.max(...p));
        return s - (p[k] - p[yy]) * logp[yy];
      }, 0);
    const cot = (flat: number[]) =>
      labels.reduce((s, yy, r) => {
        const { p } = softmax64(cap64(flat.slice(r * c, (r + 1) * c), cap));
        let h = 0;
        for (let j = 0; j < c; j++) if (j !== yy) h += (p[j] / (1 - p[yy])) * Math.log(p[j] / (1 - p[yy]));
        return s + h / c;
      }, 0);
    for (const [op, ref] of [
      [mpceLoss, mpce],
      [complementEntropy, cot],
    ] as const) {
      for (const [, path] of paths) {
        const x = tf.tensor2d(x64, [b, c]);
        const { value, grad } = path(() =>
          tf.valueAndGrad((v: tf.Tensor) => op(v, labels, { softcap: cap, reduction: 'sum' }) as tf.Scalar)(x),
        );
        expect(relErr(value.dataSync()[0], ref(x64))).toBeLessThan(2e-6);
        expect(gradientError(grad.dataSync(), centralDifference(ref, x64, 1e-5), b, c)).toBeLessThan(1e-3);
        tf.dispose([x, value, grad]);
      }
    }
  });

  it('saturated logits (|q| up to 10 caps): every gradient entry within 1e-5 of float64, its sign included', () => {
    const c = 20;
    const qs = Array.from({ length: c }, (_, j) => -30 + j * 3);
    const yy = 5;
    const { p } = softmax64(cap64(qs, 3));
    const chain = chain64(qs, 3);
    const ref = qs.map((_, j) => (-1 - 0.5 * p[yy]) * ((j === yy ? 1 : 0) - p[j]) * chain[j]);
    for (const [, path] of paths) {
      const x = tf.tensor2d([qs]);
      const g = path(() => tf.grad((v: tf.Tensor) => mixedLoss(v, [yy], { alpha: 1, beta: 0.5, softcap: 3, reduction: 'sum' }))(x));
      Array.from(g.dataSync()).forEach((v, j) => expect(relErr(v, ref[j]), `entry ${j}`).toBeLessThan(1e-5));
      tf.dispose([x, g]);
    }
  });

  it('NaN and infinite logits: a NaN anywhere in a row makes its value and every gradient entry NaN; −∞ stays masked, +∞ saturates at the cap', () => {
    // Rows of 100 around the target at 40 are two pieces, 40 and 59 columns: a NaN in the first
    // piece's 32-column vector body (5) and tail (37), the second's body (70) and tail (95), and
    // at the target (40). Row 5 holds ±∞ (−∞ masked, +∞ capped to the cap with a chain factor of
    // 0), row 6 nothing special; both within 1e-5 of float64, on both paths, every kind.
    const [c, capped, target] = [100, 3, 40];
    const base = (r: number) => Array.from({ length: c }, (_, j) => 0.9 * capped * Math.sin(j * 0.41 + r));
    const nanAt = [5, 37, 70, 95, target];
    const rows = nanAt.map((j, r) => Object.assign(base(r), { [j]: NaN }));
    rows.push(Object.assign(base(9), { 3: -Infinity, 60: Infinity, 97: -Infinity }), base(10));
    const labels = rows.map(() => target);
    const capOf = (v: number) => (v === -Infinity ? v : capped * Math.tanh(v / capped));
    for (const loss of LOSSES) {
      const refs = rows.slice(nanAt.length).map((row) => {
        const ref = referenceRow(loss.reference, row.map(capOf), target);
        return { value: ref.value, grad: ref.grad.map((g, j) => (Number.isFinite(row[j]) ? g * chain64([row[j]], capped)[0] : 0)) };
      });
      for (const [name, path] of paths) {
        const t = tf.tensor2d(rows);
        const perRow = loss.op(t, labels, { softcap: capped, reduction: 'none' }) as tf.Tensor;
        const grad = path(() => tf.grad((v: tf.Tensor) => loss.op(v, labels, { softcap: capped, reduction: 'sum' }) as tf.Scalar)(t));
        const [values, g] = [perRow.dataSync(), grad.dataSync()];
        nanAt.forEach((j, r) => {
          expect(values[r], `${loss.name}, ${name}: NaN at ${j}`).toBeNaN();
          expect(Array.from(g.subarray(r * c, (r + 1) * c)).every(Number.isNaN), `${loss.name}, ${name}: NaN at ${j}, gradient`).toBe(true);
        });
        refs.forEach((ref, k) => {
          const r = nanAt.length + k;
          expect(relErr(values[r], ref.value), `${loss.name}, ${name}, row ${r}`).toBeLessThan(2e-6);
          const [worst, at] = worstEntry(g.subarray(r * c, (r + 1) * c), ref.grad);
          expect(worst, `${loss.name}, ${name}, row ${r}, worst at entry ${at}`).toBeLessThan(1e-5);
        });
        tf.dispose([t, perRow, grad]);
      }
    }
  });

  it('blocks of logits within the cap beside saturated ones, short and split rows: every entry within 1e-5 of float64', () => {
    // Most 256-column blocks hold |q| ≤ cap only (the polynomial tanh, the chain 1 − t² from the
    // capped logits); a few hold one saturated or infinite-free outlier (the rational tanh, the exp
    // form), one holds |q| = cap exactly. Rows of 1000 (one slice) and 2^17 + 300 columns (three).
    const capped = 3;
    for (const c of [1000, 131_372]) {
      const row = Float32Array.from({ length: c }, (_, j) => 0.97 * capped * Math.sin(j * 0.37 + c));
      row[300] = 6 * capped;
      row[700] = -5 * capped;
      row[900] = capped;
      row[c - 5] = 10 * capped;
      const labels = [[0, 300, c - 5][c % 3], 7];
      const x64 = [...row, ...row.map((v) => -v)];
      const chain = chain64(x64, capped);
      for (const [op, rowRef] of [
        [
          (v: tf.Tensor) => mixedLoss(v, labels, { alpha: 1, beta: 0.5, softcap: capped, reduction: 'sum' }),
          (lp: number) => ({ value: -lp + (1 - Math.exp(lp)) * 0.5, dlp: -1 - 0.5 * Math.exp(lp) }),
        ],
        [(v: tf.Tensor) => crossEntropy(v, labels, { softcap: capped, reduction: 'sum' }), (lp: number) => ({ value: -lp, dlp: -1 })],
      ] as const) {
        const want = new Float64Array(2 * c);
        let sum = 0;
        for (let r = 0; r < 2; r++) {
          const ref = referenceRow(rowRef, cap64(x64.slice(r * c, (r + 1) * c), capped), labels[r]);
          sum += ref.value;
          ref.grad.forEach((g, j) => (want[r * c + j] = g * chain[r * c + j]));
        }
        for (const [name, path] of paths) {
          const t = tf.tensor2d(x64, [2, c]);
          const { value, grad } = path(() => tf.valueAndGrad((v: tf.Tensor) => op(v) as tf.Scalar)(t));
          expect(relErr(value.dataSync()[0], sum), `${c} columns, ${name}`).toBeLessThan(2e-6);
          const [worst, at] = worstEntry(grad.dataSync(), want);
          expect(worst, `${c} columns, ${name}, worst at entry ${at}`).toBeLessThan(1e-5);
          tf.dispose([t, value, grad]);
        }
      }
    }
  });

  it('rows whose logits all lie within the cap (no capped copy; the chain factor rides on the stored exponentials): every kind, every entry within 1e-5 of float64', () => {
    // Row 0: |q| ≤ cap everywhere, ±cap exactly included. Row 1: the target holds the row's
    // largest logit (the slice's max leaves it out). Row 2: within the cap except one outlier in
    // the last 300 columns: a short row takes the general path whole, a row of three slices
    // takes the in-cap path in its first two slices and the general one in the last.
    const capped = 3;
    for (const c of [1000, 131_372]) {
      const rows = [0, 1, 2].map((r) => Float32Array.from({ length: c }, (_, j) => 0.95 * capped * Math.sin(j * (0.37 + 0.1 * r) + c)));
      rows[0][10] = capped;
      rows[0][c - 1] = -capped;
      rows[1][c >> 1] = capped;
      rows[2][c - 150] = 4 * capped;
      const labels = [17, c >> 1, c - 7];
      const x64 = rows.flatMap((row) => Array.from(row));
      everyKindAsFloat64(x64, labels, capped, `${c} columns`);
    }
  });

  it('rows reaching 1/8, 1/4, 1/2, 3/4 and all of the cap (each range takes a polynomial of its own): every kind, every entry within 1e-5 of float64', () => {
    // One row per range, its largest |q| exactly that fraction of the cap, and a row one float
    // past 1/4 of it; 1000 columns (one slice) and 5000 (blocks of 2048 and a tail).
    const capped = 3;
    const reaches = [1 / 8, 1 / 4, 1 / 2, 3 / 4, 1];
    for (const c of [1000, 5000]) {
      const rows = reaches.map((f, r) => Float32Array.from({ length: c }, (_, j) => f * capped * Math.sin(j * (0.41 + 0.1 * r) + c)));
      rows.forEach((row, r) => (row[(37 * r + 5) % c] = (r % 2 ? -1 : 1) * reaches[r] * capped));
      const past = Float32Array.from(rows[1]);
      past[3] = 0.75000006; // one float past 1/4 of the cap, over 3
      rows.push(past);
      const labels = rows.map((_, r) => (101 * r + 13) % c);
      everyKindAsFloat64(
        rows.flatMap((row) => Array.from(row)),
        labels,
        capped,
        `${c} columns`,
      );
    }
  });

  it('rows within a wide cap whose logits all lie far below 0 (−300 to −40, cap 1000): the shift is their own max, not 0 (exp(−200) is 0 in float)', () => {
    // Widths with a masked tail step (37, 1000, 5003) and short rows (5, 20, 32); the range sweep's
    // max must leave the lanes past a row's end out, or every exponential underflows. Each capped
    // logit is q·P(q²/cap²) with P rounded to float: ~|q|·2^−24 off, 1.5e-5 here, so the
    // tolerances are 1e-4 (a shift of 0 gives infinite losses).
    const capped = 1000;
    for (const c of [5, 20, 32, 37, 1000, 5003]) {
      const rows = [0, 1, 2].map((r) => Array.from({ length: c }, (_, j) => Math.fround(-250 + 50 * Math.sin(j * (0.29 + 0.1 * r) + c))));
      // And a row from −300 up to −40: exponentials of arguments down to −260 (exp8's 2^n below
      // 2^−252 is 0, not a wrapped exponent).
      rows.push(Array.from({ length: c }, (_, j) => Math.fround(-300 + (260 * ((j * 7) % c)) / Math.max(1, c - 1))));
      const labels = rows.map((_, r) => (7 * r + 3) % c);
      everyKindAsFloat64(rows.flat(), labels, capped, `${c} columns`, { value: 1e-4, grad: 1e-4 });
    }
  });

  it('short rows (1 to 33 classes), the target in every column: within the cap, its target beyond it, an outlier in the second step of 16; every kind, every entry within 1e-5 of float64', () => {
    // Rows of up to 32 classes take one masked step without the target's lane (AVX-512), in the
    // range sweep and in the in-cap loop alike.
    const capped = 3;
    for (let c = 1; c <= 33; c++) {
      const rows: number[][] = [];
      const labels: number[] = [];
      for (let r = 0; r < c + 3; r++) {
        const row = Array.from({ length: c }, (_, j) => Math.fround(0.9 * capped * Math.sin(j * 0.73 + r * 1.1 + c)));
        const y = r % c;
        if (r === c) row[y] = 5 * capped; // the target alone beyond the cap: the others still take the in-cap path
        // An outlier of either sign in the last column (the second step of 16): the general path.
        if (r > c && c > 1) row[y === c - 1 ? c - 2 : c - 1] = (r === c + 1 ? 4 : -4) * capped;
        rows.push(row);
        labels.push(y);
      }
      everyKindAsFloat64(rows.flat(), labels, capped, `${c} columns`);
    }
  });

  it('logits within the cap but far from 0 (cap 1e9, |q| up to 1e8): the general path, as float64', () => {
    // The in-cap loops' exp has no clamp and stays exact for arguments down to −2000; slices
    // with a logit past 1000 take the general path (its exp clamps).
    const [c, wide] = [3000, 1e9];
    const row = Array.from({ length: c }, (_, j) => Math.fround(1e8 * Math.sin(0.37 * j + 1)));
    const y = 1234;
    for (const loss of LOSSES) {
      const ref = referenceRow(loss.reference, cap64(row, wide), y);
      const chain = chain64(row, wide);
      for (const [name, path] of paths) {
        const t = tf.tensor2d([row]);
        const { value, grad } = path(() =>
          tf.valueAndGrad((v: tf.Tensor) => loss.op(v, [y], { softcap: wide, reduction: 'sum' }) as tf.Scalar)(t),
        );
        expect(relErr(value.dataSync()[0], ref.value), `${loss.name}, ${name}`).toBeLessThan(2e-6);
        const want = ref.grad.map((g, j) => g * chain[j]);
        expect(gradientError(grad.dataSync(), want, 1, c), `${loss.name}, ${name}`).toBeLessThan(1e-5);
        tf.dispose([t, value, grad]);
      }
    }
  });

  it('a wide cap within the cap: the shift is the max of both sides of the target (exp(91) overflows float)', () => {
    // Capped logits −60·tanh(1) left of the target and +60·tanh(1) right of it: a shift taken from
    // one side alone would overflow the other side's exponentials.
    const [c, wide, yy] = [600, 60, 200];
    const row = Array.from({ length: c }, (_, j) => (j < yy ? -wide : j > yy ? wide * (0.9 + 0.1 * Math.cos(j)) : 0));
    const ref = referenceRow(rowLosses.mixed(1, 0.5), cap64(row, wide), yy);
    const chain = chain64(row, wide);
    for (const [name, path] of paths) {
      const t = tf.tensor2d([row]);
      const { value, grad } = path(() =>
        tf.valueAndGrad((v: tf.Tensor) => mixedLoss(v, [yy], { alpha: 1, beta: 0.5, softcap: wide, reduction: 'sum' }) as tf.Scalar)(t),
      );
      expect(relErr(value.dataSync()[0], ref.value), name).toBeLessThan(2e-6);
      expect(
        gradientError(
          grad.dataSync(),
          ref.grad.map((g, j) => g * chain[j]),
          1,
          c,
        ),
        name,
      ).toBeLessThan(1e-5);
      tf.dispose([t, value, grad]);
    }
  });

  it('rows longer than a capped slice (2^16 columns) and few rows: the slices merge as without softcap', () => {
    const [b, c] = [2, 150_001];
    const x = randomLogits(b, c, 31, 8);
    const labels = randomLabels(b, c, 32);
    let sum = 0;
    const grad = new Float64Array(b * c);
    for (let r = 0; r < b; r++) {
      const row = x.subarray(r * c, (r + 1) * c);
      const ref = referenceRow((lp) => ({ value: -lp + (1 - Math.exp(lp)) * 0.5, dlp: -1 - 0.5 * Math.exp(lp) }), cap64(row, 3), labels[r]);
      const chain = chain64(row, 3);
      sum += ref.value;
      ref.grad.forEach((g, j) => (grad[r * c + j] = g * chain[j]));
    }
    for (const [, path] of paths) {
      const t = tf.tensor2d(x, [b, c]);
      const { value, grad: got } = path(() =>
        tf.valueAndGrad(
          (v: tf.Tensor) => mixedLoss(v, Array.from(labels), { alpha: 1, beta: 0.5, softcap: 3, reduction: 'sum' }) as tf.Scalar,
        )(t),
      );
      expect(relErr(value.dataSync()[0], sum)).toBeLessThan(2e-6);
      expect(gradientError(got.dataSync(), grad, b, c)).toBeLessThan(1e-5);
      tf.dispose([t, value, got]);
    }
  });

  it('dense targets with softcap, and the gradient with respect to the targets', () => {
    const [b, c] = [4, 6];
    const x = randomLogits(b, c, 41, 5);
    const t = Array.from(randomLogits(b, c, 42, 1), Math.abs);
    for (let r = 0; r < b; r++) {
      const s = t.slice(r * c, (r + 1) * c).reduce((a, v) => a + v, 0);
      for (let j = 0; j < c; j++) t[r * c + j] /= s;
    }
    let sum = 0;
    const grad = new Float64Array(b * c);
    const tgrad = new Float64Array(b * c);
    for (let r = 0; r < b; r++) {
      const row = x.subarray(r * c, (r + 1) * c);
      const capped = cap64(row, cap);
      const ref = referenceMixedDense(capped, t.slice(r * c, (r + 1) * c), 1, 0.7);
      const chain = chain64(row, cap);
      const { logp, p } = softmax64(capped);
      sum += ref.value;
      ref.grad.forEach((g, j) => (grad[r * c + j] = g * chain[j]));
      for (let j = 0; j < c; j++) tgrad[r * c + j] = -logp[j] + 0.7 * (1 - p[j]);
    }
    const out = tf.valueAndGrads(
      (v: tf.Tensor, tt: tf.Tensor) => mixedLoss(v, tt, { alpha: 1, beta: 0.7, softcap: cap, reduction: 'sum' }) as tf.Scalar,
    )([tf.tensor2d(x, [b, c]), tf.tensor2d(t, [b, c])]);
    expect(relErr(out.value.dataSync()[0], sum)).toBeLessThan(2e-6);
    expect(gradientError(out.grads[0].dataSync(), grad, b, c)).toBeLessThan(1e-5);
    expect(gradientError(out.grads[1].dataSync(), tgrad, b, c)).toBeLessThan(2e-6);
  });

  it("focal on soft targets (keras' dense form, stock ops): the stock cap and its gradient, against central differences", () => {
    const [b, c, gamma] = [3, 5, 2];
    const x64 = Array.from(randomLogits(b, c, 51, 6));
    const t = Array.from(randomLogits(b, c, 52, 1), Math.abs);
    for (let r = 0; r < b; r++) {
      const s = t.slice(r * c, (r + 1) * c).reduce((a, v) => a + v, 0);
      for (let j = 0; j < c; j++) t[r * c + j] /= s;
    }
    const ref = (flat: number[]) => {
      let sum = 0;
      for (let r = 0; r < b; r++) {
        const { logp, p } = softmax64(cap64(flat.slice(r * c, (r + 1) * c), cap));
        for (let j = 0; j < c; j++) sum += -((1 - p[j]) ** gamma) * t[r * c + j] * logp[j];
      }
      return sum;
    };
    const x = tf.tensor2d(x64, [b, c]);
    const { value, grad } = tf.valueAndGrad(
      (v: tf.Tensor) => focalLoss(v, tf.tensor2d(t, [b, c]), { gamma, softcap: cap, reduction: 'sum' }) as tf.Scalar,
    )(x);
    expect(relErr(value.dataSync()[0], ref(x64))).toBeLessThan(1e-5);
    expect(gradientError(grad.dataSync(), centralDifference(ref, x64, 1e-5), b, c)).toBeLessThan(1e-3);
    tf.dispose([x, value, grad]);
  });

  it('a where mask: masked classes stay out of the softmax (as if absent), with and without softcap', () => {
    const x = [
      [4, -1, 7, 0.5],
      [-3, 2, 1, 9],
    ];
    const mask = [
      [true, true, false, true],
      [true, false, true, true],
    ];
    const kept = [
      [4, -1, 0.5],
      [-3, 1, 9],
    ];
    const want = crossEntropy(tf.tensor2d(kept), [0, 2], { softcap: 3, reduction: 'none' }).dataSync();
    const got = crossEntropy(tf.tensor2d(x), [0, 3], {
      softcap: 3,
      where: tf.tensor2d(mask, undefined, 'bool'),
      reduction: 'none',
    }).dataSync();
    for (let i = 0; i < 2; i++) expect(relErr(got[i], want[i])).toBeLessThan(1e-6);
  });

  it('a where mask with the stock-op cap too (focal on soft targets): masked classes stay out', () => {
    const x = tf.tensor2d([
      [4, -1, 7, 0.5],
      [-3, 2, 1, 9],
    ]);
    const t = tf.tensor2d([
      [0.7, 0.3, 0, 0],
      [0.5, 0, 0, 0.5],
    ]);
    const mask = tf.tensor2d(
      [
        [true, true, false, true],
        [true, false, true, true],
      ],
      undefined,
      'bool',
    );
    const kept = tf.tensor2d([
      [4, -1, 0.5],
      [-3, 1, 9],
    ]);
    const keptT = tf.tensor2d([
      [0.7, 0.3, 0],
      [0.5, 0, 0.5],
    ]);
    const want = focalLoss(kept, keptT, { softcap: 3, reduction: 'none' }).dataSync();
    const got = focalLoss(x, t, { softcap: 3, where: mask, reduction: 'none' }).dataSync();
    for (let i = 0; i < 2; i++) expect(relErr(got[i], want[i])).toBeLessThan(1e-6);
    tf.dispose([x, t, mask, kept, keptT]);
  });

  it('runs inside the fused kernel: no tanh, no [B, C] tensor of capped logits, in the forward or the gradient', async () => {
    const x = tf.tensor2d(q, [B, C]);
    const forward = await tf.profile(() => crossEntropy(x, Array.from(y), { softcap: cap }));
    const backward = await tf.profile(() => tf.grad((v: tf.Tensor) => crossEntropy(v, Array.from(y), { softcap: cap }))(x));
    for (const info of [forward, backward]) {
      expect(info.kernelNames.some((k) => k.startsWith('MixlossFusedLoss'))).toBe(true);
      expect(info.kernelNames).not.toContain('Tanh');
    }
    // No more memory than without softcap (the stock path held a capped copy of the logits).
    const plain = await tf.profile(() => tf.grad((v: tf.Tensor) => crossEntropy(v, Array.from(y)))(x));
    expect(backward.peakBytes).toBe(plain.peakBytes);
    expect(backward.newBytes).toBe(plain.newBytes);
    x.dispose();
  });

  it('leaves nothing behind, and an op with softcap keeps its tape small', () => {
    const x = tf.tensor2d(q, [B, C]);
    const before = backendCounts();
    const g = tf.grad((v: tf.Tensor) => crossEntropy(v, Array.from(y), { softcap: cap }))(x);
    g.dispose();
    expect(backendCounts()).toEqual(before);
    x.dispose();
  });
});
