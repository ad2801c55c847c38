// npm run experiment:profile — where a training step of the experiment spends its time: the
// runner's own step (experiments/uci/train.ts) for M = 36 models and mini-batches of 8 at the
// shapes of four data sets, beside the three fused loss calls alone, one fused cross entropy
// and stock tf.losses.softmaxCrossEntropy. Medians of 300 steps after 20 warm-up steps.
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { crossEntropy, expectationLoss, focalLoss } from '../../src';
import { FOCAL } from './methods';
import { median } from '../../bench/median';
import { Arch, forward, RowWeights, step } from './train';

const SHAPES: Array<[string, Arch, number, number]> = [
  ['letter, linear (16 → 26)', 'linear', 16, 26],
  ['shuttle, mlp (9 → 9 → 7)', 'mlp', 9, 7],
  ['digits, mlp (64 → 64 → 10)', 'mlp', 64, 10],
  ['dna, mlp (180 → 180 → 3)', 'mlp', 180, 3],
];

/** Median milliseconds of f over `runs` calls, after 20 warm-up calls. */
function medianMs(f: () => void, runs = 300): number {
  for (let i = 0; i < 20; i++) f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  return median(t);
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  const M = 36;
  const b = 8;
  console.log(
    `M = ${M} models, mini-batches of ${b}, tfjs ${tf.getBackend()} backend; ${os.cpus()[0]?.model} (${os.cpus().length} cores), Node ${process.versions.node}\n`,
  );
  console.log(
    '| data set, architecture | step | the three fused losses + gradient | one fused CE + gradient | stock tf.losses.softmaxCrossEntropy + gradient |',
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, arch, I, C] of SHAPES) {
    const shapes: number[][] =
      arch === 'linear'
        ? [
            [M, I, C],
            [M, 1, C],
          ]
        : [
            [M, I, I],
            [M, 1, I],
            [M, I, C],
            [M, 1, C],
          ];
    const variables = shapes.map((s, k) => tf.variable(tf.randomNormal(s, 0, 0.1, 'float32', k + 1)));
    const velocity = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    const x = tf.randomNormal([M, b, I], 0, 1, 'float32', 7) as tf.Tensor3D;
    const y = tf.tensor1d(
      Array.from({ length: M * b }, (_, i) => (i * 7) % C),
      'int32',
    );
    const w: RowWeights = { ce: tf.fill([M * b], 0.01 / b), el: tf.fill([M * b], 0.01 / b), focal: tf.fill([M * b], 0.0025 / b) };
    const q = tf.tidy(() => tf.reshape(forward(arch, variables, x), [M * b, C]));
    const oneHot = tf.oneHot(y, C);
    const full = medianMs(() => tf.tidy(() => step(arch, variables, velocity, 0.9, x, y, w)));
    const losses = medianMs(() =>
      tf.tidy(() => {
        tf.grad((z: tf.Tensor) =>
          tf.addN([
            crossEntropy(z, y, { weights: w.ce!, reduction: 'sum' }),
            expectationLoss(z, y, { weights: w.el!, reduction: 'sum' }),
            focalLoss(z, y, { ...FOCAL, weights: w.focal!, reduction: 'sum' }),
          ]),
        )(q);
      }),
    );
    const ce = medianMs(() => tf.tidy(() => void tf.grad((z: tf.Tensor) => crossEntropy(z, y, { weights: w.ce!, reduction: 'sum' }))(q)));
    const stock = medianMs(() =>
      tf.tidy(() => void tf.grad((z: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, z, w.ce!, 0, tf.Reduction.SUM))(q)),
    );
    console.log(
      `| ${name} | ${full.toFixed(2)} ms | ${losses.toFixed(2)} ms (${((100 * losses) / full).toFixed(0)}%) | ${ce.toFixed(3)} ms | ${stock.toFixed(3)} ms |`,
    );
    tf.dispose([...variables, ...velocity, x, y, q, oneHot, w.ce!, w.el!, w.focal!]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
