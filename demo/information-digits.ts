// Does the mutual-information regularizer do what Zaugg et al. say? Real digits (the `mnist`
// package, 5000 train / 1000 test), the demo's MLP (784 → 128 → 10, logits), trained with plain
// CE and with f·CE − (1 − f)·I(Y; Ŷ), f = (1 + epoch)^−0.5, over a few seeds. Per epoch: train
// and test CE, the train–test gap, test accuracy, and the diagnostics on a held-out batch
// (I(Y; X), I(Y; Ŷ), ‖∇I‖). The numbers go to docs/information.md whatever they show.
//
//   npm run demo:information                      (about 10 minutes on 2 cores)
//   npm run demo:information -- --seeds 1 --epochs 4 --json out.json
import * as fs from 'fs';

import * as tf from '@tensorflow/tfjs';

import { crossEntropy, informationLoss, InformationDiagnostics, InformationRecord, mixedLossForLayers } from '../src';
import { loadDigits, PIXELS } from './digits';
import { digitsClassifier } from './classifier';
import { option } from './options';

const EPOCHS = option('epochs', 15);
const SEEDS = option('seeds', 3);
const BATCH = 256;
const jsonAt = process.argv.indexOf('--json');
const JSON_OUT = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;

interface EpochRow {
  epoch: number;
  trainCE: number;
  testCE: number;
  gap: number;
  testAccuracy: number;
  info: InformationRecord;
  ms: number;
}

function ceOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => crossEntropy(model.predict(x) as tf.Tensor, y).dataSync()[0]);
}

function accuracyOf(model: tf.LayersModel, x: tf.Tensor, y: Int32Array): number {
  const p = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(1).dataSync());
  return Array.from(p).reduce((n: number, v, i) => n + (v === y[i] ? 1 : 0), 0) / y.length;
}

async function run(kind: 'CE' | 'CE − I', seed: number): Promise<EpochRow[]> {
  const d = loadDigits(500, 100, seed);
  const xTrain = tf.tensor2d(d.xTrain, [d.nTrain, PIXELS]);
  const yTrain = tf.oneHot(tf.tensor1d(d.yTrain, 'int32'), 10).toFloat();
  const xTest = tf.tensor2d(d.xTest, [d.nTest, PIXELS]);
  const yTestIds = tf.tensor1d(d.yTest, 'int32');
  // The held-out batch of the diagnostics: the first 500 test digits.
  const xHeld = xTest.slice(0, 500);
  const yHeld = d.yTest.slice(0, 500);
  const model = digitsClassifier([7 * seed, 7 * seed + 1]);
  const info = informationLoss();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: kind === 'CE' ? mixedLossForLayers({ alpha: 1, beta: 0 }) : info.loss });
  const diagnostics = new InformationDiagnostics(model, xHeld, yHeld);
  const rows: EpochRow[] = [];
  let started = Date.now();
  const measure = new tf.CustomCallback({
    onEpochBegin: async () => {
      started = Date.now();
    },
    onEpochEnd: async (epoch) => {
      const ms = Date.now() - started;
      const trainCE = ceOf(model, xTrain, yTrain);
      const testCE = ceOf(model, xTest, yTestIds);
      const rec = diagnostics.measure(epoch);
      rows.push({ epoch, trainCE, testCE, gap: testCE - trainCE, testAccuracy: accuracyOf(model, xTest, d.yTest), info: rec, ms });
      process.stderr.write(
        `  ${kind.padEnd(6)} seed ${seed} epoch ${String(epoch + 1).padStart(2)}  train CE ${trainCE.toFixed(4)}  test CE ${testCE.toFixed(4)}  ` +
          `gap ${(testCE - trainCE).toFixed(4)}  I(Y;Ŷ) ${rec.outputInformation.toFixed(3)}  I(Y;X) ${rec.inputInformation.toFixed(3)}  ‖∇I‖ ${rec.gradientNorm.toExponential(2)}  ${ms} ms\n`,
      );
    },
  });
  await model.fit(xTrain, yTrain, {
    epochs: EPOCHS,
    batchSize: BATCH,
    shuffle: true,
    verbose: 0,
    callbacks: kind === 'CE' ? [measure] : [info.callback, measure],
  });
  tf.dispose([xTrain, yTrain, xTest, yTestIds, xHeld]);
  model.dispose();
  return rows;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const results: Record<string, EpochRow[][]> = { CE: [], 'CE − I': [] };
  for (let seed = 1; seed <= SEEDS; seed++) {
    for (const kind of ['CE', 'CE − I'] as const) results[kind].push(await run(kind, seed));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
  console.log(
    `\n${SEEDS} seeds × ${EPOCHS} epochs, 5000 train / 1000 test digits, MLP 784-128-10, adam 1e-3, batch ${BATCH}; mean ± sd over seeds\n`,
  );
  console.log(
    '| training | final train CE | final test CE | gap (test − train) | test accuracy | I(Y; Ŷ) epoch 1 → last | I(Y; X) | DPI flagged (epochs) | ms / epoch |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [kind, runs] of Object.entries(results)) {
    const last = runs.map((r) => r[r.length - 1]);
    const f = (xs: number[], digits = 4) => `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`;
    console.log(
      `| ${kind} | ${f(last.map((r) => r.trainCE))} | ${f(last.map((r) => r.testCE))} | ${f(last.map((r) => r.gap))} | ${f(
        last.map((r) => r.testAccuracy),
        3,
      )} | ` +
        `${mean(runs.map((r) => r[0].info.outputInformation)).toFixed(3)} → ${mean(last.map((r) => r.info.outputInformation)).toFixed(3)} | ${mean(last.map((r) => r.info.inputInformation)).toFixed(3)} | ` +
        `${runs.flat().filter((r) => r.info.dpiViolated).length} of ${runs.flat().length} | ${mean(runs.flat().map((r) => r.ms)).toFixed(0)} |`,
    );
  }
  console.log('\nPer epoch (mean over seeds): CE train / test / gap / I(Y;Ŷ) ; CE − I train / test / gap / I(Y;Ŷ)');
  for (let e = 0; e < EPOCHS; e++) {
    const at = (kind: string, k: (r: EpochRow) => number) => mean(results[kind].map((r) => k(r[e])));
    console.log(
      `| ${e + 1} | ${['CE', 'CE − I'].map((kind) => [at(kind, (r) => r.trainCE), at(kind, (r) => r.testCE), at(kind, (r) => r.gap), at(kind, (r) => r.info.outputInformation)].map((v) => v.toFixed(4)).join(' | ')).join(' | ')} |`,
    );
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
