// A large classification head (100,000 classes): one training step's time and peak memory,
// stock tf.losses.softmaxCrossEntropy against mixloss's fused loss, on the same tensors.
//
//   node examples/large-head.js [--small]
const tf = require('@tensorflow/tfjs');
const { crossEntropy } = require('mixloss');

const small = process.argv.includes('--small');
const [B, D, C] = small ? [8, 32, 20000] : [32, 64, 100000];

async function main() {
  await tf.setBackend('cpu');
  const features = tf.randomNormal([B, D], 0, 1, 'float32', 1);
  const labels = tf.tensor1d(Array.from({ length: B }, (_, i) => (i * 7919) % C), 'int32');
  const oneHot = tf.oneHot(labels, C).toFloat();  // what stock CE needs: a [B, C] one-hot
  const w = tf.variable(tf.randomNormal([D, C], 0, 0.05, 'float32', 2));

  const step = (loss) => () => {
    const { value, grads } = tf.variableGrads(() => loss(tf.matMul(features, w)), [w]);
    tf.dispose([value, grads[w.name]]);
  };
  // The two losses are the same function: same value, same gradient of the head's weights.
  const valueAndGrad = (loss) => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => loss(tf.matMul(features, w)), [w]);
    return { value: value.dataSync()[0], grad: grads[w.name].dataSync() };
  });
  const measure = async (name, fn) => {
    fn();  // warm up
    const times = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      fn();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const profile = await tf.profile(fn);
    times.sort((a, b) => a - b);
    console.log(`${name.padEnd(30)} ${times[2].toFixed(1).padStart(8)} ms   peak ${(profile.peakBytes / 2 ** 20).toFixed(1).padStart(7)} MiB`);
    return { ms: times[2], peak: profile.peakBytes };
  };
  const a = valueAndGrad((logits) => tf.losses.softmaxCrossEntropy(oneHot, logits));
  const b = valueAndGrad((logits) => crossEntropy(logits, labels));
  let worst = 0, largest = 0;
  for (let i = 0; i < a.grad.length; i++) {
    worst = Math.max(worst, Math.abs(a.grad[i] - b.grad[i]));
    largest = Math.max(largest, Math.abs(a.grad[i]));
  }
  console.log(`loss: stock ${a.value.toFixed(6)}, mixloss ${b.value.toFixed(6)}; ` +
    `weight gradients differ by at most ${(worst / largest).toExponential(1)} of the largest entry`);
  console.log(`one step of a ${D} → ${C} head, batch ${B} (logits ${(B * C * 4 / 2 ** 20).toFixed(1)} MiB):`);
  const stock = await measure('stock softmaxCrossEntropy', step((logits) => tf.losses.softmaxCrossEntropy(oneHot, logits)));
  const fused = await measure('mixloss crossEntropy', step((logits) => crossEntropy(logits, labels)));
  console.log(`mixloss: ${(stock.ms / fused.ms).toFixed(1)}× faster, ${(stock.peak / fused.peak).toFixed(1)}× less peak memory`);
}

main();
