// `mixloss bench webgpu`: on tfjs's webgpu backend (set up by mixloss/webgpu on this machine's
// adapter), the fused loss + gradient beside stock tf.losses.softmaxCrossEntropy + tf.grad, and
// beside the floor of one elementwise op on the same logits, each including the read-back of
// its [B, C] result (the only way to know the GPU finished). Medians, interleaved in one run.
import * as tf from '@tensorflow/tfjs';

import { crossEntropy } from '../src';
import { setupWebGPU } from '../src/webgpu';
import { median } from './median';

export interface WebGPUBenchOptions {
  shapes: Array<[number, number]>;
  reps: number;
  /** Dawn's backend (setupWebGPU's `backend`) */
  dawn: 'vulkan' | 'opengl';
}

async function timed(fn: () => tf.Tensor): Promise<number> {
  const t0 = performance.now();
  const out = fn();
  await out.data();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

export async function webgpuBench(opts: WebGPUBenchOptions, log: (line: string) => void): Promise<string> {
  const setup = await setupWebGPU({ backend: opts.dawn });
  const adapter =
    `${setup.adapter.description || setup.adapter.device} (${setup.adapter.vendor}, ${setup.backend}${setup.software ? ', software' : ''}` +
    `${setup.subgroups ? ', subgroups' : ''})`;
  log(`adapter: ${adapter}`);
  const lines = [
    `WebGPU, adapter: ${adapter}; medians of ${opts.reps} interleaved runs, each including the read-back of the [B, C] gradient (or product).`,
    '',
    '| B × C | mixloss crossEntropy + grad (ms) | stock softmaxCrossEntropy + tf.grad (ms) | tf.mul (ms) | stock / mixloss | mixloss / tf.mul |',
    '|---|---|---|---|---|---|',
  ];
  for (const [B, C] of opts.shapes) {
    const logits = tf.randomNormal([B, C], 0, 2, 'float32', 7);
    const ids = tf.tensor1d(
      Array.from({ length: B }, (_, r) => (r * 7919) % C),
      'int32',
    );
    const oneHot = tf.oneHot(ids, C).toFloat();
    const fused = () => tf.grad((q: tf.Tensor) => crossEntropy(q, ids))(logits);
    const stock = () => tf.grad((q: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, q))(logits);
    const floor = () => tf.mul(logits, 1.5);
    for (const f of [fused, stock, floor]) await timed(f); // compile the shaders
    const t: number[][] = [[], [], []];
    for (let i = 0; i < opts.reps; i++) {
      t[0].push(await timed(fused));
      t[1].push(await timed(stock));
      t[2].push(await timed(floor));
    }
    const [m, s, e] = t.map(median);
    log(`${B} × ${C}: mixloss ${m.toFixed(2)} ms, stock ${s.toFixed(2)} ms, tf.mul ${e.toFixed(2)} ms`);
    lines.push(`| ${B} × ${C} | ${m.toFixed(2)} | ${s.toFixed(2)} | ${e.toFixed(2)} | ${(s / m).toFixed(2)}× | ${(m / e).toFixed(2)}× |`);
    tf.dispose([logits, ids, oneHot]);
  }
  return lines.join('\n');
}
