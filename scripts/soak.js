#!/usr/bin/env node
// Soak: 10^4 training steps of the demo's model (784-128-10 on real digits from the
// mnist package, batches of 64) with the fused loss and optimizer.minimize, on the cpu and wasm
// backends. Reports tfjs's tensor count, the process RSS (and its slope per 1000 steps, fitted
// over the second half), and the addon's pending-gradient map, every 1000 steps.
//
//   npm run build:ts && node --expose-gc scripts/soak.js [--steps 10000] [--backends cpu,wasm] [--loss mixed|information|stock]
//
// --loss information: the mutual-information regularizer instead (informationLoss at f = 0.5,
// width by alignment on every batch: the native eigensolver and its gradient every step);
// --loss stock: tf.losses.softmaxCrossEntropy, to tell tfjs's own memory behaviour from mixloss's.
'use strict';
const path = require('path');

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const steps = Number(opt('--steps', '10000'));
const backends = opt('--backends', 'cpu,wasm').split(',');
const lossName = opt('--loss', 'mixed');
if (!['mixed', 'information', 'stock'].includes(lossName)) throw new Error(`--loss must be mixed, information or stock, got ${lossName}`);

const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const dist = path.join(__dirname, '..', 'dist');
const { mixedLoss, focusToWeights, informationLoss, nativeInfo } = require(path.join(dist, 'src'));
const { pendingGradientCount } = require(path.join(dist, 'src', 'kernels', 'fused_loss'));
const { loadDigits, PIXELS } = require(path.join(dist, 'demo', 'digits'));

function slope(points) {  // least squares, MB per 1000 steps
  const n = points.length, mx = points.reduce((a, p) => a + p[0], 0) / n, my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0, sxx = 0;
  for (const [x, y] of points) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  return sxx === 0 ? 0 : (sxy / sxx) * 1000;
}

(async () => {
  const digits = loadDigits(300, 10);
  const what = { mixed: 'mixedLoss F=0.3', information: 'informationLoss at f = 0.5 (0.5·CE − 0.5·I(Y; Ŷ)), width by alignment',
    stock: "stock tf.losses.softmaxCrossEntropy (the baseline: tfjs's own memory behaviour)" }[lossName];
  console.log(`soak: ${steps} steps per backend, batch 64, 784-128-10, ${what}; addon ${nativeInfo().path}`);
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    const xs = tf.tensor2d(digits.xTrain, [digits.nTrain, PIXELS]);
    const ys = tf.tensor1d(digits.yTrain, 'int32');
    const model = tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [PIXELS], units: 128, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) }),
    ] });
    const optimizer = tf.train.adam(1e-3);
    const weights = focusToWeights(0.3);
    const info = informationLoss({ schedule: () => 0.5 });
    info.state.setEpoch(1);
    const batches = Math.floor(digits.nTrain / 64);
    const rows = [];
    const rss = [];
    const started = Date.now();
    let tensors0;
    for (let step = 1; step <= steps; step++) {
      const b = step % batches;
      const loss = optimizer.minimize(() => tf.tidy(() => {
        const x = xs.slice([b * 64, 0], [64, PIXELS]);
        const y = ys.slice([b * 64], [64]);
        if (lossName === 'stock') return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), model.apply(x));
        return lossName === 'mixed' ? mixedLoss(model.apply(x), y, weights) : tf.mean(info.loss(y, model.apply(x)));
      }), true);
      const value = loss.dataSync()[0];
      loss.dispose();
      if (step === 100) tensors0 = tf.memory().numTensors;
      if (lossName === 'information' && step % batches === 0) info.state.endEpoch();
      if (step % 1000 === 0) {
        // With node --expose-gc: a full collection first, so the JS heap shows what is live, not
        // what is garbage waiting for a major GC.
        if (typeof global.gc === 'function') global.gc();
        const mb = process.memoryUsage().rss / 2 ** 20;
        rss.push([step, mb]);
        const m = process.memoryUsage();
        const wasmHeap = backend === 'wasm' ? `  wasm heap ${(tf.backend().wasm.HEAPU8.length / 2 ** 20).toFixed(0)} MB` : '';
        rows.push(`  ${backend.padEnd(5)} step ${String(step).padStart(6)}  loss ${value.toFixed(4)}  tensors ${tf.memory().numTensors}  ` +
          `data ids ${tf.engine().backend.numDataIds()}  pending gradients ${pendingGradientCount()}  RSS ${mb.toFixed(0)} MB  ` +
          `JS heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MB  external ${(m.external / 2 ** 20).toFixed(0)} MB${wasmHeap}`);
        console.log(rows[rows.length - 1]);
      }
    }
    const half = rss.filter(([s]) => s > steps / 2);
    console.log(`  ${backend}: ${((Date.now() - started) / 1000).toFixed(0)} s; tensors ${tensors0} at step 100, ${tf.memory().numTensors} at the end; ` +
      `RSS slope over the second half ${slope(half).toFixed(2)} MB per 1000 steps`);
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
  }
})().catch((e) => { console.error(e); process.exit(1); });
