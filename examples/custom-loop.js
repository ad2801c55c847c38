// A custom training loop: optimizer.minimize with the fused mixed loss, the focus schedule
// stepped per batch by hand, and the per-row losses of the last batch.
//
//   node examples/custom-loop.js [--small]
const tf = require('@tensorflow/tfjs');
const { mixedLoss, focusSchedule } = require('mixloss');

const small = process.argv.includes('--small');
const steps = small ? 60 : 400;
const [N, D, C, B] = [small ? 512 : 4096, 32, 20, 64];

async function main() {
  await tf.setBackend('cpu');
  // A synthetic task with a known answer: labels from a hidden linear map plus noise.
  const x = tf.randomNormal([N, D], 0, 1, 'float32', 1);
  const hidden = tf.randomNormal([D, C], 0, 1, 'float32', 2);
  const y = tf.tidy(() => tf.add(tf.matMul(x, hidden), tf.randomNormal([N, C], 0, 0.5, 'float32', 3)).argMax(1).toInt());
  const w = tf.variable(tf.zeros([D, C]));
  const b = tf.variable(tf.zeros([C]));
  const optimizer = tf.train.adam(0.05);
  const schedule = focusSchedule('F=0-0.5');

  for (let step = 0; step < steps; step++) {
    const { F, alpha, beta } = schedule.atStep(step, steps);
    const start = (step * B) % N;
    const loss = optimizer.minimize(() => tf.tidy(() => {
      const xb = x.slice([start, 0], [Math.min(B, N - start), D]);
      const yb = y.slice([start], [Math.min(B, N - start)]);
      return mixedLoss(tf.add(tf.matMul(xb, w), b), yb, { alpha, beta });
    }), true);
    if (step % (steps / 10) === 0 || step === steps - 1) {
      console.log(`step ${String(step).padStart(3)}  F=${F}  loss=${loss.dataSync()[0].toFixed(4)}`);
    }
    loss.dispose();
  }
  const accuracy = tf.tidy(() => tf.mean(tf.equal(tf.add(tf.matMul(x, w), b).argMax(1), y).toFloat()).dataSync()[0]);
  console.log(`training accuracy ${(accuracy * 100).toFixed(1)}%  tensors alive: ${tf.memory().numTensors}`);
}

main();
