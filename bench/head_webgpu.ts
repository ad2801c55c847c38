// `mixloss bench head-webgpu`: one training step of a classifier head on tfjs's webgpu backend
// (set up by mixloss/webgpu on this machine's adapter): the fused head (its WGSL kernels, the
// logits never stored) beside tf.matMul + mixloss's crossEntropy and beside stock
// tf.losses.softmaxCrossEntropy, each step including the read-back of its three gradients (the
// only way to know the GPU finished); then inference, the five best classes of each row: headTopK
// (its WGSL kernels) beside tf.topk of tf.logSoftmax of the logits, each read back. Medians of
// interleaved runs, after one warm-up each. Where the device has timestamp queries, each training
// step's GPU time per program follows (fused and matMul + crossEntropy).
import * as tf from '@tensorflow/tfjs';

import { crossEntropy, headTopK, linearCrossEntropy } from '../src';
import { setupWebGPU } from '../src/webgpu';
import { median } from './median';
import { programTimes } from './program_times';

/** The classes the inference rows keep. */
const TOP_K = 5;

export interface HeadWebGPUBenchOptions {
  shapes: Array<[number, number, number]>;
  reps: number;
}

export async function headWebGPUBench(opts: HeadWebGPUBenchOptions, log: (line: string) => void): Promise<string> {
  const setup = await setupWebGPU();
  const adapter = `${setup.adapter.description || setup.adapter.device} (${setup.adapter.vendor}, ${setup.backend}${setup.software ? ', software' : ''})`;
  log(`adapter: ${adapter}`);
  const lines = [
    `One training step of a classifier head on the webgpu backend, loss(hidden · kernel + bias) and its gradients for all three,`,
    `each step including the read-back of the three gradients; medians of ${opts.reps} interleaved runs after one warm-up.`,
    `Adapter: ${adapter}. Effective GFLOP/s: 6·N·D·C over the step's time.`,
    '',
    '| N × D × C | fused head ms | tf.matMul + crossEntropy ms | stock softmaxCrossEntropy ms | matMul + crossEntropy / fused | stock / fused | fused effective GFLOP/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const inference = [
    '',
    `Inference: the ${TOP_K} best classes of each row (log-probabilities and class ids, read back); medians of ${opts.reps} interleaved runs after one warm-up.`,
    '',
    `| N × D × C | headTopK ms | tf.topk(tf.logSoftmax(tf.matMul + bias)) ms | unfused / headTopK |`,
    '|---|---:|---:|---:|',
  ];
  const programs = ['', `GPU time per program in one training step (the backend's timestamp queries; medians of ${opts.reps} runs):`, ''];
  for (const [N, D, C] of opts.shapes) {
    const h = tf.randomUniform([N, D], -1, 1, 'float32', 1);
    const w = tf.randomUniform([D, C], -0.05, 0.05, 'float32', 2);
    const b = tf.randomUniform([C], -0.05, 0.05, 'float32', 3);
    const y = tf.randomUniform([N], 0, C, 'int32', 4);
    const oneHot = tf.oneHot(y, C).toFloat();
    const methods: Array<(hh: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.Scalar> = [
      (hh, ww, bb) => linearCrossEntropy(hh, ww, y, { bias: bb }) as tf.Scalar,
      (hh, ww, bb) => crossEntropy(tf.add(tf.matMul(hh, ww), bb), y) as tf.Scalar,
      (hh, ww, bb) => tf.losses.softmaxCrossEntropy(oneHot, tf.add(tf.matMul(hh, ww), bb)) as tf.Scalar,
    ];
    const step = async (f: (typeof methods)[number]) => {
      const t0 = performance.now();
      const grads = tf.grads(f as never)([h, w, b]);
      await Promise.all(grads.map((g) => g.data()));
      const ms = performance.now() - t0;
      tf.dispose(grads);
      return ms;
    };
    for (const f of methods) await step(f); // compile the shaders
    const times: number[][] = methods.map(() => []);
    for (let i = 0; i < opts.reps; i++) for (const [k, f] of methods.entries()) times[k].push(await step(f));
    const [fused, matmul, stock] = times.map(median);
    for (const [name, f] of [
      ['fused', methods[0]],
      ['matMul + crossEntropy', methods[1]],
    ] as const) {
      const per = await programTimes(() => tf.grads(f as never)([h, w, b]), opts.reps);
      if (per !== undefined) programs.push(`- ${N} × ${D} × ${C}, ${name}: ${per.map(([p, ms]) => `${p} ${ms.toFixed(1)}`).join(', ')} ms`);
    }
    const gflops = (6 * N * D * C) / fused / 1e6;
    log(`${N} × ${D} × ${C}: fused ${fused.toFixed(1)} ms, matMul + crossEntropy ${matmul.toFixed(1)} ms, stock ${stock.toFixed(1)} ms`);
    lines.push(
      `| ${N} × ${D} × ${C} | ${fused.toFixed(1)} | ${matmul.toFixed(1)} | ${stock.toFixed(1)} | ${(matmul / fused).toFixed(2)}× | ${(stock / fused).toFixed(2)}× | ${gflops.toFixed(2)} |`,
    );
    const tops: Array<() => tf.Tensor[]> = [
      () => Object.values(headTopK(h, w, TOP_K, { bias: b })),
      () => Object.values(tf.tidy(() => tf.topk(tf.logSoftmax(tf.add(tf.matMul(h, w), b)), TOP_K))),
    ];
    const top = async (f: (typeof tops)[number]) => {
      const t0 = performance.now();
      const out = f();
      await Promise.all(out.map((t) => t.data()));
      const ms = performance.now() - t0;
      tf.dispose(out);
      return ms;
    };
    for (const f of tops) await top(f);
    const topTimes: number[][] = tops.map(() => []);
    for (let i = 0; i < opts.reps; i++) for (const [k, f] of tops.entries()) topTimes[k].push(await top(f));
    const [fusedTop, unfusedTop] = topTimes.map(median);
    log(`${N} × ${D} × ${C}: headTopK ${fusedTop.toFixed(1)} ms, tf.topk of the logits ${unfusedTop.toFixed(1)} ms`);
    inference.push(`| ${N} × ${D} × ${C} | ${fusedTop.toFixed(1)} | ${unfusedTop.toFixed(1)} | ${(unfusedTop / fusedTop).toFixed(2)}× |`);
    tf.dispose([h, w, b, y, oneHot]);
  }
  return [...lines, ...inference, ...(programs.length > 3 ? programs : [])].join('\n');
}
