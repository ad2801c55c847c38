// The Rényi information measures (issue 9): the spec's worked example, identities, a float64
// reference with its own eigensolver, central differences, repeated eigenvalues, the kernel
// widths, bad input, and training with the regularizer. Runs on cpu and (test/wasm.test.ts) wasm.
import { spawnSync } from 'child_process';
import * as path from 'path';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  alignmentCandidates,
  informationLoss,
  InformationDiagnostics,
  kernelAlignment,
  renyiEntropy,
  renyiInformation,
  renyiMutualInformation,
  silvermanWidth,
  WidthSelector,
} from '../src';
import { kernelOptions } from '../src/kernels/fused_loss';
import { native } from '../src/native';
import { centralDifferences, entropyOfValues, gram, jacobiEigen, referenceInformation } from './support/information-reference';
import { backendCounts, rng, tf, thrownBy, useTestBackend } from './support/tf';

const P = [
  [0.7, 0.2, 0.1],
  [0.1, 0.8, 0.1],
  [0.3, 0.4, 0.3],
  [0.05, 0.05, 0.9],
  [0.6, 0.3, 0.1],
  [0.2, 0.2, 0.6],
];
const Y = [0, 1, 1, 2, 0, 2];
const SPEC_GRAD = [
  [0.0686305694, -0.0398238884, -0.0288066972],
  [-0.0166472349, 0.0213046076, -0.0046573971],
  [-0.3569186473, 0.4810076342, -0.124088922],
  [-0.0123343469, -0.0074175386, 0.0197517875],
  [0.4724787954, -0.1486125418, -0.3238662618],
  [-0.1552091193, -0.3064583303, 0.4616674989],
];

/** Random float32-representable rows, optionally with duplicated rows. */
function randomRows(n: number, d: number, seed: number, scale = 1): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.fround((r() * 2 - 1) * scale)));
}

function gradOf(ids: number[], z: number[][], options: { alpha?: number; width: number }): number[][] {
  return tf.tidy(() => {
    const g = tf.grad((x: tf.Tensor) => renyiMutualInformation(ids, x, options))(tf.tensor2d(z));
    return g.arraySync() as number[][];
  });
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      m = Math.max(m, Math.abs(x - b[i][j]));
    }),
  );
  return m;
}

function maxAbs(a: number[][]): number {
  return Math.max(...a.flat().map(Math.abs));
}

describe('Rényi information measures', () => {
  beforeAll(useTestBackend);

  it("reproduces the spec's worked example: H(Y), H(Ŷ), I(Y; Ŷ) and ∂I/∂P", () => {
    const t = renyiInformation(Y, tf.tensor2d(P), { width: 0.5 });
    // The spec is float64 on the exact decimals; the op reads float32 rows (≈ 1e-8 apart).
    expect(t.labels).toBeCloseTo(1.584962500721, 11);
    expect(Math.abs(t.layer - 2.011746369371)).toBeLessThan(1e-7);
    expect(Math.abs(t.mutualInformation - 1.392154430588)).toBeLessThan(1e-7);
    const value = renyiMutualInformation(Y, tf.tensor2d(P), { width: 0.5 });
    expect(Math.abs(value.dataSync()[0] - t.mutualInformation)).toBeLessThan(1e-6); // the op's float32 scalar
    value.dispose();
    expect(maxAbsDiff(gradOf(Y, P, { width: 0.5 }), SPEC_GRAD)).toBeLessThan(2e-7);
  });

  it('H(I/N) = log2 N (rows far apart), 0 for a rank-one Gram matrix (equal rows)', () => {
    const n = 7;
    const apart = tf.eye(n).mul(100);
    expect(renyiEntropy(apart, { width: 1 }).dataSync()[0]).toBeCloseTo(Math.log2(n), 6);
    const same = tf.ones([n, 3]);
    expect(Math.abs(renyiEntropy(same, { width: 1 }).dataSync()[0])).toBeLessThan(1e-6);
    // One class: I(Y; Z) = 0 whatever Z, and so is its gradient, exactly (the joint matrix is the
    // marginal one, built the same way: the fuzzer found 1e-20 of FMA rounding when it was not).
    expect(Math.abs(renyiInformation(new Array(n).fill(0), tf.tensor2d(randomRows(n, 3, 4)), { width: 1 }).mutualInformation)).toBeLessThan(
      1e-12,
    );
    const oneClassRows = randomRows(21, 2, 5).map((r, i) => (i === 1 ? r : [0.156217203, -0.315783024].map(Math.fround)));
    for (const alpha of [1.01, 2]) expect(maxAbs(gradOf(new Array(21).fill(0), oneClassRows, { alpha, width: 9.16 }))).toBe(0);
    tf.dispose([apart, same]);
  });

  it('matches a float64 reference (its own Jacobi eigensolver, dense joint matrix) for α = 1.01, 0.5, 2, 3', () => {
    for (const [seed, n, d, c] of [
      [1, 12, 3, 3],
      [2, 20, 5, 4],
      [3, 9, 2, 2],
    ]) {
      const z = randomRows(n, d, seed);
      const ids = Array.from({ length: n }, (_, i) => i % c);
      for (const alpha of [1.01, 0.5, 2, 3]) {
        const width = 0.8;
        const got = renyiInformation(ids, tf.tensor2d(z), { alpha, width });
        const want = referenceInformation(ids, z, width, alpha);
        // α < 1 lifts the solvers' rounding-level eigenvalues (|λ| ≈ 1e-16 → 1e-8 at α = 0.5): the
        // reference's dense label matrix has N − C of them, the native path counts classes.
        const tol = alpha < 1 ? 1e-7 : 1e-9;
        for (const k of ['labels', 'layer', 'joint', 'mutualInformation'] as const) {
          expect(Math.abs(got[k] - want[k]), `${k} α=${alpha} seed ${seed}`).toBeLessThan(tol * Math.max(1, Math.abs(want[k])));
        }
      }
    }
  });

  it('is bounded above: I(Y; Z) ≤ min(H(Y), H(Z)), with equality when Z determines Y', () => {
    for (let seed = 10; seed < 16; seed++) {
      const z = randomRows(24, 4, seed, 2);
      const ids = Array.from({ length: 24 }, (_, i) => (i * 7 + seed) % 3);
      const t = renyiInformation(ids, tf.tensor2d(z), { width: 1 });
      expect(t.mutualInformation).toBeLessThanOrEqual(Math.min(t.labels, t.layer) + 1e-12);
    }
    // Rows equal within a class and far apart across classes: I = H(Y) = H(Z).
    const ids = [0, 1, 1, 2, 0, 2, 2];
    const onehot = tf.oneHot(ids, 3).mul(50);
    const t = renyiInformation(ids, onehot, { width: 1 });
    expect(t.mutualInformation).toBeCloseTo(t.labels, 9);
    expect(t.layer).toBeCloseTo(t.labels, 9);
    onehot.dispose();
  });

  it('can be negative: the functional is not subadditive (the fuzzer found this batch; 50-digit arithmetic agrees)', () => {
    // 21 rows, one of class 1; a width far above the distances; α = 2. mpmath at 50 digits:
    // H(Y) + H(Z) − H(Y, Z) = −5.3358122408e-6 bits.
    const far = Math.fround(-10.7409573);
    const z = Array.from({ length: 21 }, (_, i) => (i === 1 ? [Math.fround(-13.8442049), Math.fround(-13.8442049)] : [far, far]));
    const ids = [1, ...new Array(20).fill(0)];
    const t = renyiInformation(ids, tf.tensor2d(z), { alpha: 2, width: 205.60022007283231 });
    expect(Math.abs(t.mutualInformation - -5.3358122408e-6)).toBeLessThan(1e-12);
    expect(Math.abs(referenceInformation(ids, z, 205.60022007283231, 2).mutualInformation - -5.3358122408e-6)).toBeLessThan(1e-12);
  });

  it('α < 1 on a rank-deficient Gram matrix: an Error that says why, never ∞ nor a gradient of rounding (found by fuzzing)', () => {
    // λ^(α−1) diverges as λ → 0: eigenvalues at the solver's rounding level give either an
    // overflow or finite numbers made of rounding (which build depends on its rounding); both
    // are refused, from the eigenvalues, on every build.
    const z = Array.from({ length: 20 }, (_, i) => [Math.fround(i === 1 ? -947.662476 : -940.28772)]);
    const ids = [0, 2, ...new Array(18).fill(0)];
    // Outside any tidy (a tidy would dispose what the op leaks and hide it): the input made and
    // disposed here; the Error must leave nothing behind.
    const x = tf.tensor2d(z);
    const before = backendCounts();
    const e = thrownBy(() =>
      tf.grad((v: tf.Tensor) => renyiMutualInformation(ids, v, { alpha: 0.019455252918287938, width: 947662.50222966052 }))(x),
    );
    expect(e.message).toMatch(/^mixloss\.renyiMutualInformation: the gradient is not finite: for alpha < 1 .* Use alpha >= 1/);
    expect(backendCounts()).toEqual(before);
    // The same rows at α = 1.01 (the paper's) have a finite gradient.
    const g = tf.grad((v: tf.Tensor) => renyiMutualInformation(ids, v, { alpha: 1.01, width: 947662.50222966052 }))(x);
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    g.dispose();
    x.dispose();
  });

  it('takes labels as class ids, [N, 1], int32 tensors or one-hot rows, with the same result', () => {
    const z = tf.tensor2d(P);
    const want = renyiInformation(Y, z, { width: 0.5 }).mutualInformation;
    const forms = [
      Int32Array.from(Y),
      tf.tensor1d(Y, 'int32'),
      tf.tensor1d(Y, 'float32'),
      tf.tensor2d(Y, [6, 1]),
      tf.oneHot(Y, 3),
      tf.oneHot(Y, 3).toFloat(),
    ];
    for (const y of forms) expect(renyiInformation(y as never, z, { width: 0.5 }).mutualInformation).toBe(want);
    tf.dispose([z, ...(forms.filter((f) => f instanceof tf.Tensor) as tf.Tensor[])]);
  });

  it('has the gradient of central differences (float64 reference), for α = 1.01 and α = 2', () => {
    for (const alpha of [1.01, 2]) {
      const z = randomRows(10, 3, 21);
      const ids = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
      const want = centralDifferences((x) => referenceInformation(ids, x, 0.9, alpha).mutualInformation, z);
      const got = gradOf(ids, z, { alpha, width: 0.9 });
      expect(maxAbsDiff(got, want) / maxAbs(want), `α=${alpha}`).toBeLessThan(1e-5);
    }
  });

  it('stays finite and exact with repeated eigenvalues (duplicated rows), where autodiff through eigh gives NaN', () => {
    const base = randomRows(5, 3, 31);
    const z = [...base, ...base, base[0]]; // every row twice, one three times
    const ids = [0, 1, 1, 2, 0, 0, 1, 1, 2, 0, 0];
    const got = gradOf(ids, z, { width: 0.7 });
    expect(got.flat().every(Number.isFinite)).toBe(true);
    const want = centralDifferences((x) => referenceInformation(ids, x, 0.7, 1.01).mutualInformation, z);
    expect(maxAbsDiff(got, want) / maxAbs(want)).toBeLessThan(1e-4);
    // The label and joint matrices have eigenvalues repeated many times; so do these.
    const values = jacobiEigen(gram(z, 0.7)).values;
    expect(values.filter((l) => Math.abs(l) < 1e-9).length).toBeGreaterThanOrEqual(6);
  });

  it('has column sums of zero (translating every row changes nothing)', () => {
    const z = randomRows(16, 4, 41, 3);
    const ids = Array.from({ length: 16 }, (_, i) => i % 4);
    const g = gradOf(ids, z, { width: 1.5 });
    for (let j = 0; j < 4; j++) expect(Math.abs(g.reduce((s, row) => s + row[j], 0))).toBeLessThan(1e-6 * maxAbs(g));
    const shifted = z.map((row) => row.map((x) => x + 10));
    const a = renyiInformation(ids, tf.tensor2d(z), { width: 1.5 }).mutualInformation;
    const b = renyiInformation(ids, tf.tensor2d(shifted), { width: 1.5 }).mutualInformation;
    expect(Math.abs(a - b)).toBeLessThan(1e-6);
  });

  it('gives a zero gradient, not rounding noise, when the width is far below every distance (found by fuzzing)', () => {
    // Nothing depends on Z. The matrix form (Diag(P·1) − P)·Z used to subtract P_ij·z_i and
    // P_ij·z_j in separate sums, whose rounding times 4/s² came out as a gradient.
    // Pairs of equal rows far from the origin: K_ij = 1 within a pair, 0 elsewhere.
    const base = randomRows(6, 2, 43, 10).map((r) => r.map((x) => Math.fround(x + 1000)));
    const z = [...base, ...base];
    const ids = Array.from({ length: 12 }, (_, i) => i % 3);
    for (const alpha of [1.01, 2]) {
      expect(maxAbs(gradOf(ids, z, { alpha, width: 1e-6 })), `α=${alpha}`).toBe(0);
      // The fuzzer's input: the entropy of 12 equal rows.
      const equal = tf.fill([12, 1], Math.fround(-0.001));
      const g = tf.grad((x: tf.Tensor) => renyiEntropy(x, { alpha, width: 1e-6 }))(equal);
      expect(maxAbs(g.arraySync() as number[][]), `equal rows, α=${alpha}`).toBe(0);
      tf.dispose([equal, g]);
    }
  });

  it("renyiEntropy's gradient matches central differences; rank > 2 layers are flattened per row", () => {
    const z = randomRows(8, 4, 51);
    const f = (x: number[][]) => entropyOfValues(jacobiEigen(gram(x, 1.1).map((r) => r.map((v) => v / 8))).values, 1.01);
    const want = centralDifferences(f, z);
    const got = tf.tidy(
      () =>
        tf
          .grad((x: tf.Tensor) => renyiEntropy(x, { width: 1.1 }))(tf.tensor2d(z))
          .arraySync() as number[][],
    );
    expect(maxAbsDiff(got, want) / maxAbs(want)).toBeLessThan(1e-5);
    const four = tf.tensor4d(z.flat(), [8, 2, 2, 1]);
    expect(renyiEntropy(four, { width: 1.1 }).dataSync()[0]).toBeCloseTo(f(z), 5);
    four.dispose();
  });

  it('computes the gradient in the forward pass under a tape, or again in the backward pass, with the same result', () => {
    const z = tf.tensor2d(randomRows(12, 3, 61));
    const ids = Array.from({ length: 12 }, (_, i) => i % 3);
    const f = (x: tf.Tensor) => renyiMutualInformation(ids, x, { width: 0.8 }).mul(3);
    const inForward = tf.grad(f)(z);
    // dy = 3 scales the gradient: 3× that of I alone.
    const unscaled = tf.grad((x: tf.Tensor) => renyiMutualInformation(ids, x, { width: 0.8 }))(z);
    const ratio = Array.from(inForward.dataSync()).map((v, i) => v / unscaled.dataSync()[i]);
    expect(ratio.every((r) => Math.abs(r - 3) < 1e-6)).toBe(true);
    unscaled.dispose();
    // Under a tape, one native call gives value and gradient; without, the backward pass calls again.
    const addon = native();
    const original = addon.renyiInformation;
    let calls = 0;
    addon.renyiInformation = (args) => {
      calls++;
      return original.call(addon, args);
    };
    try {
      tf.grad(f)(z).dispose();
      expect(calls).toBe(1);
      calls = 0;
      kernelOptions.gradientInForward = false;
      const separate = tf.grad(f)(z);
      expect(calls).toBe(2);
      expect(Array.from(separate.dataSync())).toEqual(Array.from(inForward.dataSync()));
      separate.dispose();
    } finally {
      kernelOptions.gradientInForward = true;
      addon.renyiInformation = original;
    }
    tf.dispose([z, inForward]);
  });

  it('leaves no tensors or backend memory behind, also when it throws', () => {
    const z = tf.tensor2d(randomRows(10, 3, 71));
    const ids = Array.from({ length: 10 }, (_, i) => i % 2);
    const rank3 = z.reshape([10, 3, 1]);
    const oneHot = tf.oneHot(ids, 2);
    const nans = rank3.mul(NaN);
    const before = backendCounts();
    // Outside any tidy (a tidy would dispose what the op leaks and hide it): a layer of rank 3
    // is flattened by the op, and that copy must go too; errors leave nothing either.
    renyiInformation(ids, rank3, { width: 1 });
    thrownBy(() => renyiInformation([0, 1], rank3, { width: 1 }));
    tf.grad((x: tf.Tensor) => renyiMutualInformation(ids, x, { width: 1 }))(z).dispose();
    renyiMutualInformation(ids, z, { width: 1 }).dispose();
    renyiInformation(oneHot, rank3);
    thrownBy(() => renyiMutualInformation([0, 1], z, { width: 1 }));
    thrownBy(() => renyiMutualInformation(ids, rank3, { width: -1 }));
    thrownBy(() => renyiMutualInformation(ids, nans, { width: 1 }));
    expect(backendCounts()).toEqual(before);
    tf.dispose([z, rank3, oneHot, nans]);
  });
});

describe("the raw addon's information functions reject bad arguments (never crash)", () => {
  const layer = Float32Array.from(P.flat());
  const labels = Int32Array.from(Y);
  const ok = { labels, classes: 3, layer, rows: 6, dims: 3, alpha: 1.01, width: 0.5 };
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['no argument', () => (native().renyiInformation as (a?: unknown) => unknown)(), /must be an object of named arguments/],
    ['a missing field', () => native().renyiInformation({ ...ok, width: undefined } as never), /width must be a number/],
    ['an unknown field', () => native().renyiInformation({ ...ok, sigma: 1 } as never), /unknown argument 'sigma'/],
    [
      'a layer of the wrong length',
      () => native().renyiInformation({ ...ok, layer: new Float32Array(5) }),
      /layer has 5 elements, expected 18/,
    ],
    [
      'a Float64Array layer',
      () => native().renyiInformation({ ...ok, layer: new Float64Array(18) as never }),
      /layer must be a Float32Array/,
    ],
    [
      'Float32Array labels',
      () => native().renyiInformation({ ...ok, labels: new Float32Array(6) as never }),
      /labels must be a Int32Array/,
    ],
    ['a label >= classes', () => native().renyiInformation({ ...ok, labels: Int32Array.from([0, 1, 1, 2, 0, 3]) }), /label 3 at row 5/],
    [
      'a grad of the wrong length',
      () => native().renyiInformation({ ...ok, grad: new Float32Array(3) }),
      /grad has 3 elements, expected 18/,
    ],
    ['rows × dims overflowing', () => native().renyiEntropy({ ...ok, rows: 8192, dims: 2 ** 52 }), /overflows|layer has/],
    ['too many rows', () => native().renyiEntropy({ ...ok, rows: 9000, dims: 1 }), /at most 8192 rows/],
    [
      'widths not a Float64Array',
      () => native().kernelAlignment({ labels, classes: 3, layer, rows: 6, dims: 3, widths: [1] as never, out: new Float64Array(1) }),
      /widths must be a Float64Array/,
    ],
    [
      'a width of 0',
      () =>
        native().kernelAlignment({ labels, classes: 3, layer, rows: 6, dims: 3, widths: new Float64Array(1), out: new Float64Array(1) }),
      /widths\[0\] must be finite and > 0/,
    ],
    [
      'out too short',
      () =>
        native().kernelAlignment({
          labels,
          classes: 3,
          layer,
          rows: 6,
          dims: 3,
          widths: new Float64Array([1, 2]),
          out: new Float64Array(1),
        }),
      /out has 1 elements, expected 2/,
    ],
    [
      'a non-finite matrix',
      () => native().symmetricEigen({ matrix: new Float64Array([1, NaN, NaN, 1]), n: 2, values: new Float64Array(2) }),
      /non-finite entry/,
    ],
    [
      'values too short',
      () => native().symmetricEigen({ matrix: new Float64Array(4), n: 2, values: new Float64Array(1) }),
      /values has 1 elements, expected 2/,
    ],
  ];
  for (const [what, call, pattern] of cases) {
    it(what, () => {
      const e = thrownBy(call);
      expect(e.message).toMatch(/^mixloss: /);
      expect(e.message).toMatch(pattern);
    });
  }
  it('still computes after them', () => {
    expect(native().renyiInformation(ok).mutualInformation).toBeCloseTo(1.392154430588, 6);
  });
});

describe('the baseline and AVX2 builds', () => {
  it('agree: the baseline (MIXLOSS_INFORMATION_ISA=baseline, in a child process) gives the values and gradients of the build in use', () => {
    const z = randomRows(40, 5, 77);
    const ids = Array.from({ length: 40 }, (_, i) => i % 4);
    const script = `
      const { native } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'src', 'native.js'))});
      const a = native();
      const grad = new Float32Array(${40 * 5});
      const call = { labels: Int32Array.from(${JSON.stringify(ids)}), classes: 4, layer: Float32Array.from(${JSON.stringify(z.flat())}), rows: 40, dims: 5, width: 1.3 };
      const out = [1.01, 2].map((alpha) => ({ ...a.renyiInformation({ ...call, alpha, grad }), grad: Array.from(grad) }));
      console.log(JSON.stringify({ isa: a.info().informationIsa, out }));`;
    const run = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
        isa: string;
        out: Array<Record<string, number> & { grad: number[] }>;
      };
    };
    const here = run({});
    const baseline = run({ MIXLOSS_INFORMATION_ISA: 'baseline' });
    expect(baseline.isa).toBe('baseline');
    expect(['avx2', 'baseline']).toContain(here.isa);
    here.out.forEach((h, k) => {
      const b = baseline.out[k];
      for (const key of ['labels', 'layer', 'joint', 'mutualInformation']) expect(Math.abs(h[key] - b[key])).toBeLessThan(1e-12);
      expect(Math.max(...h.grad.map((g, i) => Math.abs(g - b.grad[i])))).toBeLessThan(1e-6 * Math.max(...b.grad.map(Math.abs)));
    });
  });
});

describe('the symmetric eigensolver (Eigen)', () => {
  function constructed(values: number[], seed: number): number[][] {
    // Q diag(λ) Qᵀ with Q orthogonal (Gram–Schmidt on random columns).
    const n = values.length;
    const q = randomRows(n, n, seed);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        const dot = q.reduce((s, r) => s + r[j] * r[k], 0);
        q.forEach((r) => {
          r[j] -= dot * r[k];
        });
      }
      const norm = Math.sqrt(q.reduce((s, r) => s + r[j] ** 2, 0));
      q.forEach((r) => {
        r[j] /= norm;
      });
    }
    return q.map((ri) => q.map((rj) => values.reduce((s, l, k) => s + ri[k] * l * rj[k], 0)));
  }

  it('finds known spectra, repeated eigenvalues included, with orthonormal vectors and small residuals', () => {
    const spectra = [
      [1, 2, 3, 4, 5, 6],
      [0.5, 0.5, 0.5, 0.5, 2, 2, 7], // repeated
      [0, 0, 0, 1e-12, 1e-6, 1], // the shape of a confident batch's Gram matrix
      Array.from({ length: 40 }, (_, i) => (i < 30 ? 1 / 40 : (i - 29) / 10)),
    ];
    spectra.forEach((spectrum, s) => {
      const n = spectrum.length;
      const a = constructed(spectrum, 100 + s);
      const values = new Float64Array(n);
      const vectors = new Float64Array(n * n);
      native().symmetricEigen({ matrix: Float64Array.from(a.flat()), n, values, vectors });
      const sorted = spectrum.slice().sort((x, y) => x - y);
      sorted.forEach((l, k) => expect(Math.abs(values[k] - l)).toBeLessThan(1e-13 * Math.max(...spectrum)));
      // The same as the independent Jacobi solver.
      jacobiEigen(a).values.forEach((l, k) => expect(Math.abs(values[k] - l)).toBeLessThan(1e-13 * Math.max(...spectrum)));
      let residual = 0;
      let orthogonality = 0;
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < n; k++) {
          let av = 0;
          let dot = 0;
          for (let j = 0; j < n; j++) {
            av += a[i][j] * vectors[j * n + k];
            dot += vectors[j * n + i] * vectors[j * n + k];
          }
          residual = Math.max(residual, Math.abs(av - values[k] * vectors[i * n + k]));
          orthogonality = Math.max(orthogonality, Math.abs(dot - (i === k ? 1 : 0)));
        }
      }
      expect(residual).toBeLessThan(1e-13 * Math.max(...spectrum));
      expect(orthogonality).toBeLessThan(1e-13);
    });
  });

  it('matches the Jacobi solver on random symmetric matrices', () => {
    for (const n of [2, 5, 33]) {
      const r = randomRows(n, n, n);
      const a = r.map((row, i) => row.map((x, j) => (x + r[j][i]) / 2));
      const values = new Float64Array(n);
      native().symmetricEigen({ matrix: Float64Array.from(a.flat()), n, values });
      jacobiEigen(a).values.forEach((l, k) => expect(Math.abs(values[k] - l)).toBeLessThan(1e-12 * n));
    }
  });
});

describe('kernel widths', () => {
  beforeAll(useTestBackend);

  it("Silverman's rule: √2·σ̂·(4 / ((d + 2) N))^(1 / (d + 4))", () => {
    const z = randomRows(50, 3, 81, 2);
    const cols = [0, 1, 2].map((j) => z.map((r) => r[j]));
    const variance = cols.map((c) => {
      const m = c.reduce((s, x) => s + x, 0) / 50;
      return c.reduce((s, x) => s + (x - m) ** 2, 0) / 49;
    });
    const sigma = Math.sqrt(variance.reduce((s, v) => s + v, 0) / 3);
    expect(silvermanWidth({ layer: Float32Array.from(z.flat()), rows: 50, dims: 3 })).toBeCloseTo(
      Math.SQRT2 * sigma * (4 / (5 * 50)) ** (1 / 7),
      12,
    );
    expect(silvermanWidth({ layer: new Float32Array(12).fill(3), rows: 4, dims: 3 })).toBe(1);
  });

  it('alignment with the labels: the value of its definition, and the best width of the grid', () => {
    const z = randomRows(30, 2, 91, 2);
    const ids = Int32Array.from({ length: 30 }, (_, i) => i % 3);
    // Class-dependent shift: alignment has an interior maximum.
    z.forEach((r, i) => {
      r[0] = Math.fround(r[0] + 3 * ids[i]);
    });
    const data = { layer: Float32Array.from(z.flat()), rows: 30, dims: 2 };
    const grid = alignmentCandidates(data, 40);
    expect(grid[0]).toBe(0.3);
    // The top is 10× the mean pairwise distance, computed here independently.
    let total = 0;
    for (let i = 0; i < 30; i++) for (let j = i + 1; j < 30; j++) total += Math.hypot(z[i][0] - z[j][0], z[i][1] - z[j][1]);
    expect(grid[39]).toBeCloseTo((10 * total) / ((30 * 29) / 2), 9);
    const a = kernelAlignment(ids, 3, data, grid);
    for (const k of [0, 17, 39]) {
      const kz = gram(z, grid[k]);
      let inner = 0;
      let norm = 0;
      let labels = 0;
      kz.forEach((row, i) =>
        row.forEach((x, j) => {
          const same = ids[i] === ids[j] ? 1 : 0;
          inner += x * same;
          norm += x * x;
          labels += same;
        }),
      );
      expect(a[k]).toBeCloseTo(inner / Math.sqrt(norm * labels), 12);
    }
    const best = a.indexOf(Math.max(...a));
    expect(best).toBeGreaterThan(0);
    expect(best).toBeLessThan(39);
  });

  it("WidthSelector('alignment') uses the first batch's best, then the epoch's mean alignment", () => {
    const sel = new WidthSelector('alignment', { candidates: 30 });
    const batch = (seed: number) => {
      const z = randomRows(20, 2, seed, 1);
      const ids = Int32Array.from({ length: 20 }, (_, i) => i % 2);
      z.forEach((r, i) => {
        r[0] = Math.fround(r[0] + 2 * ids[i]);
      });
      return { ids, data: { layer: Float32Array.from(z.flat()), rows: 20, dims: 2 } };
    };
    const b1 = batch(1);
    const b2 = batch(2);
    const grid = alignmentCandidates(b1.data, 30);
    const a1 = kernelAlignment(b1.ids, 2, b1.data, grid);
    const a2 = kernelAlignment(b2.ids, 2, b2.data, grid);
    expect(sel.widthFor(b1.ids, 2, () => b1.data)).toBe(grid[a1.indexOf(Math.max(...a1))]);
    expect(sel.widthFor(b2.ids, 2, () => b2.data)).toBe(grid[a1.indexOf(Math.max(...a1))]); // fixed within the epoch
    sel.endEpoch();
    const mean = a1.map((x, k) => (x + a2[k]) / 2);
    expect(sel.width).toBe(grid[mean.indexOf(Math.max(...mean))]);
    expect(sel.history).toEqual([{ epoch: 0, width: sel.width, alignment: Math.max(...mean) }]);
  });

  it("WidthSelector reselect: 'once' keeps the first epoch's width; 'epoch' moves to the next epoch's best", () => {
    const batch = (seed: number, shift: number) => {
      const z = randomRows(20, 2, seed, 1);
      const ids = Int32Array.from({ length: 20 }, (_, i) => i % 2);
      z.forEach((r, i) => {
        r[0] = Math.fround(r[0] + shift * ids[i]);
      });
      return { ids, data: { layer: Float32Array.from(z.flat()), rows: 20, dims: 2 } };
    };
    const [near, far] = [batch(3, 0.5), batch(4, 8)];
    const once = new WidthSelector('alignment', { candidates: 30, reselect: 'once' });
    const each = new WidthSelector('alignment', { candidates: 30 });
    for (const sel of [once, each]) {
      sel.widthFor(near.ids, 2, () => near.data);
      sel.endEpoch();
    }
    const first = once.width;
    expect(each.width).toBe(first);
    let reads = 0;
    once.widthFor(far.ids, 2, () => {
      reads++;
      return far.data;
    });
    each.widthFor(far.ids, 2, () => far.data);
    once.endEpoch();
    each.endEpoch();
    expect(once.width).toBe(first);
    expect(reads).toBe(0); // frozen: the batch is not even read
    expect(each.width).not.toBe(first); // classes 8 apart align best at another width
  });
});

describe('bad input to the information measures', () => {
  beforeAll(useTestBackend);
  const z = () => tf.tensor2d(P);

  const cases: Array<[string, () => unknown, RegExp]> = [
    ['one row', () => renyiMutualInformation([0], tf.tensor2d([[1, 2]]), { width: 1 }), /at least 2 rows/],
    ['width 0', () => renyiMutualInformation(Y, z(), { width: 0 }), /width must be a finite number > 0/],
    ['width NaN', () => renyiEntropy(z(), { width: NaN }), /width must be a finite number > 0/],
    ['width Infinity', () => renyiEntropy(z(), { width: Infinity }), /width must be a finite number > 0/],
    ['width a string', () => renyiEntropy(z(), { width: 'alignment' as never }), /width must be a finite number > 0 or 'silverman'/],
    ['alpha 0', () => renyiMutualInformation(Y, z(), { alpha: 0 }), /alpha must be a finite number > 0 and not 1/],
    ['alpha 1', () => renyiMutualInformation(Y, z(), { alpha: 1 }), /use 1\.01/],
    ['alpha -2', () => renyiEntropy(z(), { alpha: -2 }), /alpha must be/],
    ['label count', () => renyiMutualInformation([0, 1, 0], z(), { width: 1 }), /labels have 3 rows but the layer has 6/],
    ['negative label', () => renyiMutualInformation([0, 1, -1, 0, 1, 0], z(), { width: 1 }), /label -1 at row 2 is not a class id/],
    ['fractional label', () => renyiMutualInformation([0, 1, 0.5, 0, 1, 0], z(), { width: 1 }), /label 0\.5 at row 2/],
    ['soft targets', () => renyiMutualInformation(tf.tensor2d(P), z(), { width: 1 }), /soft targets have no same-class Gram matrix/],
    ['unknown option', () => renyiMutualInformation(Y, z(), { sigma: 1 } as never), /unknown option 'sigma'/],
    ['bool layer', () => renyiEntropy(tf.tensor2d([[true], [false]], [2, 1], 'bool')), /layer must be float32 or int32, got bool/],
    ['a layer that is not a tensor-like', () => renyiEntropy({ rows: 2 } as never), /layer must be a tf.Tensor or a tensor-like/],
    ['labels that are not class ids', () => renyiMutualInformation('0101' as never, z(), { width: 1 }), /labels must be a tf.Tensor/],
    ['rank-1 layer', () => renyiEntropy(tf.tensor1d([1, 2, 3])), /at least one feature/],
    [
      'NaN in the layer',
      () => renyiMutualInformation(Y, tf.tensor2d([[NaN, 0, 0], ...P.slice(1)]), { width: 1 }),
      /renyiMutualInformation: layer has a non-finite value at row 0, column 0/,
    ],
    ['a schedule out of [0, 1]', () => informationLoss({ schedule: () => 2 }), /schedule\(0\) must return a number in \[0, 1\]/],
    ['an unknown training option', () => informationLoss({ widht: 1 } as never), /unknown option 'widht'/],
    [
      'a bad width rule',
      () => informationLoss({ width: 'median' as never }),
      /width must be a finite number > 0, 'silverman' or 'alignment'/,
    ],
    ['a null training option', () => informationLoss({ alpha: null } as never), /informationLoss: alpha is null/],
    [
      'a bad diagnostics width rule',
      () => new InformationDiagnostics(tf.sequential(), tf.zeros([2, 1]), [0, 1], { width: 'median' as never }),
      /InformationDiagnostics: width must be/,
    ],
    [
      'an unknown diagnostics option',
      () => new InformationDiagnostics(tf.sequential(), tf.zeros([2, 1]), [0, 1], { aplha: 2 } as never),
      /unknown option 'aplha'/,
    ],
  ];
  it('takes what tfjs ops take: a layer as nested arrays or int32, labels as a class-id column, a TypedArray or one-hot rows', () => {
    const ints = [
      [1, 0],
      [0, 2],
      [3, 1],
      [1, 1],
    ];
    const ids = [0, 1, 1, 0];
    const want = renyiInformation(ids, tf.tensor2d(ints), { width: 1.5 });
    const forms: Array<[string, unknown, unknown]> = [
      ['nested layer', ids, ints],
      ['int32 layer', ids, tf.tensor2d(ints, [4, 2], 'int32')],
      ['Float32Array rows', ids, ints.map((r) => Float32Array.from(r))],
      ['class-id column', ids.map((y) => [y]), ints],
      ['Uint8Array ids', Uint8Array.from(ids), ints],
      ['Float32Array ids', Float32Array.from(ids), ints],
      ['one-hot rows', ids.map((y) => [y === 0 ? 1 : 0, y === 1 ? 1 : 0]), ints],
    ];
    for (const [name, labels, layer] of forms) {
      const before = tf.memory().numTensors;
      const got = renyiInformation(labels as never, layer as never, { width: 1.5 });
      expect(got.mutualInformation, name).toBe(want.mutualInformation);
      const mi = renyiMutualInformation(labels as never, layer as never, { width: 1.5 });
      const h = renyiEntropy(layer as never, { width: 1.5 });
      expect(mi.dataSync()[0], name).toBeCloseTo(want.mutualInformation, 6);
      expect(h.dataSync()[0], name).toBeCloseTo(want.layer, 6);
      tf.dispose([mi, h]);
      if (layer instanceof tf.Tensor) layer.dispose();
      expect(tf.memory().numTensors, `${name}: nothing left behind`).toBe(before - (layer instanceof tf.Tensor ? 1 : 0));
    }
  });

  for (const [name, fn, message] of cases) {
    it(`rejects ${name}`, () => {
      const e = thrownBy(fn);
      expect(e.message).toMatch(/^mixloss\./);
      expect(e.message).toMatch(message);
    });
  }
});

describe('training with the mutual-information regularizer', () => {
  beforeAll(useTestBackend);

  it('trains a model with model.fit: the factor follows (1 + epoch)^−0.5, widths are chosen per epoch, the loss is f·CE − (1 − f)·I', async () => {
    const r = rng(7);
    const n = 64;
    const ids = Array.from({ length: n }, (_, i) => i % 4);
    const x = tf.tensor2d(ids.map((c) => Array.from({ length: 6 }, (_, j) => (j === c ? 2 : 0) + r() - 0.5)));
    const y = tf.oneHot(ids, 4).toFloat();
    tf.util.seedrandom?.('1');
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const info = informationLoss();
    model.compile({ optimizer: tf.train.adam(0.01), loss: info.loss });
    const diagnostics = new InformationDiagnostics(model, x, ids);
    const h = await model.fit(x, y, { epochs: 4, batchSize: 32, shuffle: false, verbose: 0, callbacks: [info.callback, diagnostics] });
    // The paper's f(epoch) = (1 + epoch)^−0.5, written out: 1, 1/√2, 1/√3, 1/2.
    const factors = info.state.history.map((e) => e.factor);
    expect(factors.length).toBe(4);
    [1, Math.SQRT1_2, 1 / Math.sqrt(3), 0.5].forEach((f, e) => expect(factors[e]).toBeCloseTo(f, 14));
    // f(0) = 1: the first epoch is plain CE and needs no width.
    expect(info.state.widths.map((w) => w.epoch)).toEqual([1, 2, 3]);
    expect(info.state.widths.every((w) => w.width > 0 && (w.alignment as number) > 0)).toBe(true);
    const losses = h.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    // The compiled loss at the final state equals f·CE − (1 − f)·I computed directly.
    const f = info.state.factor;
    const logits = model.predict(x) as tf.Tensor;
    const batch = tf.tidy(() => tf.mean(info.loss(y, logits)).dataSync()[0]);
    const ce = tf.tidy(() => tf.losses.softmaxCrossEntropy(y, logits).dataSync()[0]);
    const mi = renyiInformation(ids, tf.softmax(logits), { width: info.state.width.width as number }).mutualInformation;
    expect(batch).toBeCloseTo(f * ce - (1 - f) * mi, 4);
    // Diagnostics: one record per epoch, the DPI check computed from the two measurements.
    expect(diagnostics.history.map((d) => d.epoch)).toEqual([0, 1, 2, 3]);
    for (const d of diagnostics.history) {
      expect(d.dpiViolated).toBe(d.inputInformation < d.outputInformation);
      expect(d.gradientNorm).toBeGreaterThan(0);
      expect(d.outputInformation).toBeGreaterThan(0);
    }
    // The chart: one SVG with both information curves and the gradient norm.
    const svg = await diagnostics.toSVG();
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of ['I(Y; X)', 'I(Y; Ŷ)', '‖∂I(Y; Ŷ)/∂Ŷ‖', 'gradient norm']) expect(svg).toContain(label);
    tf.dispose([logits]);
    // Another epoch leaves no tensor behind (the optimizer's slots exist since the first).
    const before = backendCounts().tensors;
    await model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0, callbacks: [info.callback] });
    expect(backendCounts().tensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('steps a custom loop with optimizer.minimize and class ids, f = 0 (only −I)', () => {
    const z = tf.variable(tf.tensor2d(randomRows(24, 3, 5)));
    const ids = tf.tensor1d(
      Array.from({ length: 24 }, (_, i) => i % 3),
      'int32',
    );
    const info = informationLoss({ schedule: () => 0, width: 1 });
    const opt = tf.train.sgd(0.5);
    const mi = () => renyiInformation(ids, tf.softmax(z), { width: 1 }).mutualInformation;
    const start = mi();
    for (let step = 0; step < 20; step++) opt.minimize(() => tf.mean(info.loss(ids, z)) as tf.Scalar);
    expect(mi()).toBeGreaterThan(1.5 * start); // −I fell: I(Y; Ŷ) rose
    tf.dispose([z, ids]);
    opt.dispose();
  });
});
