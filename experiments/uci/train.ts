// Trains every model of one data set and architecture at once: each (seed, method, learning
// rate) is one slice of batched weights [M, ...], fed the same mini-batches as the other models
// of its seed. One tfjs step updates all of them, so the per-op cost of tfjs is paid once per
// step rather than once per model; the models stay independent (their losses are summed, and
// each one's gradient only reaches its own slice).
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, expectationLoss, focalLoss } from '../../src';
import { FOCAL, lossWeights, Method } from './methods';
import { generator, hash, shuffle, Split } from './split';

export type Arch = 'linear' | 'mlp';
export const ARCHS: readonly Arch[] = ['linear', 'mlp'];

export interface ModelSpec {
  seed: number;
  method: Method;
  learningRate: number;
}

export interface TrainInput {
  dataset: string;
  arch: Arch;
  features: number;
  classes: number;
  /** Per seed: the standardized features [rows, features], labels, and the split. */
  seeds: Array<{ seed: number; x: Float32Array; y: Int32Array; split: Split }>;
  models: ModelSpec[];
  epochs: number;
  batchSize: number;
  momentum: number;
  /** Called after each epoch with the number done. */
  onEpoch?: (done: number) => void;
}

/** Accuracy per model and epoch (fractions). */
export interface TrainResult {
  validation: number[][];
  test: number[][];
}

export function trainAll(input: TrainInput): TrainResult {
  const { arch, features: I, models, epochs, batchSize } = input;
  const M = models.length;
  const seedOf = models.map((m) => input.seeds.findIndex((s) => s.seed === m.seed));
  const nTrain = input.seeds[0].split.train.length;
  if (input.seeds.some((s) => s.split.train.length !== nTrain)) throw new Error('every seed must have as many training rows');

  const params = initialize(input);
  const variables = params.map((p) => tf.variable(p));
  params.forEach((p) => p.dispose());
  // SGD with momentum, v ← μv + g, θ ← θ − v (the learning rate is inside g, see below); written
  // out rather than tf.train.momentum, which leaves a tensor behind per optimizer.
  const velocity = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  const evaluate = evaluator(input, seedOf);
  const validation: number[][] = models.map(() => []);
  const test: number[][] = models.map(() => []);

  const xb = new Float32Array(M * batchSize * I);
  const yb = new Int32Array(M * batchSize);
  for (let epoch = 0; epoch < epochs; epoch++) {
    // The learning rate is folded into each model's loss weight (plain momentum SGD is linear in it).
    const weights = models.map((m) => lossWeights(m.method, epoch, epochs));
    const orders = input.seeds.map((s) => shuffle(Array.from(s.split.train), generator(hash(`${input.dataset}/${s.seed}/epoch ${epoch}`))));
    const rowWeights = new Map<number, RowWeights>();
    const weightsFor = (b: number) => {
      if (!rowWeights.has(b)) {
        const make = (k: 'ce' | 'el' | 'focal') => {
          if (weights.every((w) => w[k] === 0)) return null;
          const w = new Float32Array(M * b);
          models.forEach((m, i) => w.fill((m.learningRate * weights[i][k]) / b, i * b, (i + 1) * b));
          return tf.tensor1d(w);
        };
        rowWeights.set(b, { ce: make('ce'), el: make('el'), focal: make('focal') });
      }
      return rowWeights.get(b)!;
    };
    for (let start = 0; start < nTrain; start += batchSize) {
      const b = Math.min(batchSize, nTrain - start);
      for (let m = 0; m < M; m++) {
        const s = input.seeds[seedOf[m]];
        const order = orders[seedOf[m]];
        for (let r = 0; r < b; r++) {
          const row = order[start + r];
          xb.set(s.x.subarray(row * I, (row + 1) * I), (m * b + r) * I);
          yb[m * b + r] = s.y[row];
        }
      }
      const w = weightsFor(b);
      tf.tidy(() =>
        step(
          arch,
          variables,
          velocity,
          input.momentum,
          tf.tensor3d(xb.subarray(0, M * b * I), [M, b, I]),
          tf.tensor1d(yb.subarray(0, M * b), 'int32'),
          w,
        ),
      );
    }
    for (const w of rowWeights.values()) for (const t of Object.values(w)) t?.dispose();
    const accuracy = evaluate(variables);
    for (let m = 0; m < M; m++) {
      validation[m].push(accuracy.validation[m]);
      test[m].push(accuracy.test[m]);
    }
    input.onEpoch?.(epoch + 1);
  }
  [...variables, ...velocity].forEach((v) => v.dispose());
  evaluate.dispose();
  return { validation, test };
}

/** Per-row loss weights of a step (null: the term is absent). */
export type RowWeights = Record<'ce' | 'el' | 'focal', tf.Tensor | null>;

/**
 * One training step of every model: x [M, b, I], y [M·b]; the loss Σ w_ce·CE + w_el·EL +
 * w_focal·Focal over the rows, then v ← μv + g, θ ← θ − v.
 */
export function step(
  arch: Arch,
  variables: tf.Variable[],
  velocity: tf.Variable[],
  momentum: number,
  x: tf.Tensor3D,
  y: tf.Tensor1D,
  w: RowWeights,
): void {
  const rows = y.shape[0];
  const { grads } = tf.variableGrads(() => {
    const q = forward(arch, variables, x);
    const logits = tf.reshape(q, [rows, q.shape[2]]);
    const parts: tf.Scalar[] = [];
    if (w.ce) parts.push(crossEntropy(logits, y, { weights: w.ce, reduction: 'sum' }) as tf.Scalar);
    if (w.el) parts.push(expectationLoss(logits, y, { weights: w.el, reduction: 'sum' }) as tf.Scalar);
    if (w.focal) parts.push(focalLoss(logits, y, { ...FOCAL, weights: w.focal, reduction: 'sum' }) as tf.Scalar);
    return parts.length === 1 ? parts[0] : (tf.addN(parts) as tf.Scalar);
  }, variables);
  variables.forEach((v, k) => {
    velocity[k].assign(tf.add(tf.mul(velocity[k], momentum), grads[v.name]));
    v.assign(tf.sub(v, velocity[k]));
  });
}

export function forward(arch: Arch, v: tf.Variable[], x: tf.Tensor3D): tf.Tensor3D {
  if (arch === 'linear') return tf.add(tf.matMul(x, v[0]), v[1]);
  const h = tf.relu(tf.add(tf.matMul(x, v[0]), v[1])) as tf.Tensor3D;
  return tf.add(tf.matMul(h, v[2]), v[3]);
}

/**
 * PyTorch's nn.Linear initialization (weights and biases uniform in ±1/√fan_in), drawn per seed:
 * the models of one seed start from the same weights whatever their method or learning rate.
 */
function initialize(input: TrainInput): tf.Tensor[] {
  const { arch, features: I, classes: C, models } = input;
  const shapes: Array<[number, number]> =
    arch === 'linear'
      ? [[I, C]]
      : [
          [I, I],
          [I, C],
        ];
  const perSeed = new Map<number, Float32Array[]>();
  for (const s of input.seeds) {
    const random = generator(hash(`${input.dataset}/${arch}/${s.seed}/init`));
    const draws: Float32Array[] = [];
    for (const [fanIn, out] of shapes) {
      const bound = 1 / Math.sqrt(fanIn);
      draws.push(Float32Array.from({ length: fanIn * out }, () => (2 * random() - 1) * bound));
      draws.push(Float32Array.from({ length: out }, () => (2 * random() - 1) * bound));
    }
    perSeed.set(s.seed, draws);
  }
  const out: tf.Tensor[] = [];
  shapes.forEach(([fanIn, width], k) => {
    const w = new Float32Array(models.length * fanIn * width);
    const b = new Float32Array(models.length * width);
    models.forEach((m, i) => {
      w.set(perSeed.get(m.seed)![2 * k], i * fanIn * width);
      b.set(perSeed.get(m.seed)![2 * k + 1], i * width);
    });
    out.push(tf.tensor3d(w, [models.length, fanIn, width]), tf.tensor3d(b, [models.length, 1, width]));
  });
  return out;
}

/** Validation and test accuracy of every model, from inputs built once. */
function evaluator(input: TrainInput, seedOf: number[]) {
  const { arch, features: I, models } = input;
  const M = models.length;
  const build = (part: 'validation' | 'test') => {
    const n = input.seeds[0].split[part].length;
    if (input.seeds.some((s) => s.split[part].length !== n)) throw new Error(`every seed must have as many ${part} rows`);
    const x = new Float32Array(M * n * I);
    const y = new Int32Array(M * n);
    for (let m = 0; m < M; m++) {
      const s = input.seeds[seedOf[m]];
      s.split[part].forEach((row, r) => {
        x.set(s.x.subarray(row * I, (row + 1) * I), (m * n + r) * I);
        y[m * n + r] = s.y[row];
      });
    }
    return { x: tf.tensor3d(x, [M, n, I]), y: tf.tensor2d(y, [M, n], 'int32'), n };
  };
  const parts = { validation: build('validation'), test: build('test') };
  const accuracy = (v: tf.Variable[], p: { x: tf.Tensor3D; y: tf.Tensor2D; n: number }) => {
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(forward(arch, v, p.x), -1), p.y), 'float32'), 1));
    const counts = correct.dataSync();
    correct.dispose();
    return Array.from(counts, (c) => c / p.n);
  };
  const run = (v: tf.Variable[]) => ({ validation: accuracy(v, parts.validation), test: accuracy(v, parts.test) });
  run.dispose = () => Object.values(parts).forEach((p) => (p.x.dispose(), p.y.dispose()));
  return run;
}
