// The drop-in losses.softmaxCrossEntropy on the cases of tfjs-core's own
// softmax_cross_entropy_test.ts (the same inputs, weights, smoothing and reductions, and the
// values that suite expects), each also compared with tf.losses.softmaxCrossEntropy itself.
import { beforeAll, describe, expect, it } from 'vitest';

import { losses } from '../src';
import { gradientError } from './support/reference';
import { backendCounts, tf, useTestBackend } from './support/tf';

const wrong = [
  [0, 0, 1],
  [1, 0, 0],
  [0, 1, 0],
];
const right = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
const logits = [
  [10, -10, -10],
  [-10, 10, -10],
  [-10, -10, 10],
];

describe("drop-in losses.softmaxCrossEntropy on tfjs's own test cases", () => {
  beforeAll(useTestBackend);

  const cases: Array<[string, number[][], () => unknown[], number[], number[]]> = [
    ['all wrong', wrong, () => [], [], [20]],
    ['all right', right, () => [], [], [0]],
    [
      'weights [3, 3], SUM_BY_NONZERO_WEIGHTS',
      wrong,
      () => [
        tf.tensor2d([
          [0.1, 0.2, 0.3],
          [0.1, 0.2, 0.3],
          [0.1, 0.2, 0.3],
        ]),
      ],
      [],
      [4],
    ],
    ['weights [3], NONE', wrong, () => [tf.tensor1d([0.1, 0.2, 0.3]), undefined, tf.Reduction.NONE], [3], [2, 4, 6]],
    ['MEAN', wrong, () => [undefined, undefined, tf.Reduction.MEAN], [], [20]],
    ['weights [3], MEAN', wrong, () => [tf.tensor1d([0.1, 0.2, 0.3]), undefined, tf.Reduction.MEAN], [], [20]],
    ['label smoothing 0.3, weights [1, 3], MEAN', wrong, () => [tf.tensor2d([[0.1, 0.2, 0.3]]), 0.3, tf.Reduction.MEAN], [], [18]],
  ];
  for (const [name, labels, rest, shape, want] of cases) {
    it(`${name}: ${JSON.stringify(want)}, as tf.losses`, () => {
      const args = rest();
      const t = tf.tensor2d(labels),
        q = tf.tensor2d(logits);
      const ours = losses.softmaxCrossEntropy(t, q, ...(args as []));
      const theirs = tf.losses.softmaxCrossEntropy(t, q, ...(args as []));
      expect(ours.shape).toEqual(shape);
      expect(ours.shape).toEqual(theirs.shape);
      Array.from(ours.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(want[i], 4);
        expect(v).toBeCloseTo(theirs.dataSync()[i], 4);
      });
      // The gradient with respect to the logits, as tf.losses' own (tfjs autodiff), entry by entry.
      const [gOurs, gTheirs] = [losses.softmaxCrossEntropy, tf.losses.softmaxCrossEntropy].map((f) =>
        tf.grad((x: tf.Tensor) => tf.sum(f(t, x, ...(args as []))))(q),
      );
      const largest = Math.max(...Array.from(gTheirs.dataSync(), Math.abs));
      if (largest > 1e-6) expect(gradientError(gOurs.dataSync(), gTheirs.dataSync(), 3, 3)).toBeLessThan(1e-4);
      else expect(Math.max(...Array.from(gOurs.dataSync(), Math.abs))).toBeLessThan(1e-6); // all right: saturated, ~0
      tf.dispose([t, q, ours, theirs, gOurs, gTheirs, ...(args.filter((a) => a instanceof tf.Tensor) as tf.Tensor[])]);
    });
  }

  it('accepts tensor-likes as tfjs does, and makes no tensor it does not free', () => {
    const before = backendCounts();
    const y = losses.softmaxCrossEntropy(wrong, logits);
    expect(y.shape).toEqual([]);
    expect(y.dataSync()[0]).toBeCloseTo(20, 4);
    y.dispose();
    const s = losses.sparseSoftmaxCrossEntropy([2, 0, 1], logits, [0.1, 0.2, 0.3], 0, tf.Reduction.NONE);
    expect(Array.from(s.dataSync()).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([2, 4, 6]);
    s.dispose();
    expect(backendCounts()).toEqual(before);
  });

  it('throws on mismatched shapes and on arguments that are not tensors', () => {
    const q = tf.tensor2d([10, 10, 10, 10, 10, 10], [2, 3]),
      t = tf.tensor2d([10, 10, 10, 10, 10, 10, 10, 10, 10], [3, 3]);
    expect(() => losses.softmaxCrossEntropy(t, q)).toThrow(/labels have 3 rows but logits have 2/);
    expect(() => losses.softmaxCrossEntropy({} as tf.Tensor, q)).toThrow(
      /losses\.softmaxCrossEntropy: labels must be a tf\.Tensor or a tensor-like/,
    );
    expect(() => losses.softmaxCrossEntropy(t, {} as tf.Tensor)).toThrow(/logits must be a tf\.Tensor or a tensor-like/);
    expect(() => losses.softmaxCrossEntropy(t, tf.tensor2d(logits), {} as tf.Tensor)).toThrow(
      /weights must be a tf\.Tensor or a tensor-like/,
    );
    expect(() => losses.sparseSoftmaxCrossEntropy([2, 0.5, 1], logits)).toThrow(/label 0\.5 at row 1 is not a class id/);
    tf.dispose([q, t]);
  });

  it('one class: one-hot labels [B, 1] are targets, as tf.losses reads them (every reduction, value and gradient)', () => {
    const before = backendCounts();
    const q = tf.tensor2d([[1.5], [-2]]),
      t = tf.tensor2d([[1], [1]]);
    for (const reduction of [tf.Reduction.NONE, tf.Reduction.MEAN, tf.Reduction.SUM, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]) {
      for (const weights of [undefined, tf.tensor1d([0, 0]), tf.tensor1d([0.5, 2])]) {
        const [ours, theirs] = [losses.softmaxCrossEntropy, tf.losses.softmaxCrossEntropy].map((f) => f(t, q, weights, 0.1, reduction));
        expect(ours.shape).toEqual(theirs.shape);
        // 0 where tf.losses gives 0, NaN where it divides 0 by no non-zero weight.
        expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
        const [gOurs, gTheirs] = [losses.softmaxCrossEntropy, tf.losses.softmaxCrossEntropy].map((f) =>
          tf.grad((x: tf.Tensor) => tf.sum(f(t, x, weights, 0.1, reduction)))(q),
        );
        // Where the mean is 0/0 the drop-in's gradient is 0, not NaN (the README's convention).
        const undefinedMean = Array.from(theirs.dataSync()).some(Number.isNaN);
        expect(Array.from(gOurs.dataSync())).toEqual(undefinedMean ? [0, 0] : Array.from(gTheirs.dataSync()));
        tf.dispose([ours, theirs, gOurs, gTheirs, ...(weights ? [weights] : [])]);
      }
    }
    // The same as nested arrays.
    const y = losses.softmaxCrossEntropy([[1], [1]], [[1.5], [-2]]);
    expect(y.dataSync()[0]).toBe(0);
    tf.dispose([y, q, t]);
    expect(backendCounts()).toEqual(before);
  });

  it('tensor-likes are checked entry by entry, and errors name the drop-in', () => {
    const before = backendCounts();
    const self: unknown[] = [];
    self.push(self);
    // tf.tensor truncated class ids in a nested column (0.5 became 0), and never returned from an array that holds itself.
    expect(() => losses.sparseSoftmaxCrossEntropy([[2], [0.5], [1]], logits)).toThrow(
      /^mixloss\.losses\.sparseSoftmaxCrossEntropy: label 0\.5 at row 1 is not a class id: class ids must be integers$/,
    );
    expect(() => losses.softmaxCrossEntropy(wrong, logits, self as never)).toThrow(
      /^mixloss\.losses\.softmaxCrossEntropy: weights: entry 0 is an array \(object\), not a number$/,
    );
    expect(() => losses.softmaxCrossEntropy(self as never, logits)).toThrow(
      /^mixloss\.losses\.softmaxCrossEntropy: labels\[0\] is an array/,
    );
    expect(() => losses.softmaxCrossEntropy(wrong, logits, [1n, 2n, 3n] as never)).toThrow(
      /^mixloss\.losses\.softmaxCrossEntropy: weights: entry 0 is 1n \(bigint\), not a number$/,
    );
    expect(() => losses.softmaxCrossEntropy(wrong, logits, ['1', '1', '1'] as never)).toThrow(
      /weights: entry 0 is "1" \(string\), not a number$/,
    );
    expect(() => losses.softmaxCrossEntropy(wrong.slice(1), logits)).toThrow(
      /^mixloss\.losses\.softmaxCrossEntropy: labels have 2 rows but logits have 3$/,
    );
    expect(backendCounts()).toEqual(before);
  });
});
