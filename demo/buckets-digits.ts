// The paper's p_y-bucket analysis on real handwritten digits: train the demo's classifier with
// cross entropy and with the 'F=0-0.5' schedule; at epoch `--at` (70/90 of training, as the
// paper's CIFAR-100 run) split the test digits into correct, misclassified with p_y >= 0.2 and
// misclassified with p_y < 0.2, and count how many of each are correct at the end.
//
//   npm run demo:buckets                        (about a minute on 2 cores)
//   npm run demo:buckets -- --epochs 18 --at 14
import * as tf from '@tensorflow/tfjs';

import { bucketTransitions, BucketTransitions, mixedLossForLayers, scheduledMixedLoss, targetProbabilities } from '../src';
import { loadDigits, PIXELS } from './digits';
import { digitsClassifier } from './classifier';
import { option } from './options';

const EPOCHS = option('epochs', 12);
const AT = option('at', Math.round((EPOCHS * 70) / 90));
const BATCH = 64;

const percent = (a: number, b: number) => (b === 0 ? '–' : `${((100 * a) / b).toFixed(2)}%`);

export function bucketTable(name: string, t: BucketTransitions, at: number, epochs: number): string {
  const rows: Array<[string, { rows: number; correctAtEnd: number }]> = [
    ['correct', t.correct],
    [`misclassified, p_y >= ${t.threshold}`, t.misclassifiedAbove],
    [`misclassified, p_y < ${t.threshold}`, t.misclassifiedBelow],
  ];
  return [
    `${name}: test digits by their state at epoch ${at} of ${epochs}`,
    `  ${'group at epoch ' + at}`.padEnd(36) + 'rows'.padStart(6) + `   correct at epoch ${epochs}`,
    ...rows.map(
      ([label, b]) =>
        `  ${label.padEnd(34)}${String(b.rows).padStart(6)}   ${String(b.correctAtEnd).padStart(5)} (${percent(b.correctAtEnd, b.rows)})`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  if (!(AT >= 1 && AT < EPOCHS)) throw new Error(`--at must be an epoch in [1, ${EPOCHS - 1}], got ${AT}`);
  await tf.setBackend('cpu');
  const digits = loadDigits(600, 200);
  console.log(
    `data: ${digits.nTrain} training and ${digits.nTest} test digits from the mnist package; ${EPOCHS} epochs, batch ${BATCH}; snapshot at epoch ${AT}\n`,
  );
  const xTrain = tf.tensor2d(digits.xTrain, [digits.nTrain, PIXELS]);
  const yTrain = tf.oneHot(tf.tensor1d(digits.yTrain, 'int32'), 10).toFloat();
  const xTest = tf.tensor2d(digits.xTest, [digits.nTest, PIXELS]);
  const yTest = tf.tensor1d(digits.yTest, 'int32');

  const run = async (name: string, loss: ReturnType<typeof mixedLossForLayers>, extra: tf.CustomCallback[]) => {
    const model = digitsClassifier();
    model.compile({ optimizer: tf.train.adam(0.001), loss });
    let snapshot: ReturnType<typeof targetProbabilities> | null = null;
    const observe = new tf.CustomCallback({
      onEpochEnd: async (epoch) => {
        if (epoch + 1 !== AT) return;
        const logits = model.predict(xTest) as tf.Tensor;
        snapshot = targetProbabilities(logits, yTest);
        logits.dispose();
      },
    });
    await model.fit(xTrain, yTrain, { epochs: EPOCHS, batchSize: BATCH, shuffle: true, verbose: 0, callbacks: [...extra, observe] });
    const logits = model.predict(xTest) as tf.Tensor;
    const end = targetProbabilities(logits, yTest);
    logits.dispose();
    model.dispose();
    console.log(bucketTable(name, bucketTransitions(snapshot!, end.correct), AT, EPOCHS));
    console.log(
      `  test accuracy at the end: ${percent(
        end.correct.reduce((a, b) => a + b, 0),
        end.correct.length,
      )}\n`,
    );
  };

  await run('CE', mixedLossForLayers({ alpha: 1, beta: 0 }), []);
  const mix = scheduledMixedLoss('F=0-0.5');
  await run('F=0-0.5', mix.loss, [mix.callback as unknown as tf.CustomCallback]);
  tf.dispose([xTrain, yTrain, xTest, yTest]);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
