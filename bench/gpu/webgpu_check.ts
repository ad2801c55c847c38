// The WGSL kernels on this machine's webgpu adapter (a real GPU's Vulkan driver where there is
// one) against the cpu backend, at sizes the lavapipe suite cannot reach: the fused head's value
// and three gradients, headTopK, and the loss op's value and gradient. Prints a line per case
// and exits 1 if any differs beyond float32 accumulation (relative L2 error > 1e-4).
//   node dist/bench/gpu/webgpu_check.js [--json FILE] [--quick]   (--quick: small shapes, for a
//   software adapter or a trial run)
import { writeFileSync } from 'fs';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

import { crossEntropy, headTopK, linearLoss } from '../../src';
import { setupWebGPU } from '../../src/webgpu';
import { uniformValues } from '../random';

const TOLERANCE = 1e-4;

interface Result {
  name: string;
  worst: number;
  ms: number;
  pass: boolean;
}

/** Deterministic float32 values in [−scale, scale). */
const values = (n: number, seed: number, scale: number) => uniformValues(n, seed, -scale, scale);

/** ‖a − b‖ / ‖b‖ (NaN where they hold NaN in different places). */
function relativeL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return NaN;
    if (Number.isNaN(b[i])) continue;
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

/** Runs `f` on a backend and reads its tensors back (the time includes the read-back). */
async function on(backend: string, f: () => tf.Tensor[]): Promise<{ out: Float32Array[]; ms: number }> {
  await tf.setBackend(backend);
  const t0 = performance.now();
  const tensors = tf.tidy(f);
  const out = await Promise.all(tensors.map(async (t) => Float32Array.from(await t.data())));
  const ms = performance.now() - t0;
  tf.dispose(tensors);
  return { out, ms };
}

/**
 * headTopK's [values, ids]: the values' relative L2 error, or Infinity where an id differs and its
 * value does not tie the cpu's (a near tie may order two classes either way).
 */
function topKError(gpu: Float32Array[], cpu: Float32Array[]): number {
  for (let i = 0; i < cpu[1].length; i++) {
    if (gpu[1][i] !== cpu[1][i] && Math.abs(gpu[0][i] - cpu[0][i]) > 1e-5 * Math.max(1, Math.abs(cpu[0][i]))) return Infinity;
  }
  return relativeL2(gpu[0], cpu[0]);
}

async function compare(
  name: string,
  f: () => tf.Tensor[],
  results: Result[],
  error = (gpu: Float32Array[], cpu: Float32Array[]) => Math.max(...cpu.map((c, i) => relativeL2(gpu[i], c))),
): Promise<void> {
  await on('webgpu', f); // compiles the programs
  const gpu = await on('webgpu', f);
  const cpu = await on('cpu', f);
  const worst = error(gpu.out, cpu.out);
  const pass = worst <= TOLERANCE;
  results.push({ name, worst, ms: gpu.ms, pass });
  console.log(`${pass ? 'PASS' : 'FAIL'}  ${name}: worst relative L2 ${worst.toExponential(2)}, webgpu ${gpu.ms.toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const jsonAt = process.argv.indexOf('--json');
  const quick = process.argv.includes('--quick');
  const setup = await setupWebGPU();
  console.log(
    `adapter: ${setup.adapter.description || setup.adapter.device} (${setup.adapter.vendor}, ${setup.backend}${setup.software ? ', software' : ''})`,
  );
  const results: Result[] = [];
  const shrink = (n: number) => (quick ? Math.max(1, Math.ceil(n / 16)) : n);
  const heads: Array<[number, number, number, Record<string, unknown>]> = [
    [256, 256, 32768, { kind: 'mixed', alpha: 1, beta: 0 }],
    [1000, 128, 10000, { kind: 'mixed', alpha: 1, beta: 0.5, labelSmoothing: 0.1, softcap: 15, classWeights: true }],
    [33, 513, 70001, { kind: 'focal', gamma: 2, alpha: 0.25, bias: false }],
    [4097, 64, 1000, { kind: 'mixed', alpha: 1, beta: 0, reduction: 'none', zLoss: 1e-3 }],
  ].map(([N, D, C, o]) => [shrink(N as number), D as number, shrink(C as number), o as Record<string, unknown>]);
  for (const [N, D, C, o] of heads) {
    const h = values(N * D, 1, 1);
    const w = values(D * C, 2, 0.1);
    const b = values(C, 3, 0.5);
    const cw = Array.from(values(C, 4, 0.5), (x) => 1 + x);
    const y = Int32Array.from(values(N, 5, 1), (x) => Math.floor(((x + 1) / 2) * C) % C);
    const { bias = true, classWeights = false, ...loss } = o;
    const step = () => {
      const labels = tf.tensor1d(y, 'int32');
      const dy = tf.tensor1d(values(N, 6, 1));
      const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => {
        const out = linearLoss(hh, ww, labels, {
          ...(loss as { kind: string }),
          ...(bias ? { bias: bb } : {}),
          ...(classWeights ? { classWeights: cw } : {}),
        });
        return out.rank === 0 ? (out as tf.Scalar) : (tf.sum(tf.mul(out, dy)) as tf.Scalar);
      })([tf.tensor2d(h, [N, D]), tf.tensor2d(w, [D, C]), ...(bias ? [tf.tensor1d(b)] : [])]);
      return [value, ...grads];
    };
    await compare(`head ${N} × ${D} × ${C} ${JSON.stringify(o)}: value and gradients`, step, results);
    if (N <= 1000) {
      const top = () => {
        const { values: v, indices } = headTopK(tf.tensor2d(h, [N, D]), tf.tensor2d(w, [D, C]), 5, bias ? { bias: tf.tensor1d(b) } : {});
        return [v, tf.cast(indices, 'float32')];
      };
      await compare(`headTopK ${N} × ${D} × ${C}, k = 5`, top, results, topKError);
    }
  }
  for (const [B, C] of [
    [128, 32768],
    [32, 262144],
    [4096, 1000],
  ].map(([B, C]) => [shrink(B), shrink(C)])) {
    const q = values(B * C, 7, 4);
    const y = Int32Array.from(values(B, 8, 1), (x) => Math.floor(((x + 1) / 2) * C) % C);
    const step = () => {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => crossEntropy(x, tf.tensor1d(y, 'int32')) as tf.Scalar)(
        tf.tensor2d(q, [B, C]),
      );
      return [value, grad];
    };
    await compare(`crossEntropy ${B} × ${C}: value and gradient`, step, results);
  }
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ adapter: setup.adapter, results }, null, 1));
  const failed = results.filter((r) => !r.pass).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
