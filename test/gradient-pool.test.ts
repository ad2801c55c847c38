// Issue 15: on the cpu backend the gradient's [B, C] array is reused across steps
// (src/kernels/backends/cpu_pool.ts). What must hold: results unchanged (every entry rewritten:
// returned arrays are poisoned with NaN here), an array never reused while anything can still
// reach it (write-after-dispose checks that read the backend's memory without marking it read
// out), memory bounded over 10^4 steps of mixed shapes, and emptied when idle.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  clearGradientPool,
  configureGradientPool,
  crossEntropy,
  expectationLoss,
  focalLoss,
  gradientPoolStats,
  layersLosses,
  linearCrossEntropy,
  mixedLoss,
  mpceLoss,
} from '../src';
import { LOSSES } from './support/losses';
import { randomLabels, randomLogits, tf, withSeparateBackward } from './support/tf';

const DEFAULTS = { maxBytes: 256 * 2 ** 20, idleMs: 2000, poison: false };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

afterEach(() => {
  configureGradientPool(DEFAULTS);
  clearGradientPool();
});

/** A tensor's memory as the cpu backend holds it, copied without readSync (which would mark it read out). */
function peek(t: tf.Tensor): Float32Array {
  const values = (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
  return Float32Array.from(values);
}

/**
 * Runs `run` with a fresh array for every gradient, then with reused arrays poisoned with NaN: at
 * least `minReused` arrays are reused, and every gradient is the same bits both times.
 */
function expectSameWithReuse(run: () => number[][], minReused: number): void {
  configureGradientPool({ maxBytes: 0 });
  const fresh = run();
  configureGradientPool({ maxBytes: DEFAULTS.maxBytes, poison: true });
  const before = gradientPoolStats().reused;
  const reused = run();
  expect(gradientPoolStats().reused - before).toBeGreaterThan(minReused);
  expect(reused.length).toBe(fresh.length);
  for (let i = 0; i < fresh.length; i++) {
    expect(reused[i].some(Number.isNaN)).toBe(false);
    expect(reused[i]).toEqual(fresh[i]);
  }
}

function logitsAt(step: number, rows: number, classes: number) {
  return tf.tensor2d(randomLogits(rows, classes, 100 + step), [rows, classes]);
}

describe('gradient memory reuse on the cpu backend', () => {
  it('a training loop allocates its gradient once and reuses it', () => {
    const y = tf.tensor1d(randomLabels(16, 500, 1), 'int32');
    const grad = tf.grad((q: tf.Tensor) => crossEntropy(q, y));
    const before = gradientPoolStats();
    for (let step = 0; step < 20; step++) {
      const q = logitsAt(step, 16, 500);
      grad(q).dispose();
      q.dispose();
    }
    const after = gradientPoolStats();
    expect(after.allocated - before.allocated).toBe(1);
    expect(after.reused - before.reused).toBe(19);
    expect(after.freeArrays).toBe(1);
    expect(after.freeBytes).toBe(16 * 500 * 4);
    y.dispose();
  });

  // Every kind, options and label forms, shapes that split rows across tasks, both gradient
  // paths: the same bits with reused (poisoned) arrays as with fresh ones.
  it('results are the same bits with reused, NaN-poisoned arrays as with fresh ones', () => {
    const shapes: Array<[number, number]> = [
      [7, 13],
      [3, 70_000],
      [33, 300],
    ];
    const run = () => {
      const out: number[][] = [];
      for (const [rows, classes] of shapes) {
        for (let step = 0; step < 3; step++) {
          const q = logitsAt(step, rows, classes);
          const ids = randomLabels(rows, classes, step);
          ids[0] = -100;
          const y = tf.tensor1d(ids, 'int32');
          const onehot = tf.oneHot(tf.tensor1d(randomLabels(rows, classes, step + 7), 'int32'), classes).toFloat();
          const w = tf.tensor1d(Array.from({ length: rows }, (_, r) => 1 + (r % 3)));
          const cases: Array<() => tf.Tensor> = [
            ...LOSSES.map((l) => () => tf.grad((x: tf.Tensor) => l.op(x, y, { ignoreIndex: -100 }))(q)),
            () => tf.grad((x: tf.Tensor) => mixedLoss(x, onehot, { weights: w }))(q),
            () =>
              tf.grad((x: tf.Tensor) =>
                crossEntropy(x, y, {
                  ignoreIndex: -100,
                  labelSmoothing: 0.1,
                  classWeights: Array.from({ length: classes }, (_, c) => 1 + (c % 2)),
                }),
              )(q),
            () => tf.grad((x: tf.Tensor) => mpceLoss(x, y, { ignoreIndex: -100, reduction: 'sum' }))(q),
            () => withSeparateBackward(() => tf.grad((x: tf.Tensor) => focalLoss(x, y, { ignoreIndex: -100 }))(q)),
          ];
          for (const c of cases) {
            const g = c();
            out.push(Array.from(peek(g)));
            g.dispose();
          }
          tf.dispose([q, y, onehot, w]);
        }
      }
      return out;
    };
    expectSameWithReuse(run, 100);
  });

  // The fused head's gradients come from the same pool: its kernel and bias gradients are written
  // a chunk of classes at a time and must be cleared first, or a reused array's values leak in.
  it("the fused head's gradients are the same bits with reused, NaN-poisoned arrays", () => {
    const [N, D, C] = [9, 6, 1100]; // three chunks of classes
    const run = () => {
      const out: number[][] = [];
      for (let step = 0; step < 3; step++) {
        const [h, w, b] = [
          tf.tensor2d(randomLogits(N, D, step), [N, D]),
          tf.tensor2d(randomLogits(D, C, step + 1), [D, C]),
          tf.tensor1d(randomLogits(1, C, step + 2)),
        ];
        const y = tf.tensor1d(randomLabels(N, C, step), 'int32');
        const grads = tf.grads((hh: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => linearCrossEntropy(hh, ww, y, { bias: bb }))([h, w, b]);
        for (const g of grads) out.push(Array.from(peek(g)));
        tf.dispose([h, w, b, y, ...grads]);
      }
      return out;
    };
    expectSameWithReuse(run, 3);
  });

  describe('never reused while reachable (write after dispose)', () => {
    const y = () => tf.tensor1d(randomLabels(8, 40, 3), 'int32');
    /** Later steps that would take any array the pool got back. */
    const moreSteps = (labels: tf.Tensor) => {
      for (let step = 10; step < 14; step++) {
        const q = logitsAt(step, 8, 40);
        tf.grad((x: tf.Tensor) => expectationLoss(x, labels))(q).dispose();
        q.dispose();
      }
    };

    it('an array read out with dataSync() and kept after dispose stays as it was', () => {
      configureGradientPool({ poison: true });
      const labels = y(),
        q = logitsAt(0, 8, 40);
      const g = tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q);
      const held = g.dataSync(); // the backend's own array
      const copy = Float32Array.from(held);
      const escaped = gradientPoolStats().escaped;
      g.dispose();
      expect(gradientPoolStats().escaped).toBe(escaped + 1);
      moreSteps(labels);
      expect(held).toEqual(copy);
      tf.dispose([labels, q]);
    });

    it("a slice that views the gradient's memory outlives it unchanged", () => {
      configureGradientPool({ poison: true });
      const labels = y(),
        q = logitsAt(0, 8, 40);
      const g = tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q);
      const row = tf.slice(g, [2, 0], [1, 40]); // the cpu backend's simple slice: a subarray of g's memory
      const expected = peek(row);
      g.dispose();
      moreSteps(labels);
      expect(peek(row)).toEqual(expected);
      tf.dispose([labels, q, row]);
    });

    it("a short slice at the gradient's first entries (a view from byte 0) outlives it unchanged", () => {
      configureGradientPool({ poison: true });
      const labels = y(),
        q = logitsAt(0, 8, 40);
      const g = tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q);
      const head = tf.slice(g, [0, 0], [1, 4]); // 16 bytes at the start of g's memory
      const expected = peek(head);
      g.dispose();
      moreSteps(labels);
      expect(peek(head)).toEqual(expected);
      tf.dispose([labels, q, head]);
    });

    it('tf.keep, a reshape, and gradients an optimizer loop holds: unchanged while alive', () => {
      configureGradientPool({ poison: true });
      const labels = y();
      const held: Array<{ t: tf.Tensor; expected: Float32Array }> = [];
      for (let step = 0; step < 4; step++) {
        const q = tf.variable(logitsAt(step, 8, 40));
        const kept = tf.tidy(() => {
          const { grads } = tf.variableGrads(() => mixedLoss(q, labels), [q]);
          return tf.keep(grads[q.name]);
        });
        const reshaped = tf.tidy(() => tf.reshape(tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q), [320]));
        held.push({ t: kept, expected: peek(kept) }, { t: reshaped, expected: peek(reshaped) });
        q.dispose();
      }
      moreSteps(labels);
      for (const { t, expected } of held) expect(peek(t)).toEqual(expected);
      tf.dispose([labels, ...held.map((h) => h.t)]);
    });
  });

  // The pool watches the backend's writes from the first training step on: every tensor the
  // program makes passes that watch, which must not read a small array's buffer (V8 then moves the
  // data out of the array object: ~1 µs a tensor, `mixloss bench small-ops`).
  it("the watch on the backend's writes reads no buffer of an array that is not a gradient's", () => {
    const labels = tf.tensor1d(randomLabels(8, 40, 3), 'int32'),
      q = logitsAt(0, 8, 40);
    tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q).dispose(); // the watch is on
    for (const n of [1, 4, 100]) {
      const values = new Float32Array(n).fill(0.5);
      const real = values.buffer;
      let reads = 0;
      Object.defineProperty(values, 'buffer', {
        get: () => {
          reads++;
          return real;
        },
      });
      const t = tf.tensor1d(values);
      expect(reads).toBe(0);
      expect(Array.from(t.dataSync())).toEqual(Array.from(values));
      t.dispose();
    }
    tf.dispose([labels, q]);
  });

  it("what the backend hands out of a gradient's memory is a plain Float32Array", async () => {
    const labels = tf.tensor1d(randomLabels(8, 40, 3), 'int32'),
      q = logitsAt(0, 8, 40);
    const g = tf.grad((x: tf.Tensor) => crossEntropy(x, labels))(q);
    const row = tf.slice(g, [1, 0], [1, 40]);
    const copy = tf.mul(g, 1);
    for (const values of [g.dataSync(), await g.data(), row.dataSync(), await row.data(), copy.dataSync()]) {
      expect(Object.getPrototypeOf(values)).toBe(Float32Array.prototype);
    }
    expect(g.dataSync()).toEqual(Float32Array.from(g.dataSync()));
    tf.dispose([labels, q, g, row, copy]);
  });

  it('bounded over 10^4 steps of mixed shapes, and emptied when idle', async () => {
    configureGradientPool({ maxBytes: 64 * 1024, idleMs: 100 });
    const shapes: Array<[number, number]> = [
      [4, 10],
      [8, 33],
      [16, 100],
      [3, 1000],
      [2, 3000],
      [20, 1000],
    ]; // the last is over the bound
    const labels = shapes.map(([rows, classes], i) => tf.tensor1d(randomLabels(rows, classes, i), 'int32'));
    const logits = shapes.map(([rows, classes], i) => logitsAt(i, rows, classes));
    const grads = shapes.map((_, i) => tf.grad((x: tf.Tensor) => crossEntropy(x, labels[i])));
    const tensors = tf.memory().numTensors;
    const before = gradientPoolStats();
    let most = 0;
    for (let step = 0; step < 10_000; step++) {
      const i = (step * 7) % shapes.length;
      grads[i](logits[i]).dispose();
      most = Math.max(most, gradientPoolStats().freeBytes);
    }
    const after = gradientPoolStats();
    expect(most).toBeLessThanOrEqual(64 * 1024);
    expect(after.reused - before.reused).toBeGreaterThan(8000); // the five shapes under the bound
    expect(after.dropped - before.dropped).toBeGreaterThan(1600); // 20 × 1000 floats never kept
    expect(tf.memory().numTensors).toBe(tensors);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(gradientPoolStats().freeBytes).toBe(0);
    tf.dispose([...labels, ...logits]);
  }, 120_000);

  it('two models trained in turn with model.fit: the same weights as without reuse', async () => {
    const train = async () => {
      const models = [10, 7].map((classes, k) => {
        const m = tf.sequential({
          layers: [tf.layers.dense({ inputShape: [6], units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: k + 1 }) })],
        });
        m.compile({ optimizer: tf.train.sgd(0.1), loss: layersLosses.crossEntropy() });
        return m;
      });
      const xs = tf.tensor2d(randomLogits(32, 6, 5), [32, 6]);
      const ys = [10, 7].map((classes, k) => tf.oneHot(tf.tensor1d(randomLabels(32, classes, k), 'int32'), classes).toFloat());
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 2; k++) await models[k].fit(xs, ys[k], { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
      }
      const weights = models.map((m) => Array.from(peek(m.getWeights()[0])));
      models.forEach((m) => m.dispose());
      tf.dispose([xs, ...ys]);
      return weights;
    };
    configureGradientPool({ maxBytes: 0 });
    const fresh = await train();
    configureGradientPool({ maxBytes: DEFAULTS.maxBytes, poison: true });
    expect(await train()).toEqual(fresh);
  });
});
