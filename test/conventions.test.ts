// The conventions of the peers, as their users write them: real-valued targets (PyTorch),
// tensor-likes and unbatched rows (tfjs, PyTorch, optax), a class axis other than the last
// (PyTorch's [N, C, d1, ...]), a per-logit mask (optax's `where`), and one rule for [B, 1] labels.
// Each against a float64 reference, stock tfjs autodiff or central differences.
import { beforeAll, describe, expect, it } from 'vitest';

import {
  crossEntropy,
  expectationLoss,
  focalLoss,
  layersLosses,
  linearCrossEntropy,
  losses,
  maeLoss,
  mixedLoss,
  mpceLoss,
  polyLoss,
} from '../src';
import { LOSSES } from './support/losses';
import {
  centralDifference,
  gradientError,
  maxRelError,
  referenceMixedDense,
  referenceRow,
  rowLosses,
  softmax64,
} from './support/reference';
import { backendCounts, randomLabels, randomLogits, rng, tf, thrownBy, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

/** Value and gradient of a scalar loss of the logits, read back. */
function valueAndGrad(f: (q: tf.Tensor) => tf.Tensor, q: tf.Tensor): { value: number[]; grad: Float32Array; gradShape: number[] } {
  const { value, grad } = tf.valueAndGrad(f)(q);
  const out = { value: Array.from(value.dataSync()), grad: grad.dataSync() as Float32Array, gradShape: grad.shape };
  tf.dispose([value, grad]);
  return out;
}

describe('real-valued targets: checkTargets: false (PyTorch takes any real t)', () => {
  const B = 5,
    C = 7;
  const logits = randomLogits(B, C, 71);
  const r = rng(72);
  // randn-like targets, and log-softmax targets (both from PyTorch's own tests): neither is a distribution.
  const randn = Float32Array.from({ length: B * C }, () => (r() + r() + r() - 1.5) * 1.4);
  const logSoftmax = (() => {
    const t = new Float32Array(B * C);
    for (let i = 0; i < B; i++) t.set(softmax64(randomLogits(1, C, 73 + i)).logp, i * C);
    return t;
  })();
  for (const [name, t] of [
    ['randn targets', randn],
    ['log-softmax targets', logSoftmax],
  ] as Array<[string, Float32Array]>) {
    for (const [alpha, beta, opName, op] of [
      [1, 0, 'crossEntropy', crossEntropy],
      [1, 2.5, 'mixedLoss α=1 β=2.5', (x: tf.Tensor, y: tf.Tensor, o: object) => mixedLoss(x, y, { ...o, alpha: 1, beta: 2.5 })],
      [0, 2, 'maeLoss', maeLoss],
    ] as Array<[number, number, string, (x: tf.Tensor, y: tf.Tensor, o: object) => tf.Tensor]>) {
      it(`${opName}, ${name}: −Σ t_j log p_j (the kind's linear form) and its gradient against float64`, () => {
        const targets = tf.tensor2d(t, [B, C]);
        const q = tf.tensor2d(logits, [B, C]);
        // The default check rejects them, with and without class weights.
        expect(thrownBy(() => op(q, targets, {})).message).toMatch(/so the labels are not targets.*checkTargets: false/);
        expect(thrownBy(() => op(q, targets, { classWeights: Array(C).fill(1) })).message).toMatch(/so the labels are not targets/);
        const got = valueAndGrad((x) => op(x, targets, { checkTargets: false, reduction: 'sum' }), q);
        let want = 0;
        const wantGrad = new Float64Array(B * C),
          magnitude = new Float64Array(B * C);
        for (let i = 0; i < B; i++) {
          const ref = referenceMixedDense(logits.subarray(i * C, (i + 1) * C), t.subarray(i * C, (i + 1) * C), alpha, beta);
          want += ref.value;
          wantGrad.set(ref.grad, i * C);
          magnitude.set(ref.magnitude, i * C);
        }
        expect(maxRelError(got.value, [want])).toBeLessThan(2e-6);
        expect(gradientError(got.grad, wantGrad, B, C, magnitude)).toBeLessThan(1e-5);
        // Class weights: Σ_j w_j t_j ℓ_j, the same rule (PyTorch's weight with probability targets).
        const w = Array.from({ length: C }, (_, j) => 0.5 + (j % 3) * 0.75);
        const weighted = valueAndGrad((x) => op(x, targets, { checkTargets: false, classWeights: w, reduction: 'sum' }), q);
        let wantW = 0;
        for (let i = 0; i < B; i++) {
          const tw = Float64Array.from({ length: C }, (_, j) => t[i * C + j] * w[j]);
          wantW += referenceMixedDense(logits.subarray(i * C, (i + 1) * C), tw, alpha, beta).value;
        }
        expect(maxRelError(weighted.value, [wantW])).toBeLessThan(2e-6);
        tf.dispose([targets, q]);
      });
    }
  }
  it('checkTargets is a boolean, and for ops that take targets only', () => {
    const q = tf.tensor2d(logits, [B, C]);
    expect(thrownBy(() => crossEntropy(q, [0, 1, 2, 3, 4], { checkTargets: 'no' as never })).message).toMatch(
      /checkTargets must be true or false, got "no" \(a string\)/,
    );
    expect(thrownBy(() => mpceLoss(q, [0, 1, 2, 3, 4], { checkTargets: false })).message).toMatch(
      /mixloss\.mpceLoss: checkTargets is for dense targets; mpceLoss takes class ids only/,
    );
    q.dispose();
  });
});

describe('tensor-likes and unbatched rows, as tfjs ops take them', () => {
  const q2 = [
    [2, 1, 0.1],
    [0.5, -1, 3],
  ];
  const want = [referenceRow(rowLosses.mixed(1, 0), q2[0], 0).value, referenceRow(rowLosses.mixed(1, 0), q2[1], 2).value];
  it('logits and labels as nested arrays, TypedArrays and numbers give the tensors’ result', () => {
    const cases: Array<[string, () => tf.Tensor]> = [
      ['nested arrays', () => crossEntropy(q2, [0, 2], { reduction: 'none' })],
      ['a class-id column [[0], [2]]', () => crossEntropy(q2, [[0], [2]], { reduction: 'none' })],
      ['an Int32Array of ids', () => crossEntropy(q2, Int32Array.from([0, 2]), { reduction: 'none' })],
      ['a Uint8Array of ids', () => crossEntropy(q2, Uint8Array.from([0, 2]), { reduction: 'none' })],
      [
        'one-hot targets as nested arrays',
        () =>
          crossEntropy(
            q2,
            [
              [1, 0, 0],
              [0, 0, 1],
            ],
            { reduction: 'none' },
          ),
      ],
      ['sample weights as a Float64Array', () => crossEntropy(q2, [0, 2], { reduction: 'none', weights: Float64Array.from([1, 1]) })],
      [
        'class weights as a Float64Array',
        () => crossEntropy(q2, [0, 2], { reduction: 'none', classWeights: Float64Array.from([1, 1, 1]) }),
      ],
    ];
    for (const [name, call] of cases) {
      const before = backendCounts();
      const got = call();
      expect(got.shape, name).toEqual([2]);
      expect(maxRelError(got.dataSync(), want), name).toBeLessThan(2e-6);
      got.dispose();
      expect(backendCounts(), `${name}: nothing left behind`).toEqual(before);
    }
  });

  it('int32 logits are taken as tf.losses takes them (their values as float32), by every op, the drop-in and the head', () => {
    const ints = [
      [2, 1, 0],
      [0, -1, 3],
    ];
    const qi = tf.tensor2d(ints, [2, 3], 'int32');
    const qf = tf.tensor2d(ints, [2, 3], 'float32');
    const ids = [0, 2];
    for (const loss of LOSSES) {
      const before = backendCounts();
      const got = loss.op(qi, ids, { reduction: 'none' });
      const want = loss.op(qf, ids, { reduction: 'none' });
      expect(got.dtype, loss.name).toBe('float32');
      expect(Array.from(got.dataSync()), loss.name).toEqual(Array.from(want.dataSync()));
      tf.dispose([got, want]);
      expect(backendCounts(), `${loss.name}: nothing left behind`).toEqual(before);
    }
    // tf.losses.softmaxCrossEntropy takes int32 logits; the drop-in gives its value.
    const onehot = tf.oneHot(ids, 3);
    const stock = tf.losses.softmaxCrossEntropy(onehot, qi);
    const dropIn = losses.softmaxCrossEntropy(onehot, qi);
    expect(maxRelError(dropIn.dataSync(), stock.dataSync())).toBeLessThan(2e-6);
    // The head: an int32 hidden, kernel and bias, as tf.matMul takes them.
    const h = tf.tensor2d([1, -2, 0, 3], [2, 2], 'int32');
    const w = tf.tensor2d([1, 0, -1, 2, 1, 0], [2, 3], 'int32');
    const b = tf.tensor1d([0, 1, -1], 'int32');
    const head = linearCrossEntropy(h, w, ids, { bias: b, reduction: 'none' });
    const f32 = (t: tf.Tensor) => tf.cast(t, 'float32');
    const unfused = tf.tidy(() => crossEntropy(tf.add(tf.matMul(f32(h), f32(w)), f32(b)), ids, { reduction: 'none' }));
    expect(maxRelError(head.dataSync(), unfused.dataSync())).toBeLessThan(2e-6);
    tf.dispose([qi, qf, onehot, stock, dropIn, h, w, b, head, unfused]);
  });

  it('1-D logits [C] with a scalar class id are one row: a scalar loss, a gradient of shape [C]', () => {
    for (const label of [0, tf.scalar(0, 'int32'), [0], tf.tensor1d([1, 0, 0])] as const) {
      const q = tf.tensor1d(q2[0]);
      const none = crossEntropy(q, label as never, { reduction: 'none' });
      expect(none.shape).toEqual([]);
      expect(maxRelError(none.dataSync(), [want[0]])).toBeLessThan(2e-6);
      const got = valueAndGrad((x) => crossEntropy(x, label as never), q);
      expect(got.gradShape).toEqual([3]);
      const ref = referenceRow(rowLosses.mixed(1, 0), q2[0], 0);
      expect(gradientError(got.grad, ref.grad, 1, 3)).toBeLessThan(1e-5);
      tf.dispose([q, none]);
      if (label instanceof tf.Tensor) label.dispose();
    }
    // As a plain array too (optax's and PyTorch's unbatched input).
    const v = focalLoss(q2[1], 2, { gamma: 2 });
    expect(maxRelError(v.dataSync(), [referenceRow(rowLosses.focal(2), q2[1], 2).value])).toBeLessThan(2e-6);
    v.dispose();
  });

  it("swapped arguments (tf.losses' order) with class ids get the argument-order hint", () => {
    const logits = tf.tensor2d(q2);
    const hint =
      /\(mixloss's ops take \(logits, labels\); tf\.losses and mixloss\.losses take \(labels, logits\): check the argument order\)$/;
    const intIds = tf.tensor1d([0, 2], 'int32');
    // int32 logits are taken (tf.losses' rule): the [B, C] float labels then give the shape error.
    expect(thrownBy(() => crossEntropy(intIds, logits)).message).toMatch(/labels must be class ids \[\] \(a scalar\) or \[1\]/);
    expect(thrownBy(() => crossEntropy(intIds, logits)).message).toMatch(hint);
    const floatIds = tf.tensor1d([0, 2]);
    expect(thrownBy(() => crossEntropy(floatIds, logits)).message).toMatch(hint);
    // Not for an error that has nothing to do with the order.
    expect(thrownBy(() => crossEntropy(logits, [0, 3])).message).not.toMatch(hint);
    tf.dispose([logits, intIds, floatIds]);
  });

  it('a nested class id that is not an integer, or out of range, is an Error naming it', () => {
    expect(thrownBy(() => crossEntropy(q2, [[0], [1.5]])).message).toMatch(
      /label 1\.5 at row 1 is not a class id: class ids must be integers/,
    );
    expect(thrownBy(() => crossEntropy(q2, [[0], [3]])).message).toMatch(/label 3 at row 1 is not a class id in \[0, 3\)$/);
    expect(thrownBy(() => crossEntropy(q2, [[0], ['1']] as never)).message).toMatch(/label "1" \(string\) at row 1/);
  });
});

describe('a class axis other than the last (axis)', () => {
  const [N, C, D] = [3, 5, 4];
  const data = randomLogits(N * C * D, 1, 91);
  const ids = randomLabels(N * D, C, 92);
  // The same loss on the logits moved by hand ([N, D, C]), in stock tfjs autodiff.
  const moved = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
  for (const [name, op] of [
    ['crossEntropy', crossEntropy],
    ['focalLoss', focalLoss],
    ['polyLoss', polyLoss],
  ] as Array<[string, (x: tf.Tensor, y: tf.Tensor, o?: object) => tf.Tensor]>) {
    it(`${name}: [N, C, d] with axis 1 is the loss of the moved logits, value and gradient; 'none' has the labels' shape`, () => {
      const x = tf.tensor3d(data, [N, C, D]);
      const y = tf.tensor2d(ids, [N, D], 'int32');
      const got = valueAndGrad((q) => op(q, y, { axis: 1 }), x);
      const want = valueAndGrad((q) => op(moved(q), y), x);
      expect(got.gradShape).toEqual([N, C, D]);
      expect(maxRelError(got.value, want.value)).toBeLessThan(1e-6);
      expect(maxRelError(got.grad, want.grad, 1e-7)).toBeLessThan(1e-5);
      const rows = op(x, y, { axis: 1, reduction: 'none' });
      expect(rows.shape).toEqual([N, D]);
      const axisNeg = op(x, y, { axis: -2, reduction: 'none' });
      expect(Array.from(axisNeg.dataSync())).toEqual(Array.from(rows.dataSync()));
      tf.dispose([x, y, rows, axisNeg]);
    });
  }
  it("several class axes (optax's tuple): their classes flattened in their order, a class id a flat index", () => {
    // [2, 3, 4, 5] with axis (1, 3): 15 classes; optax's own test shapes, and axis (3, 2) reversed.
    const shape = [2, 3, 4, 5];
    const data = randomLogits(120, 1, 95);
    for (const axes of [
      [1, 3],
      [3, 2],
      [-3, -1],
    ]) {
      const norm = axes.map((a) => (a < 0 ? a + 4 : a));
      const rest = [0, 1, 2, 3].filter((i) => !norm.includes(i));
      const classes = norm.reduce((n, i) => n * shape[i], 1);
      const rows = rest.reduce((n, i) => n * shape[i], 1);
      const ids = Array.from(randomLabels(rows, classes, 96));
      const x = tf.tensor(data, shape);
      const y = tf.tensor(
        ids,
        rest.map((i) => shape[i]),
        'int32',
      );
      const got = crossEntropy(x, y, { axis: axes, reduction: 'none' });
      expect(got.shape).toEqual(rest.map((i) => shape[i]));
      const byHand = tf.tidy(() =>
        crossEntropy(tf.reshape(tf.transpose(x, [...rest, ...norm]), [rows, classes]), ids, { reduction: 'none' }).dataSync(),
      );
      expect(maxRelError(got.dataSync(), byHand)).toBeLessThan(1e-6);
      tf.dispose([x, y, got]);
    }
  });

  it('dense targets [N, C, d] move with the logits', () => {
    const x = tf.tensor3d(data, [N, C, D]);
    const t = tf.tidy(() => tf.transpose(tf.softmax(tf.tensor3d(randomLogits(N * C * D, 1, 93), [N, D, C])), [0, 2, 1]));
    const got = valueAndGrad((q) => mixedLoss(q, t, { axis: 1, alpha: 1, beta: 0.5 }), x);
    const want = valueAndGrad((q) => mixedLoss(moved(q), moved(t), { alpha: 1, beta: 0.5 }), x);
    expect(maxRelError(got.value, want.value)).toBeLessThan(1e-6);
    expect(maxRelError(got.grad, want.grad, 1e-7)).toBeLessThan(1e-5);
    tf.dispose([x, t]);
  });

  it('targets checked on the host (class weights, smoothing, focal) are read with the class axis moved, as the kernel reads them', () => {
    const x = tf.tensor3d(data, [N, C, D]);
    const t = tf.tidy(() => tf.transpose(tf.softmax(tf.tensor3d(randomLogits(N * C * D, 1, 95), [N, D, C])), [0, 2, 1]));
    const classWeights = [0.5, 1, 2, 1, 0.25];
    for (const [op, options] of [
      [mixedLoss, { alpha: 1, beta: 0.5, classWeights }],
      [crossEntropy, { labelSmoothing: 0.2 }],
      [focalLoss, { gamma: 2 }],
    ] as Array<[(x: tf.Tensor, y: unknown, o?: object) => tf.Tensor, object]>) {
      const [got, want] = tf.tidy(() => [op(x, t, { ...options, axis: 1 }).dataSync()[0], op(moved(x), moved(t), options).dataSync()[0]]);
      expect(Math.abs(got - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
    }
    // Row (n = 1, d = 2) of the moved targets sums to 2: named by its row in the moved layout.
    const bad = tf.tidy(() =>
      tf.add(
        t,
        tf.mul(
          tf
            .oneHot(tf.tensor1d([1 * D + 2], 'int32'), N * D)
            .reshape([N, D, 1])
            .transpose([0, 2, 1]),
          t,
        ),
      ),
    );
    const before = backendCounts();
    expect(thrownBy(() => mixedLoss(x, bad, { alpha: 1, beta: 0.5, classWeights, axis: 1 })).message).toMatch(/labels row 6 sums to 2/);
    expect(thrownBy(() => crossEntropy(x, bad, { labelSmoothing: 0.2, axis: 1 })).message).toMatch(/labels row 6 sums to 2/);
    expect(backendCounts()).toEqual(before);
    tf.dispose([x, t, bad]);
  });

  it('targets in the moved layout ([N, d, C] for axis 1, flat for a tuple) are an Error, not moved a second time', () => {
    // The targets of `moved(t)` above, given already moved: the op would transpose them again.
    const x = tf.tensor3d(data, [N, C, D]);
    const t = tf.tidy(() => tf.softmax(tf.tensor3d(randomLogits(N * C * D, 1, 94), [N, D, C])));
    const q2 = tf.tensor2d(data.slice(0, N * C), [N, C]);
    const flat = new Float32Array(N * C).fill(1 / (N * C));
    const before = backendCounts();
    for (const [op, options] of [
      [mixedLoss, { axis: 1, alpha: 1, beta: 0.5 }],
      [mixedLoss, { axis: -2, alpha: 1, beta: 0.5, checkTargets: false }],
      [crossEntropy, { axis: 1, labelSmoothing: 0.1 }],
      [focalLoss, { axis: 1 }],
    ] as Array<[(x: tf.Tensor, y: unknown, o?: object) => tf.Tensor, object]>) {
      expect(thrownBy(() => op(x, t, options)).message).toMatch(
        /targets must have the logits' own shape \[3, 5, 4\] .*got \[3, 4, 5\]; class ids have/,
      );
    }
    // One row of N·C classes from a tuple of axes: its targets have the logits' shape too.
    expect(thrownBy(() => crossEntropy(q2, flat, { axis: [0, 1] })).message).toMatch(/targets must have the logits' own shape \[3, 5\]/);
    expect(backendCounts()).toEqual(before);
    const [shaped, whole] = tf.tidy(() => [
      crossEntropy(q2, tf.tensor2d(flat, [N, C]), { axis: [0, 1] }),
      crossEntropy(tf.reshape(q2, [1, N * C]), tf.tensor2d(flat, [1, N * C])),
    ]);
    expect(shaped.dataSync()[0]).toBeCloseTo(whole.dataSync()[0], 5);
    tf.dispose([x, t, q2, shaped, whole]);
  });
});

describe("a per-logit mask (optax's where)", () => {
  const B = 4,
    C = 6;
  const logits = randomLogits(B, C, 101);
  const ids = [1, 0, 5, 2];
  const mask = [
    [true, true, false, true, false, true],
    [true, false, true, true, true, false],
    [false, false, false, false, false, false], // every class masked: the row adds nothing
    [false, true, true, false, true, true],
  ];
  // CE of a row over its unmasked classes only (optax's test: the same as the loss of the subset).
  const subsetCE = (row: number, y: number) => {
    const kept = logits.subarray(row * C, (row + 1) * C).filter((_, j) => mask[row][j]);
    const at = mask[row].slice(0, y).filter(Boolean).length;
    return referenceRow(rowLosses.mixed(1, 0), kept, at).value;
  };
  it('class ids: masked classes leave the softmax; an all-masked row is 0 with a zero gradient and is not counted', () => {
    const q = tf.tensor2d(logits, [B, C]);
    const rows = crossEntropy(q, ids, { where: mask, reduction: 'none' });
    const want = [subsetCE(0, 1), subsetCE(1, 0), 0, subsetCE(3, 2)];
    expect(maxRelError(rows.dataSync(), want)).toBeLessThan(2e-6);
    const mean = valueAndGrad((x) => crossEntropy(x, ids, { where: mask }), q);
    expect(maxRelError(mean.value, [(want[0] + want[1] + want[3]) / 3])).toBeLessThan(2e-6);
    expect(Array.from(mean.grad.subarray(2 * C, 3 * C))).toEqual(Array(C).fill(0));
    for (let j = 0; j < C; j++) if (!mask[0][j]) expect(mean.grad[j]).toBe(0);
    // Central differences of the float64 mean over the rows kept.
    const q64 = Array.from(logits);
    const ref = (flat: number[]) => {
      let s = 0;
      for (const r of [0, 1, 3]) {
        const kept = flat.slice(r * C, (r + 1) * C).filter((_, j) => mask[r][j]);
        s += referenceRow(rowLosses.mixed(1, 0), kept, mask[r].slice(0, ids[r]).filter(Boolean).length).value;
      }
      return s / 3;
    };
    expect(maxRelError(mean.grad, centralDifference(ref, q64, 1e-5), 1e-4)).toBeLessThan(2e-3);
    tf.dispose([q, rows]);
  });
  it('a target class that is masked costs +∞, as a −∞ logit does', () => {
    const q = tf.tensor2d(logits, [B, C]);
    const rows = crossEntropy(q, [2, 0, 5, 2], { where: mask, reduction: 'none' });
    expect(rows.dataSync()[0]).toBe(Infinity);
    tf.dispose([q, rows]);
  });
  it('a mask of the rows’ shape leaves rows out; dense targets under a mask sum over the kept classes', () => {
    const q = tf.tensor2d(logits, [B, C]);
    const rowMask = [true, false, true, true];
    const rows = expectationLoss(q, ids, { where: rowMask, reduction: 'none' });
    const full = expectationLoss(q, ids, { reduction: 'none' }).dataSync();
    expect(Array.from(rows.dataSync())).toEqual([full[0], 0, full[2], full[3]]);
    const t = tf.oneHot(tf.tensor1d(ids, 'int32'), C);
    const dense = crossEntropy(q, t, { where: mask });
    expect(maxRelError(dense.dataSync(), [(subsetCE(0, 1) + subsetCE(1, 0) + subsetCE(3, 2)) / 3])).toBeLessThan(2e-6);
    tf.dispose([q, rows, t, dense]);
  });
  it('soft targets with mass on a masked class: that mass adds nothing (optax), and the caller’s targets are still checked', () => {
    // Rows 0, 1, 3 have classes masked that hold target mass; row 2 has every class masked.
    const targets = Array.from({ length: B }, (_, r) => {
      const row = Array.from({ length: C }, (_, j) => 1 + ((r + j) % 3));
      return row.map((v) => v / row.reduce((a, b) => a + b, 0));
    });
    // −Σ over the kept classes of the (smoothed) target times log p over the kept classes, in float64.
    const want = (eps: number) =>
      targets.map((row, r) => {
        const kept = mask[r].flatMap((k, j) => (k ? [j] : []));
        if (kept.length === 0) return 0;
        const qs = kept.map((j) => logits[r * C + j]);
        const m = Math.max(...qs);
        const lse = m + Math.log(qs.reduce((a, v) => a + Math.exp(v - m), 0));
        return kept.reduce((a, j) => a - (row[j] * (1 - eps) + eps / C) * (logits[r * C + j] - lse), 0);
      });
    const q = tf.tensor2d(logits, [B, C]);
    const t = tf.tensor2d(targets);
    for (const eps of [0, 0.1]) {
      const got = crossEntropy(q, t, { where: mask, reduction: 'none', labelSmoothing: eps });
      expect(maxRelError(got.dataSync(), want(eps))).toBeLessThan(2e-6);
      got.dispose();
    }
    const bad = tf.tensor2d(targets.map((row, r) => row.map((v, j) => (r === 1 && j === 0 ? v + 0.5 : v))));
    expect(thrownBy(() => crossEntropy(q, bad, { where: mask })).message).toMatch(/labels row 1 sums to 1\.5/);
    tf.dispose([q, t, bad]);
  });
  it('MPCE under a mask: its argmax is over the kept classes', () => {
    const q = tf.tensor2d(logits, [B, C]);
    const masked = mpceLoss(q, ids, { where: mask, reduction: 'none' }).dataSync();
    const byHand = tf.tidy(() =>
      mpceLoss(tf.where(tf.tensor2d(mask, [B, C], 'bool'), q, tf.fill([B, C], -Infinity)), [1, 0, 0, 2], { reduction: 'none' }).dataSync(),
    );
    expect(masked[0]).toBeCloseTo(byHand[0], 6);
    expect(masked[2]).toBe(0);
    q.dispose();
  });

  it('a bad class id is an Error in a row the mask leaves out too (as in nested arrays); ignoreIndex is not bad', () => {
    const q = tf.tensor2d(logits, [B, C]);
    for (const labels of [tf.tensor1d([1, 0, -100, 2], 'int32'), [1, 0, -100, 2]]) {
      expect(thrownBy(() => crossEntropy(q, labels, { where: mask })).message).toMatch(
        /label -100 at row 2 is not a class id in \[0, 6\)$/,
      );
      expect(thrownBy(() => mpceLoss(q, labels, { where: [true, true, false, true] })).message).toMatch(/label -100 at row 2/);
      if (labels instanceof tf.Tensor) labels.dispose();
    }
    const [withIgnored, plain] = tf.tidy(() => [
      crossEntropy(q, tf.tensor1d([1, 0, -100, 2], 'int32'), { where: mask, ignoreIndex: -100, reduction: 'none' }).dataSync(),
      crossEntropy(q, ids, { where: mask, reduction: 'none' }).dataSync(),
    ]);
    expect(Array.from(withIgnored)).toEqual(Array.from(plain));
    q.dispose();
  });

  it('a per-row mask has the rows’ rank: one less than the logits’ for one class axis, less for a tuple of them', () => {
    // [B, 2, 3] with axes [1, 2]: B rows of 6 classes, their mask [B] (as [B, 6] logits take it).
    const q3 = tf.tensor3d(logits, [B, 2, 3]);
    const q2 = tf.tensor2d(logits, [B, C]);
    const rowsIn = [true, false, true, true];
    const a = crossEntropy(q3, ids, { axis: [1, 2], where: rowsIn, reduction: 'sum' });
    const b = crossEntropy(q2, ids, { where: rowsIn, reduction: 'sum' });
    expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0], 5);
    const t = tf.tensor2d([[0.2, 0.8, 0, 0, 0, 0]]);
    const one = tf.tensor2d([logits.slice(0, C)]);
    const before = backendCounts();
    expect(thrownBy(() => crossEntropy(q3, ids, { axis: [1, 2], where: [[true], [false], [true], [true]] })).message).toMatch(
      /where must have the logits' rank \(3: a mask per class\) or the rows' \(1: a mask per row\), got shape \[4, 1\]/,
    );
    // One row (every axis a class axis): its mask is a scalar.
    expect(thrownBy(() => crossEntropy(one, t, { axis: [1, 0], where: [true] })).message).toMatch(
      /or the rows' \(0: a mask per row\), got shape \[1\]/,
    );
    expect(backendCounts()).toEqual(before);
    const [kept, dropped, plain] = tf.tidy(() =>
      [crossEntropy(one, t, { axis: [1, 0], where: true }), crossEntropy(one, t, { axis: [1, 0], where: false }), crossEntropy(one, t)].map(
        (x) => x.dataSync()[0],
      ),
    );
    expect(kept).toBeCloseTo(plain, 6);
    expect(dropped).toBeNaN(); // the mean over no row: 0/0, as PyTorch's
    tf.dispose([q3, q2, a, b, t, one]);
  });

  it('dense targets under a mask, with weights that grow the rows’ shape (tf.losses takes them): weighted as tf.losses weights', () => {
    // One row [4] and weights [4]: tf.losses' computeWeightedLoss broadcasts the row's loss.
    const q = new Float32Array([1, 2, 3, 4]);
    const t = [0, 0, 1, 0];
    const w = tf.tensor1d([1, 2, 3, 4]);
    const [masked, byHand, none] = tf.tidy(() => [
      expectationLoss(q, t, { weights: w, where: [true, false, true, true] }).dataSync()[0],
      tf.losses.computeWeightedLoss(expectationLoss(new Float32Array([1, -Infinity, 3, 4]), t), w, tf.Reduction.MEAN).dataSync()[0],
      expectationLoss(q, t, { weights: w, where: [true, false, true, true], reduction: 'none' }).dataSync(),
    ]);
    expect(masked).toBeCloseTo(byHand, 6);
    const row = expectationLoss(new Float32Array([1, -Infinity, 3, 4]), t);
    expect(
      maxRelError(
        none,
        [1, 2, 3, 4].map((k) => k * row.dataSync()[0]),
      ),
    ).toBeLessThan(1e-6);
    tf.dispose([w, row]);
  });
});

describe("focal loss on dense and smoothed targets (keras' CategoricalFocalCrossentropy)", () => {
  const focal64 = (q: ArrayLike<number>, t: ArrayLike<number>, gamma: number, alpha: number) => {
    const { logp, p } = softmax64(q);
    let v = 0;
    for (let j = 0; j < q.length; j++) if (t[j] !== 0) v += -alpha * (1 - p[j]) ** gamma * t[j] * logp[j];
    return v;
  };
  it("keras' own example: 0.23315276 (α = 0.25, γ = 2), a zero probability included", () => {
    const p = [
      [0.05, 0.95, 0],
      [0.1, 0.8, 0.1],
    ];
    const logits = tf.log(tf.tensor2d(p));
    const t = tf.tensor2d([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    const got = valueAndGrad((x) => focalLoss(x, t, { alpha: 0.25, gamma: 2 }), logits);
    expect(got.value[0]).toBeCloseTo(0.23315276, 6);
    expect(Array.from(got.grad).every(Number.isFinite)).toBe(true);
    tf.dispose([logits, t]);
  });
  for (const gamma of [0, 0.5, 2]) {
    it(`soft targets, γ = ${gamma}: value and gradient against float64 and central differences`, () => {
      const B = 4,
        C = 6;
      const q = randomLogits(B, C, 111 + gamma);
      const t = tf.tidy(() => tf.softmax(tf.tensor2d(randomLogits(B, C, 121), [B, C])));
      const tv = t.dataSync();
      const ref = (flat: number[]) => {
        let s = 0;
        for (let i = 0; i < B; i++) s += focal64(flat.slice(i * C, (i + 1) * C), tv.subarray(i * C, (i + 1) * C), gamma, 0.7);
        return s;
      };
      const x = tf.tensor2d(q, [B, C]);
      const got = valueAndGrad((v) => focalLoss(v, t, { gamma, alpha: 0.7, reduction: 'sum' }), x);
      expect(maxRelError(got.value, [ref(Array.from(q))])).toBeLessThan(2e-6);
      expect(maxRelError(got.grad, centralDifference(ref, Array.from(q), 1e-5), 1e-5)).toBeLessThan(1e-3);
      // One-hot targets give focal on class ids (the fused kernel's value).
      const ids = [0, 3, 5, 2];
      const onehot = tf.oneHot(tf.tensor1d(ids, 'int32'), C);
      const dense = focalLoss(x, onehot, { gamma, reduction: 'none' }).dataSync();
      const sparse = focalLoss(x, ids, { gamma, reduction: 'none' }).dataSync();
      expect(maxRelError(dense, sparse)).toBeLessThan(2e-6);
      tf.dispose([x, t, onehot]);
    });
  }
  it('labelSmoothing on class ids is focal on the smoothed one-hot targets; ignoreIndex rows are left out of the mean', () => {
    const B = 3,
      C = 4;
    const q = tf.tensor2d(randomLogits(B, C, 131), [B, C]);
    const eps = 0.2;
    const smoothed = tf.tensor2d([
      [1 - eps + eps / C, eps / C, eps / C, eps / C],
      [eps / C, eps / C, 1 - eps + eps / C, eps / C],
      [1 / C, 1 / C, 1 / C, 1 / C],
    ]);
    const byIds = focalLoss(q, [0, 2, -100], { labelSmoothing: eps, ignoreIndex: -100 }).dataSync()[0];
    const rows = focalLoss(q, smoothed, { reduction: 'none' }).dataSync();
    expect(byIds).toBeCloseTo((rows[0] + rows[1]) / 2, 6);
    tf.dispose([q, smoothed]);
  });
  it('class ids that its dense form reads are checked as the kernels check them: an Error, never a row of zero targets', () => {
    const q = tf.tensor2d(randomLogits(3, 4, 133), [3, 4]);
    const before = backendCounts();
    for (const [labels, shown] of [
      [tf.tensor1d([0, -100, 2], 'int32'), 'label -100 at row 1 is not a class id in \\[0, 4\\)$'],
      [tf.tensor1d([0, 4, 2], 'int32'), 'label 4 at row 1'],
      [tf.tensor1d([0, 1.5, 2], 'float32'), 'label 1.5 at row 1'],
      [new Int32Array([0, 1, 7]), 'label 7 at row 2'],
    ] as Array<[tf.Tensor | Int32Array, string]>) {
      expect(thrownBy(() => focalLoss(q, labels, { labelSmoothing: 0.1 })).message).toMatch(new RegExp(shown));
      if (labels instanceof tf.Tensor) labels.dispose();
    }
    const one = tf.tensor2d([[0.5], [1]]);
    const ones = tf.tensor2d([[1], [1]]);
    // [B, 1] labels at C = 1 are class ids (as every op reads them): 1 is not one.
    expect(thrownBy(() => focalLoss(one, ones, { labelSmoothing: 0.1 })).message).toMatch(/label 1 at row 0 is not a class id in \[0, 1\)/);
    expect(backendCounts().tensors).toBe(before.tensors + 2); // one, ones
    const ignored = tf.tensor1d([0, -100, 2], 'int32');
    const [withIgnored, kept] = tf.tidy(() => [
      focalLoss(q, ignored, { labelSmoothing: 0.1, ignoreIndex: -100, reduction: 'sum' }).dataSync()[0],
      focalLoss(tf.gather(q, [0, 2]), [0, 2], { labelSmoothing: 0.1, reduction: 'sum' }).dataSync()[0],
    ]);
    expect(withIgnored).toBeCloseTo(kept, 5);
    tf.dispose([q, one, ones, ignored]);
  });
  it('one class (C = 1) with labelSmoothing or class weights: p = 1, so 0 and a zero gradient, as keras gives', () => {
    // tf.oneHot refuses a depth of 1; the smoothed targets of one class are all 1.
    const q = tf.tensor2d([[0.3], [-2], [7]]);
    for (const options of [{ labelSmoothing: 0.1 }, { labelSmoothing: 1, gamma: 0 }, { labelSmoothing: 0.2, classWeights: [2] }]) {
      for (const labels of [[0, 0, 0], tf.tensor2d([[0], [0], [0]], [3, 1], 'int32')]) {
        const got = valueAndGrad((x) => focalLoss(x, labels, options), q);
        expect(got.value).toEqual([0]);
        expect(Array.from(got.grad)).toEqual([0, 0, 0]);
      }
    }
    tf.dispose(q);
  });
  it('its gradients with respect to sample weights and soft targets, under every reduction (tfjs cannot differentiate a comparison)', () => {
    // The dense form runs in stock ops, which read which targets are non-zero, how many weights
    // are, and whether a mean's divisor is 0: a comparison on the gradient's path was a tfjs
    // "gradient function not found" Error. Closed forms, float64: ∂/∂t_rc = s_r·f_rc / d with
    // f_rc = −α(1 − p_rc)^γ log p_rc, and ∂/∂s_r = (ℓ_r − [mean] L) / d.
    const [B, C, gamma, alpha] = [4, 3, 2, 0.25];
    const qv = randomLogits(B, C, 91);
    const tv = Array.from({ length: B }, (_, r) => [0.2, 0.8, 0, 0.5, 0.25, 0.25, 0, 0, 1, 0.6, 0.4, 0].slice(r * C, r * C + C)).flat();
    const sv = [0.5, 0, 2, 1.5];
    const f = Array.from({ length: B }, (_, r) => {
      const { logp, p } = softmax64(qv.subarray(r * C, r * C + C));
      return Array.from({ length: C }, (_, j) => -alpha * (1 - p[j]) ** gamma * logp[j]);
    });
    const rowLoss = f.map((row, r) => row.reduce((a, v, j) => a + (tv[r * C + j] === 0 ? 0 : v * tv[r * C + j]), 0));
    const sumS = sv.reduce((a, b) => a + b, 0);
    const nonzero = sv.filter((v) => v !== 0).length;
    const mean = rowLoss.reduce((a, l, r) => a + sv[r] * l, 0) / sumS;
    const q = tf.tensor2d(qv, [B, C]);
    for (const [reduction, d, shift] of [
      ['sum', 1, 0],
      [tf.Reduction.MEAN, sumS, mean],
      ['mean', sumS, mean],
      [tf.Reduction.SUM_BY_NONZERO_WEIGHTS, nonzero, 0],
    ] as const) {
      const [gs, gt] = tf.grads((s: tf.Tensor, t: tf.Tensor) => focalLoss(q, t, { gamma, alpha, weights: s, reduction }))([
        tf.tensor1d(sv),
        tf.tensor2d(tv, [B, C]),
      ]);
      const wantS = rowLoss.map((l) => (l - shift) / d);
      const wantT = tv.map((_, k) => (sv[Math.floor(k / C)] * f[Math.floor(k / C)][k % C]) / d);
      expect(maxRelError(gs.dataSync(), wantS), `${reduction}: weights`).toBeLessThan(1e-5);
      expect(maxRelError(gt.dataSync(), wantT), `${reduction}: targets`).toBeLessThan(1e-5);
      tf.dispose([gs, gt]);
    }
    q.dispose();
  });

  it('layersLosses.focalLoss computes soft targets; the class-id-only losses reject a row that is not one-hot', () => {
    const yPred = tf.tensor2d([
      [1, 2, 0.5],
      [0.3, -1, 2],
    ]);
    const soft = tf.tensor2d([
      [0.4, 0.6, 0],
      [0.5, 0, 0.5],
    ]);
    const got = layersLosses.focalLoss()(soft, yPred).dataSync();
    const want = focalLoss(yPred, soft, { reduction: 'none' }).dataSync();
    expect(Array.from(got)).toEqual(Array.from(want));
    const argmaxed = focalLoss(yPred, [1, 0], { reduction: 'none' }).dataSync();
    expect(got[0]).not.toBeCloseTo(argmaxed[0], 3);
    expect(() => layersLosses.mpceLoss()(soft, yPred)).toThrow(
      /mixloss\.layersLosses\.mpceLoss: yTrue row 0 is not one-hot; mpceLoss takes class ids/,
    );
    const onehot = tf.tensor2d([
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(Array.from(layersLosses.mpceLoss()(onehot, yPred).dataSync())).toEqual(
      Array.from(mpceLoss(yPred, [1, 2], { reduction: 'none' }).dataSync()),
    );
    tf.dispose([yPred, soft, onehot]);
  });
});
