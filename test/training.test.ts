// The ops inside real tfjs training: tf.grad, optimizer.minimize, model.fit on real digits
// with the focus-schedule callback; no tensor leaks.
import { beforeAll, describe, expect, it, vi } from 'vitest';

import { loadDigits, PIXELS } from '../demo/digits';
import {
  crossEntropy,
  focalLoss,
  focusToWeights,
  layersLosses,
  linearCrossEntropy,
  losses,
  mixedLoss,
  mixedLossForLayers,
  MixtureState,
  scheduledMixedLoss,
} from '../src';
import { backendCounts, QUICK, randomLabels, randomLogits, tf, useTestBackend, withSeparateBackward } from './support/tf';

beforeAll(useTestBackend);

function classifier(seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({ inputShape: [PIXELS], units: 64, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
  );
  model.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })); // logits
  return model;
}

function accuracy(model: tf.LayersModel, x: tf.Tensor, y: Int32Array): number {
  const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(1).dataSync());
  return predicted.reduce((n, p, i) => n + (p === y[i] ? 1 : 0), 0) / y.length;
}

describe('custom training loops', () => {
  it('optimizer.minimize trains a softmax regression and leaks no tensors', () => {
    const B = 64,
      D = 20,
      C = 5;
    const x = tf.tensor2d(randomLogits(B, D, 1), [B, D]);
    const trueW = tf.tensor2d(randomLogits(D, C, 2), [D, C]);
    const y = tf.tidy(() => tf.matMul(x, trueW).argMax(1).toInt());
    const w = tf.variable(tf.zeros([D, C]));
    const opt = tf.train.sgd(0.5);
    const losses: number[] = [];
    let tensors = 0;
    for (let step = 0; step < 40; step++) {
      const cost = opt.minimize(() => mixedLoss(tf.matMul(x, w), y, focusToWeights(0.2)), true) as tf.Scalar;
      losses.push(cost.dataSync()[0]);
      cost.dispose();
      if (step === 1) tensors = tf.memory().numTensors;
      if (step > 1) expect(tf.memory().numTensors).toBe(tensors);
    }
    expect(losses[39]).toBeLessThan(losses[0] * 0.5);
    tf.dispose([x, trueW, y, w]);
    opt.dispose();
  });

  it('tf.grad and tf.valueAndGrad leave no tensors behind', () => {
    const logits = tf.tensor2d(randomLogits(8, 30, 3), [8, 30]);
    const y = tf.tensor1d(randomLabels(8, 30, 4), 'int32');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const g = tf.grad((q: tf.Tensor) => crossEntropy(q, y))(logits);
      const vg = tf.valueAndGrad((q: tf.Tensor) => mixedLoss(q, y, { reduction: 'none' }).sum())(logits);
      tf.dispose([g, vg.value, vg.grad]);
      mixedLoss(logits, y).dispose(); // outside a tape: the statistics output is freed too
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients flow through layers below the loss (chain rule with the fused gradient)', () => {
    const x = tf.tensor2d(randomLogits(6, 4, 5), [6, 4]);
    const w = tf.tensor2d(randomLogits(4, 7, 6), [4, 7]);
    const y = tf.tensor1d(randomLabels(6, 7, 7), 'int32');
    const fused = tf
      .grad((v: tf.Tensor) => mixedLoss(tf.tanh(tf.matMul(x, v)), y, { alpha: 1, beta: 2.5 }))(w)
      .dataSync();
    const stock = tf
      .grad((v: tf.Tensor) => {
        const logp = tf.logSoftmax(tf.tanh(tf.matMul(x, v)));
        const oneHot = tf.oneHot(y, 7).toFloat();
        const ce = tf.neg(tf.sum(tf.mul(oneHot, logp), 1));
        const el = tf.sub(1, tf.sum(tf.mul(oneHot, tf.exp(logp)), 1));
        return tf.mean(tf.add(ce, tf.mul(2.5, el)));
      })(w)
      .dataSync();
    fused.forEach((g, i) => expect(g).toBeCloseTo(stock[i], 6));
  });
});

// A gradient of a loss's gradient (double backpropagation, MAML) would differentiate the native
// backward kernel, which has none: an Error that names the op, and the failed attempt leaves no
// tensor behind (tfjs frees its tape's saved tensors only after a backward pass that succeeds).
describe('second-order gradients', () => {
  const B = 4,
    D = 3,
    C = 5;
  const cases: Array<[string, RegExp, (h: tf.Tensor, w: tf.Tensor, y: tf.Tensor) => tf.Tensor]> = [
    ['crossEntropy', /^mixloss\.crossEntropy: no second-order gradient/, (h, w, y) => crossEntropy(tf.matMul(h, w), y)],
    ['focalLoss', /^mixloss\.focalLoss: no second-order gradient/, (h, w, y) => focalLoss(tf.matMul(h, w), y)],
    ['losses.sparseSoftmaxCrossEntropy', /no second-order gradient/, (h, w, y) => losses.sparseSoftmaxCrossEntropy(y, tf.matMul(h, w))],
    ['linearCrossEntropy', /^mixloss\.linearCrossEntropy: no second-order gradient/, (h, w, y) => linearCrossEntropy(h, w, y)],
  ];
  for (const [name, message, loss] of cases) {
    for (const separate of [false, true]) {
      it(`${name}${separate ? ' (the separate backward pass)' : ''}: an Error naming the op, nothing left behind`, () => {
        const h = tf.tensor2d(randomLogits(B, D, 1), [B, D]),
          w = tf.tensor2d(randomLogits(D, C, 2), [D, C]),
          y = tf.tensor1d(randomLabels(B, C, 3), 'int32'),
          m = tf.tensor2d(randomLogits(B, D, 4), [B, D]);
        const inputGradient = (x: tf.Tensor) => tf.grad((z: tf.Tensor) => loss(z, w, y))(x);
        const before = backendCounts();
        const run = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(inputGradient(x), m)))(h);
        expect(() => (separate ? withSeparateBackward(run) : run())).toThrow(message);
        expect(backendCounts()).toEqual(before);
        // The engine goes on: first-order gradients, and second-order ones of stock ops.
        const g = inputGradient(h);
        expect(g.shape).toEqual([B, D]);
        const stock = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grad((z: tf.Tensor) => tf.sum(tf.mul(z, z)))(x), m)))(h);
        expect(Array.from(stock.dataSync())).toEqual(Array.from(tf.tidy(() => tf.mul(m, 2)).dataSync()));
        tf.dispose([h, w, y, m, g, stock]);
      });
    }
  }
});

describe('model.fit on real digits (mnist package)', () => {
  const digits = loadDigits(150, 50);
  const xTrain = tf.tensor2d(digits.xTrain, [digits.nTrain, PIXELS]);
  const yTrainOneHot = tf.oneHot(tf.tensor1d(digits.yTrain, 'int32'), 10).toFloat();
  // With learning rate 0 a few batches say as much as many: the first FEW samples.
  const FEW = 300;
  const xFew = xTrain.slice([0, 0], [FEW, PIXELS]);
  const yFew = yTrainOneHot.slice([0, 0], [FEW, 10]);
  const xTest = tf.tensor2d(digits.xTest, [digits.nTest, PIXELS]);

  it.skipIf(QUICK)('plain compiled mixed loss: the loss falls and the classifier learns', async () => {
    const model = classifier(11);
    model.compile({ optimizer: tf.train.adam(0.003), loss: mixedLossForLayers({ alpha: 1, beta: 1 }) });
    // The first fit creates the optimizer's slots; after it the tensor count must not move.
    const first = await model.fit(xTrain, yTrainOneHot, { epochs: 1, batchSize: 50, verbose: 0, shuffle: false });
    const before = tf.memory().numTensors;
    const rest = await model.fit(xTrain, yTrainOneHot, { epochs: 4, batchSize: 50, verbose: 0, shuffle: false });
    expect(tf.memory().numTensors).toBe(before);
    const loss = [...(first.history.loss as number[]), ...(rest.history.loss as number[])];
    expect(loss[4]).toBeLessThan(loss[0] * 0.5);
    expect(accuracy(model, xTest, digits.yTest)).toBeGreaterThan(0.8);
  });

  // Every kind through tfjs-layers: model.fit passes one-hot targets; fitDataset-style class ids too.
  for (const [name, make] of Object.entries(layersLosses)) {
    it.skipIf(QUICK)(`layersLosses.${name}: named after its op, fits real digits (the loss falls), ids and one-hot agree`, async () => {
      const loss = (make as (o?: object) => (t: tf.Tensor, p: tf.Tensor) => tf.Tensor)();
      expect(loss.name).toBe(name);
      const model = classifier(31);
      model.compile({ optimizer: tf.train.adam(0.01), loss });
      const h = await model.fit(xFew, yFew, { epochs: 3, batchSize: 50, verbose: 0, shuffle: false });
      const values = h.history.loss as number[];
      expect(values[2]).toBeLessThan(values[0]);
      const [a, b] = tf.tidy(() => {
        const logits = model.predict(xFew.slice([0, 0], [20, PIXELS])) as tf.Tensor;
        const oneHot = yFew.slice([0, 0], [20, 10]);
        return [loss(oneHot, logits).dataSync(), loss(tf.argMax(oneHot, -1), logits).dataSync()];
      });
      Array.from(a).forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
    });
  }

  it('layersLosses pass their options and refuse a reduction (tfjs-layers reduces); mixedLossForLayers is named too', () => {
    expect(mixedLossForLayers().name).toBe('mixedLoss');
    expect(scheduledMixedLoss('F=0').loss.name).toBe('mixedLoss');
    const logits = tf.tensor2d([[2, 1, 0.1]]),
      ids = tf.tensor1d([1], 'int32');
    const viaLayers = layersLosses.focalLoss({ gamma: 3, alpha: 0.25 })(ids, logits).dataSync()[0];
    expect(viaLayers).toBeCloseTo(focalLoss(logits, ids, { gamma: 3, alpha: 0.25 }).dataSync()[0], 6);
    expect(() => layersLosses.crossEntropy({ reduction: 'sum' } as never)).toThrow(
      /mixloss\.layersLosses\.crossEntropy: tfjs-layers reduces/,
    );
    tf.dispose([logits, ids]);
  });

  /** The mixed loss of the model as it is now, on the first n samples, with these weights. */
  const lossNow = (model: tf.LayersModel, w: { alpha: number; beta: number }, from = 0, n = digits.nTrain) =>
    tf.tidy(() => {
      const x = xTrain.slice([from, 0], [n, PIXELS]);
      const y = tf.tensor1d(digits.yTrain.subarray(from, from + n), 'int32');
      return mixedLoss(model.predict(x) as tf.Tensor, y, w).dataSync()[0];
    });

  it("the 'F=0-0.5' schedule: each epoch trains with its phase's α/β (the loss values say so)", async () => {
    // Learning rate 0: the weights stay put, so each epoch's reported loss is the loss of the
    // same predictions under that epoch's α/β. A loss that kept the α/β it was compiled with
    // would report six equal values.
    const model = classifier(21);
    const mix = scheduledMixedLoss('F=0-0.5');
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    const h = await model.fit(xFew, yFew, { epochs: 6, batchSize: 50, verbose: 0, shuffle: false, callbacks: [mix.callback] });
    const Fs = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
    expect(mix.callback.history.map((r) => [r.epoch, r.F])).toEqual(Fs.map((F, e) => [e, F]));
    const loss = h.history.loss as number[];
    Fs.forEach((F, e) => expect(loss[e]).toBeCloseTo(lossNow(model, focusToWeights(F), 0, FEW), 4));
    expect(new Set(loss.map((l) => l.toFixed(4))).size).toBe(6);
  });

  it('normalizePeak: the compiled loss uses the peak-normalized weights of each phase', async () => {
    const model = classifier(22);
    const mix = scheduledMixedLoss([0, 0.4], { normalizePeak: true });
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    const h = await model.fit(xFew, yFew, { epochs: 2, batchSize: 50, verbose: 0, shuffle: false, callbacks: [mix.callback] });
    const loss = h.history.loss as number[];
    [0, 0.4].forEach((F, e) => expect(loss[e]).toBeCloseTo(lossNow(model, focusToWeights(F, { normalizePeak: true }), 0, FEW), 4));
    expect(loss[1]).not.toBeCloseTo(lossNow(model, focusToWeights(0.4), 0, FEW), 2); // β = 5 un-normalized
  });

  it("boundaries: 'authors' switches 'F=0,0.5' where the authors' code does (epoch 9 of 10), and the loss follows", async () => {
    const model = classifier(23);
    const mix = scheduledMixedLoss('F=0,0.5', { boundaries: 'authors' });
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    const h = await model.fit(xFew, yFew, { epochs: 10, batchSize: 100, verbose: 0, shuffle: false, callbacks: [mix.callback] });
    // Exact fractions would never reach 0.95 in 10 epochs (9/10 = 0.9): F would stay 0.
    expect(mix.callback.history.map((r) => [r.epoch, r.F])).toEqual([
      [0, 0],
      [9, 0.5],
    ]);
    const loss = h.history.loss as number[];
    expect(loss[8]).toBeCloseTo(lossNow(model, { alpha: 1, beta: 1 }, 0, FEW), 4);
    expect(loss[9]).toBeCloseTo(lossNow(model, { alpha: 0, beta: 1 }, 0, FEW), 4);
  });

  it("per-batch scheduling switches 'F=0,0.5' in the last 5% of the batches, and that batch trains on EL", async () => {
    const model = classifier(31);
    const mix = scheduledMixedLoss('F=0,0.5', { per: 'batch' });
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    const batchLoss: number[] = [];
    await model.fit(xTrain, yTrainOneHot, {
      epochs: 2,
      batchSize: 50,
      verbose: 0,
      shuffle: false,
      callbacks: [
        mix.callback,
        new tf.CustomCallback({
          onBatchEnd: async (_b, logs) => {
            batchLoss.push(logs?.loss as number);
          },
        }),
      ],
    });
    // 1500 samples / 50 = 30 batches per epoch, 60 in all: F = 0.5 from step 57 (epoch 1, batch 27).
    expect(mix.callback.history.map((r) => [r.epoch, r.batch, r.F])).toEqual([
      [0, 0, 0],
      [1, 27, 0.5],
    ]);
    expect(batchLoss).toHaveLength(60);
    for (const [step, w] of [
      [0, { alpha: 1, beta: 1 }],
      [56, { alpha: 1, beta: 1 }],
      [57, { alpha: 0, beta: 1 }],
      [59, { alpha: 0, beta: 1 }],
    ] as const) {
      expect(batchLoss[step]).toBeCloseTo(lossNow(model, w, (step % 30) * 50, 50), 4);
    }
  });

  it.skipIf(QUICK)('a schedule that learns: F=0-0.5 with Adam reaches a working classifier', async () => {
    const model = classifier(24);
    const mix = scheduledMixedLoss('F=0-0.5');
    model.compile({ optimizer: tf.train.adam(0.003), loss: mix.loss });
    const h = await model.fit(xTrain, yTrainOneHot, { epochs: 6, batchSize: 50, verbose: 0, shuffle: false, callbacks: [mix.callback] });
    const loss = h.history.loss as number[];
    expect(loss[5]).toBeGreaterThan(0);
    expect(loss[5]).toBeLessThan(1); // pure EL in the last phase: an expected error
    expect(accuracy(model, xTest, digits.yTest)).toBeGreaterThan(0.8);
  });

  it('fitDataset with sparse [B] class ids: the first batch trains on α=1, β=0.5, and the loss falls', async () => {
    const model = classifier(41);
    const loss = mixedLossForLayers({ alpha: 1, beta: 0.5 });
    model.compile({ optimizer: tf.train.adam(0.003), loss });
    const first = lossNow(model, { alpha: 1, beta: 0.5 }, 0, 50); // before any update
    const ds = tf.data
      .zip({
        xs: tf.data.array(
          Array.from({ length: digits.nTrain }, (_, i) => Array.from(digits.xTrain.subarray(i * PIXELS, (i + 1) * PIXELS))),
        ),
        ys: tf.data.array(Array.from(digits.yTrain)),
      })
      .batch(50);
    const batchLoss: number[] = [];
    const h = await model.fitDataset(ds as never, {
      epochs: 3,
      verbose: 0,
      callbacks: [
        new tf.CustomCallback({
          onBatchEnd: async (_b, logs) => {
            batchLoss.push(logs?.loss as number);
          },
        }),
      ],
    });
    expect(batchLoss[0]).toBeCloseTo(first, 4);
    const l = h.history.loss as number[];
    expect(l[2]).toBeLessThan(l[0]);
  });
});

describe('the schedule callback on small models', () => {
  const tiny = () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, kernelInitializer: 'ones' })] });
    const x = tf.tensor2d(randomLogits(12, 4, 5), [12, 4]);
    const ids = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2];
    return { model, x, ids, y: tf.oneHot(tf.tensor1d(ids, 'int32'), 3).toFloat() };
  };

  it("one epoch is enough for the callback; exact boundaries differ from the authors' ('F=0,0.5' over 10 epochs never reaches 0.95)", async () => {
    const { model, x, y } = tiny();
    const one = scheduledMixedLoss('F=0-0.5');
    model.compile({ optimizer: tf.train.sgd(0), loss: one.loss });
    await model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [one.callback] });
    expect(one.callback.history).toStrictEqual([{ epoch: 0, F: 0, alpha: 1, beta: 1 }]);
    const exact = scheduledMixedLoss('F=0,0.5');
    model.compile({ optimizer: tf.train.sgd(0), loss: exact.loss });
    await model.fit(x, y, { epochs: 10, verbose: 0, callbacks: [exact.callback] });
    expect(exact.callback.history.map((r) => [r.epoch, r.F])).toEqual([[0, 0]]);
  });

  it('a scheduled loss trained without its callback warns once, at the end of the first epoch; with it, never', async () => {
    const { model, x, y } = tiny();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const forgotten = scheduledMixedLoss('F=0-0.5');
      model.compile({ optimizer: tf.train.sgd(0), loss: forgotten.loss });
      let epochsEnded = 0;
      const count = new tf.CustomCallback({ onEpochEnd: async () => void epochsEnded++ });
      await model.fit(x, y, { epochs: 3, verbose: 0, batchSize: 4, callbacks: [count] });
      expect(epochsEnded).toBe(3);
      const ours = warn.mock.calls.filter((c) => /scheduledMixedLoss/.test(String(c[0])));
      expect(ours).toHaveLength(1);
      expect(String(ours[0][0])).toMatch(/trained a whole epoch of model\.fit without its callback.*callbacks: \[mix\.callback\]/);
      expect(forgotten.state.F).toBe(0);
      // Once per schedule: a second fit stays quiet.
      await model.fit(x, y, { epochs: 2, verbose: 0, batchSize: 4 });
      expect(warn.mock.calls.filter((c) => /scheduledMixedLoss/.test(String(c[0])))).toHaveLength(1);
      warn.mockClear();
      const used = scheduledMixedLoss('F=0-0.5');
      model.compile({ optimizer: tf.train.sgd(0), loss: used.loss });
      await model.fit(x, y, { epochs: 6, verbose: 0, batchSize: 4, callbacks: [used.callback] });
      expect(warn.mock.calls.filter((c) => /scheduledMixedLoss/.test(String(c[0])))).toHaveLength(0);
      expect(used.state.F).toBe(0.5);
    } finally {
      warn.mockRestore();
      tf.dispose([x, y]);
      model.dispose();
    }
  });

  it("a phase no epoch reaches gets one warning naming per: 'batch'; per: 'batch' reaches it", async () => {
    const { model, x, y } = tiny();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const perEpoch = scheduledMixedLoss('F=0,0.5');
      model.compile({ optimizer: tf.train.sgd(0), loss: perEpoch.loss });
      await model.fit(x, y, { epochs: 12, verbose: 0, callbacks: [perEpoch.callback] });
      await model.fit(x, y, { epochs: 12, verbose: 0, callbacks: [perEpoch.callback] });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/over 12 epochs the schedule never reaches F = 0\.5 .*use per: 'batch'/);
      warn.mockClear();
      const perBatch = scheduledMixedLoss('F=0,0.5', { per: 'batch' });
      model.compile({ optimizer: tf.train.sgd(0), loss: perBatch.loss });
      await model.fit(x, y, { epochs: 12, batchSize: 2, verbose: 0, callbacks: [perBatch.callback] });
      expect(warn).not.toHaveBeenCalled();
      expect(perBatch.callback.history.at(-1)?.F).toBe(0.5);
      const sixPhases = scheduledMixedLoss('F=0-0.5');
      model.compile({ optimizer: tf.train.sgd(0), loss: sixPhases.loss });
      await model.fit(x, y, { epochs: 6, verbose: 0, callbacks: [sixPhases.callback] });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('a second fit starts the schedule over and records it again', async () => {
    const { model, x, y } = tiny();
    const mix = scheduledMixedLoss('F=0');
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [mix.callback] });
    await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [mix.callback] });
    expect(mix.callback.history.map((r) => [r.epoch, r.F, r.alpha, r.beta])).toEqual([
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    expect(mix.state.F).toBe(0);
  });

  it("per: 'batch' with fitDataset takes the epoch's batches from batchesPerEpoch, and says so when it is missing", async () => {
    const { model, x, ids } = tiny();
    const ds = () =>
      tf.data
        .zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(ids) })
        .batch(3)
        .repeat(); // 4 batches an epoch
    const mix = scheduledMixedLoss('F=0,0.5', { per: 'batch' });
    model.compile({ optimizer: tf.train.sgd(0), loss: mix.loss });
    await model.fitDataset(ds() as never, { epochs: 5, batchesPerEpoch: 4, verbose: 0, callbacks: [mix.callback] });
    // 20 steps: F = 0.5 from step 19 (epoch 4, batch 3).
    expect(mix.callback.history.map((r) => [r.epoch, r.batch, r.F])).toEqual([
      [0, 0, 0],
      [4, 3, 0.5],
    ]);
    const again = scheduledMixedLoss('F=0,0.5', { per: 'batch' });
    model.compile({ optimizer: tf.train.sgd(0), loss: again.loss });
    await expect(model.fitDataset(ds() as never, { epochs: 1, verbose: 0, callbacks: [again.callback] })).rejects.toThrow(
      /per: 'batch' needs the number of batches per epoch \(fitDataset: pass batchesPerEpoch\)/,
    );
  });

  it("a MixtureState shared by two losses: both read the schedule's α/β, and set() records F", () => {
    const state = new MixtureState(1, 1);
    const a = mixedLossForLayers(state),
      b = mixedLossForLayers(state);
    expect(a.state).toBe(state);
    state.set({ ...focusToWeights(0.3), F: 0.3 });
    expect(state.F).toBe(0.3);
    const yTrue = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 3).toFloat();
    const yPred = tf.tensor2d([
      [0.5, -1, 2],
      [1, 0, 0],
    ]);
    const expected = mixedLoss(yPred, [1, 0], { alpha: 1, beta: 2.5, reduction: 'none' }).dataSync();
    for (const loss of [a, b])
      loss(yTrue, yPred)
        .dataSync()
        .forEach((v, r) => expect(v).toBeCloseTo(expected[r], 5));
  });
});

describe('callback arrays', () => {
  it('a plain-object callback after the schedule callback gets an Error that says what to do', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    const mix = scheduledMixedLoss('F=0-0.5');
    model.compile({ optimizer: 'sgd', loss: mix.loss });
    const x = tf.zeros([6, 4]),
      y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3).toFloat();
    await expect(
      model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [{ onEpochEnd: async () => undefined }, mix.callback] as never }),
    ).rejects.toThrow(/wrap plain objects in new tf.CustomCallback/);
  });
});
