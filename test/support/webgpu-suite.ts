// The webgpu suite, run once per Dawn backend (one per process: test/webgpu.test.ts on Vulkan,
// test/webgpu-opengl.test.ts on OpenGL ES/GL at the compatibility feature level), on whatever
// adapter the machine has (a GPU, or Mesa's lavapipe and llvmpipe in CI): the spec's worked
// values, float64 references for every loss and option, the cpu kernels' results for the option
// matrix, numerics (−∞, NaN rows, confident rows, tied maxima), both merging paths of the
// statistics (subgroups where the device has them, and plain), bad input, zero-copy (no
// read-back inside an op), the information ops' boundary and training. Reads are async: tfjs
// cannot read the GPU synchronously in Node. Without an adapter every test is skipped with the
// reason in its name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  complementEntropy,
  crossEntropy,
  expectationLoss,
  focalLoss,
  generalizedCrossEntropy,
  headTopK,
  linearLoss,
  mixedLoss,
  mixedLossForLayers,
  mpceLoss,
  renyiEntropy,
  renyiMutualInformation,
  tamedCrossEntropy,
} from '../../src';
import { SUBGROUPS_FLAG } from '../../src/kernels/webgpu/kernel';
import { KIND_ROWS } from '../../src/kernels/webgpu/kind_rows';
import { lossKinds } from '../../src/losses/registry';
import { setupWebGPU, WebGPUSetup } from '../../src/webgpu';
import { loadDigits, PIXELS } from '../../demo/digits';
import { LOSSES } from './losses';
import { NO_SOFTMAX_ROWS } from './no-softmax-rows';
import { gradientError, maxRelError, referenceComplement, referenceMixedDense, referenceRow, rowLosses, softmax64 } from './reference';
import { randomLabels, randomLogits, rng, tf } from './tf';
import { WORKED_CASES } from './worked-cases';

/** Declares the suite on tfjs's webgpu backend, set up by mixloss/webgpu on this Dawn backend. */
export async function webgpuSuite(dawnBackend: 'vulkan' | 'opengl'): Promise<void> {
  let setup: WebGPUSetup | undefined;
  let reason = '';
  try {
    setup = await setupWebGPU({ backend: dawnBackend });
  } catch (e) {
    reason = (e as Error).message;
  }
  const gpu = setup !== undefined;
  const title = (name: string) => (gpu ? name : `${name} (skipped: ${reason})`);

  /** Runs fn on `backend` and reads what it returns (async: the webgpu backend has no sync read). */
  async function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(list);
    return values;
  }

  const webgpu = (fn: () => tf.Tensor | tf.Tensor[]) => on('webgpu', fn);

  /**
   * The statistics pass's two ways to merge a workgroup's partial sums: with subgroup operations
   * (where the device has them: lavapipe does) and the plain path in workgroup memory.
   */
  const PATHS = setup?.subgroups ? ['subgroups', 'plain'] : ['plain'];
  async function onPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
    tf.env().set(SUBGROUPS_FLAG, path === 'subgroups');
    try {
      return await fn();
    } finally {
      tf.env().set(SUBGROUPS_FLAG, true);
    }
  }

  /** The worst |a − r| over the entries of each row of [rows, classes], relative to the row's largest |r|. */
  function rowRelativeError(a: ArrayLike<number>, r: ArrayLike<number>, rows: number, classes: number): number {
    let worst = 0;
    for (let i = 0; i < rows; i++) {
      let top = 0,
        diff = 0;
      for (let j = i * classes; j < (i + 1) * classes; j++) {
        top = Math.max(top, Math.abs(r[j]));
        diff = Math.max(diff, Number.isNaN(a[j] - r[j]) ? Infinity : Math.abs(a[j] - r[j]));
      }
      worst = Math.max(worst, top === 0 ? diff : diff / top);
    }
    return worst;
  }

  /** Value and gradient of a loss of the logits, on the backend. */
  const valueAndGrad = (backend: string, loss: (q: tf.Tensor) => tf.Tensor, q: Float32Array, shape: [number, number]) =>
    on(backend, () => {
      const { value, grad } = tf.valueAndGrad(loss)(tf.tensor2d(q, shape));
      return [value, grad];
    });

  describe.skipIf(!gpu)(title(`webgpu backend on ${dawnBackend}`), () => {
    beforeAll(async () => {
      await tf.setBackend('webgpu');
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    // The fused head's WGSL kernels (the logits only as tiles) against the cpu head, itself checked
    // against float64 in head.test.ts. Shapes cross the row blocks (32) and a thread's rows (4), the
    // class tiles (64) and a thread's classes (4), the depth steps of the tile (32) and of the
    // gradients' products (32 and 64), and, at 9000 classes, the statistics' class ranges.
    const headCases: Array<{
      name: string;
      N: number;
      D: number;
      C: number;
      lead?: number[];
      floatLabels?: boolean;
      perRowDy?: boolean;
      /** added to the bias: logits that large keep their digits only if p = exp((q − max) − log_sum) */
      biasOffset?: number;
      options: Record<string, unknown>;
    }> = [
      {
        name: 'mixed with bias, class weights, smoothing, z-loss and softcap (mean)',
        N: 9,
        D: 5,
        C: 700,
        options: { kind: 'mixed', alpha: 1, beta: 0.5, labelSmoothing: 0.1, zLoss: 1e-3, softcap: 3, classWeights: true, bias: true },
      },
      {
        name: "focal, no bias, ignoreIndex, float labels, rank-3 hidden ('sum')",
        N: 37,
        D: 21,
        C: 9000,
        lead: [37],
        floatLabels: true,
        options: { kind: 'focal', gamma: 2, alpha: 0.25, ignoreIndex: -1, reduction: 'sum' },
      },
      {
        name: "CE with bias, 'none' and a per-row upstream gradient",
        N: 20,
        D: 33,
        C: 130,
        perRowDy: true,
        options: { kind: 'mixed', alpha: 1, beta: 0, bias: true, reduction: 'none' },
      },
      {
        name: 'mixed with bias across depth steps, partial row groups and a partial four of classes',
        N: 70,
        D: 131,
        C: 301,
        options: { kind: 'mixed', alpha: 1, beta: 0.3, bias: true, reduction: 'sum' },
      },
      {
        name: 'CE with logits near 1e5 (from the bias)',
        N: 8,
        D: 16,
        C: 1000,
        biasOffset: 1e5,
        options: { kind: 'mixed', alpha: 1, beta: 0, bias: true, reduction: 'sum' },
      },
      { name: 'MAE', N: 5, D: 16, C: 64, options: { kind: 'mae', bias: true } },
      { name: 'GCE with truncation', N: 17, D: 4, C: 65, options: { kind: 'generalizedCE', q: 0.7, truncation: 0.005 } },
      { name: 'tamed CE with sample weights', N: 6, D: 3, C: 129, options: { kind: 'tamedCE', a: 0.5, weights: true } },
    ];
    for (const c of headCases) {
      it(`the fused head's kernels give the cpu head's value and gradients: ${c.name}`, async () => {
        const h = randomLogits(c.N, c.D, 3, 1),
          w = randomLogits(c.D, c.C, 4, 1),
          b = randomLogits(1, c.C, 5, 1).map((v) => v + (c.biasOffset ?? 0));
        const y = Array.from(randomLabels(c.N, c.C, 6));
        if (c.options.ignoreIndex !== undefined) for (let r = 0; r < c.N; r += 3) y[r] = c.options.ignoreIndex as number;
        const cw = Array.from(randomLogits(1, c.C, 7, 1), (v) => Math.abs(v) + 0.1);
        const dy = Array.from({ length: c.N }, (_, r) => 0.5 + ((r * 7) % 5));
        const sw = Array.from({ length: c.N }, (_, r) => (r % 4) / 2);
        const step = () => {
          const { bias, classWeights, weights, ...rest } = c.options;
          const labels = c.floatLabels ? tf.tensor(y, c.lead === undefined ? [c.N] : [1, ...c.lead]) : tf.tensor1d(y, 'int32');
          const hShape = c.lead === undefined ? [c.N, c.D] : [1, ...c.lead, c.D];
          const { value, grads } = tf.valueAndGrads((hh: tf.Tensor, ww: tf.Tensor, bb?: tf.Tensor) => {
            const loss = linearLoss(hh, ww, labels, {
              ...(rest as { kind: string }),
              ...(bias ? { bias: bb } : {}),
              ...(classWeights ? { classWeights: cw } : {}),
              ...(weights ? { weights: sw } : {}),
            });
            return c.perRowDy ? tf.sum(tf.mul(loss, dy)) : (loss as tf.Scalar);
          })([tf.tensor(h, hShape), tf.tensor2d(w, [c.D, c.C]), ...(bias ? [tf.tensor1d(b)] : [])]);
          return [value, ...grads];
        };
        // Twice: the second step gets the first one's freed buffers back from tfjs's pool, so a
        // program that counts on a zeroed output would add to stale values there.
        const gpuRuns = [await webgpu(step), await webgpu(step)];
        const cpuOut = await on('cpu', step);
        await tf.setBackend('webgpu');
        for (const gpuOut of gpuRuns) {
          expect(Math.abs(gpuOut[0][0] - cpuOut[0][0]) / Math.abs(cpuOut[0][0])).toBeLessThan(1e-5);
          expect(gpuOut).toHaveLength(cpuOut.length);
          for (let i = 1; i < cpuOut.length; i++)
            expect(rowRelativeError(gpuOut[i], cpuOut[i], 1, cpuOut[i].length), `gradient ${i}`).toBeLessThan(1e-4);
        }
      });
    }

    it('the fused head on webgpu runs its own kernels (no matMul, no [N, C] logits), leaves nothing behind, and every row ignored gives NaN and zero gradients', async () => {
      const [N, D, C] = [8, 4, 300];
      const h = tf.tensor2d(randomLogits(N, D, 8, 1), [N, D]);
      const w = tf.tensor2d(randomLogits(D, C, 9, 1), [D, C]);
      const y = tf.tensor1d(Array.from(randomLabels(N, C, 10)), 'int32');
      const step = (labels: tf.Tensor, options = {}) =>
        tf.valueAndGrads(
          (hh: tf.Tensor, ww: tf.Tensor) => linearLoss(hh, ww, labels, { kind: 'mixed', alpha: 1, beta: 1, ...options }) as tf.Scalar,
        )([h, w]);
      const before = tf.memory().numTensors;
      const profile = await tf.profile(async () => {
        const { value, grads } = step(y);
        await value.data();
        tf.dispose([value, ...grads]);
      });
      expect(profile.kernelNames.filter((k) => /MatMul|Softmax|OneHot/.test(k))).toEqual([]);
      expect(profile.kernels.every((k) => k.outputShapes.every((s) => s.reduce((a, b) => a * b, 1) < N * C))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      const ignored = tf.tensor1d(Array(N).fill(-100), 'int32');
      const { value, grads } = step(ignored, { ignoreIndex: -100 });
      expect(Number.isNaN((await value.data())[0])).toBe(true);
      for (const g of grads) expect(Array.from(await g.data()).every((v) => v === 0)).toBe(true);
      tf.dispose([h, w, y, ignored, value, ...grads]);
    });

    // headTopK's WGSL kernel against the cpu's (itself checked against float64 in head.test.ts):
    // shapes that cross the row blocks (32), the class tiles (64) and, at 9000 classes, the class
    // ranges; ties within a tile and across ranges (the lower id first); k = 1, 5 and 64.
    const topKCases: Array<{ name: string; N: number; D: number; C: number; k: number; lead?: number[]; bias: boolean; softcap?: number }> =
      [
        { name: 'k = 5 with bias over three class ranges, rank-3 hidden', N: 37, D: 21, C: 9000, k: 5, lead: [37], bias: true },
        { name: 'k = 1, softcap, no bias', N: 9, D: 5, C: 700, k: 1, bias: false, softcap: 3 },
        { name: 'k = 64 of 130 classes', N: 64, D: 33, C: 130, k: 64, bias: true },
        { name: 'k = 3 across depth steps and a partial four of classes', N: 41, D: 70, C: 301, k: 3, bias: true },
      ];
    for (const c of topKCases) {
      it(`headTopK's kernel gives the cpu's classes and log-probabilities: ${c.name}`, async () => {
        const h = randomLogits(c.N, c.D, 13, 1),
          w = randomLogits(c.D, c.C, 14, 1),
          b = randomLogits(1, c.C, 15, 1);
        // Class 5 ties class 3 (one tile), and class C − 1 ties class 2 (other ranges at 9000); with a
        // bias, those two lead every row.
        if (c.bias) b[2] += 10;
        for (const [to, from] of [
          [5, 3],
          [c.C - 1, 2],
        ]) {
          for (let d = 0; d < c.D; d++) w[d * c.C + to] = w[d * c.C + from];
          b[to] = b[from];
        }
        const top = () => {
          const { values, indices } = headTopK(
            tf.tensor(h, c.lead === undefined ? [c.N, c.D] : [1, ...c.lead, c.D]),
            tf.tensor2d(w, [c.D, c.C]),
            c.k,
            { ...(c.bias ? { bias: tf.tensor1d(b) } : {}), ...(c.softcap ? { softcap: c.softcap } : {}) },
          );
          expect(values.shape).toEqual([...(c.lead === undefined ? [c.N] : [1, ...c.lead]), c.k]);
          expect(indices.dtype).toBe('int32');
          return [values, indices];
        };
        const [gpuValues, gpuIds] = await webgpu(top);
        const [cpuValues, cpuIds] = await on('cpu', top);
        await tf.setBackend('webgpu');
        // A tied pair's logits are equal on the GPU (each column's product runs the same way) but may
        // differ by a rounding on the cpu (its tiles sum in another order): there the pair may swap.
        const partner = new Map([
          [3, 5],
          [5, 3],
          [2, c.C - 1],
          [c.C - 1, 2],
        ]);
        for (let i = 0; i < gpuIds.length; i++)
          if (gpuIds[i] !== cpuIds[i]) expect(partner.get(cpuIds[i]), `entry ${i}: ${gpuIds[i]} for ${cpuIds[i]}`).toBe(gpuIds[i]);
        for (let r = 0; r < gpuIds.length / c.k; r++) {
          const row = Array.from(gpuIds.subarray(r * c.k, (r + 1) * c.k));
          for (const [lo, hi] of [
            [3, 5],
            [2, c.C - 1],
          ])
            if (row.includes(lo) && row.includes(hi)) expect(row.indexOf(lo), `row ${r}: ${lo} before ${hi}`).toBeLessThan(row.indexOf(hi));
        }
        expect(maxRelError(gpuValues, cpuValues, 1)).toBeLessThan(1e-4);
      });
    }

    it('headTopK on webgpu runs its own kernel: no read-back, no matMul, no [N, C] buffer, nothing left behind; k past its limit is an Error', async () => {
      await tf.setBackend('webgpu');
      const [N, D, C] = [40, 8, 3000];
      const h = tf.mul(tf.randomNormal([N, D], 0, 1, 'float32', 16), 1);
      const w = tf.mul(tf.randomNormal([D, C], 0, 1, 'float32', 17), 1);
      const before = tf.memory().numTensors;
      const reads = { count: 0 };
      const profile = await countingReads(reads, () =>
        gpuOnly(() =>
          tf.profile(() => {
            const { values, indices } = headTopK(h, w, 3);
            tf.dispose([values, indices]);
          }),
        ),
      );
      expect(reads.count).toBe(0);
      expect(profile.kernelNames).toEqual(['MixlossHeadTopK']);
      expect(profile.kernels.every((k) => k.outputShapes.every((s) => s.reduce((a, b) => a * b, 1) < N * C))).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      // Rank-3 hidden (flattened for the kernel, the results reshaped back): nothing left either.
      const h3 = tf.reshape(h, [2, N / 2, D]);
      const before3 = tf.memory().numTensors;
      const top3 = headTopK(h3, w, 3);
      expect(top3.values.shape).toEqual([2, N / 2, 3]);
      expect(top3.indices.shape).toEqual([2, N / 2, 3]);
      tf.dispose([top3.values, top3.indices]);
      expect(tf.memory().numTensors).toBe(before3);
      h3.dispose();
      // A row of NaN features: no class enters its list (class −1, log p −∞), as on the cpu.
      const nanRow = tf.tidy(() => tf.concat([tf.fill([1, D], NaN), tf.slice(h, [1, 0], [N - 1, D])]));
      const [gpuIds, gpuValues] = await webgpu(() => {
        const { values, indices } = headTopK(nanRow, w, 2);
        return [indices, values];
      });
      const [hostH, hostW] = [await nanRow.data(), await w.data()];
      const [cpuIds, cpuValues] = await on('cpu', () => {
        const { values, indices } = headTopK(tf.tensor2d(hostH, [N, D]), tf.tensor2d(hostW, [D, C]), 2);
        return [indices, values];
      });
      await tf.setBackend('webgpu');
      expect(Array.from(gpuIds.subarray(0, 2))).toEqual([-1, -1]);
      expect(Array.from(gpuValues.subarray(0, 2))).toEqual([-Infinity, -Infinity]);
      expect(Array.from(gpuIds)).toEqual(Array.from(cpuIds));
      expect(Array.from(gpuValues.subarray(0, 2))).toEqual(Array.from(cpuValues.subarray(0, 2)));
      nanRow.dispose();
      expect(() => headTopK(h, w, 65)).toThrow(
        /headTopK: k = 65 is more than the webgpu kernel keeps \(k ≤ 64\); run headTopK on the cpu or wasm backend/,
      );
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([h, w]);
    });

    it('setupWebGPU refuses unknown options and backends, and a second call returns the first setup', async () => {
      await expect(setupWebGPU({ backnd: 'vulkan' } as never)).rejects.toThrow(
        /mixloss\/webgpu: unknown option 'backnd' \(known: backend, powerPreference, dawnFlags\)/,
      );
      await expect(setupWebGPU({ backend: 'metal' } as never)).rejects.toThrow(/backend must be 'vulkan' or 'opengl', got "metal"/);
      const other = dawnBackend === 'vulkan' ? 'opengl' : 'vulkan';
      await expect(setupWebGPU({ backend: other })).rejects.toThrow(new RegExp(`already set up on ${dawnBackend}`));
      expect(await setupWebGPU({ backend: dawnBackend })).toBe(setup);
      expect(tf.getBackend()).toBe('webgpu');
    });

    it('runs on the adapter mixloss/webgpu set up, and every loss kind of the registry has a WGSL kernel', async () => {
      expect(tf.getBackend()).toBe('webgpu');
      expect(setup?.maxStorageBufferBindingSize).toBeGreaterThan(0);
      // The device has subgroups exactly when the adapter offers them.
      const gpuApi = (globalThis as unknown as { navigator: { gpu: { requestAdapter(o: object): Promise<{ features: Set<string> }> } } })
        .navigator.gpu;
      const adapter = await gpuApi.requestAdapter(dawnBackend === 'opengl' ? { featureLevel: 'compatibility' } : {});
      expect(setup?.subgroups).toBe(adapter.features.has('subgroups'));
      expect((tf.backend() as unknown as { device: { features: Set<string> } }).device.features.has('subgroups')).toBe(setup?.subgroups);
      // Linear kinds from their α and β; the others from their kind_row (test/registry.test.ts checks the table).
      for (const kind of lossKinds().values()) expect(kind.linear || KIND_ROWS[kind.name] !== undefined).toBe(true);
    });

    for (const c of WORKED_CASES) {
      it(`worked value: ${c.name}`, async () => {
        const [value, grad] = await webgpu(() => {
          const labels = tf.tensor1d([c.label], 'int32');
          const { value: v, grad: g } = tf.valueAndGrad((q: tf.Tensor) => c.fn(q, labels))(tf.tensor2d([c.logits]));
          return [v, g];
        });
        expect(value[0]).toBeCloseTo(c.value, 6);
        c.grad.forEach((gj, j) => expect(grad[j]).toBeCloseTo(gj, 6));
      });
    }

    // Whole rows (a team of 32, 64 or 128 threads each, several to a workgroup), and few rows of
    // many classes (the split statistics pass), each read a float at a time (classes not a multiple
    // of 4) and four at a time (vec4).
    // The last two take a whole workgroup per row or slice: there each merging path runs.
    const shapes: Array<[number, number]> = [
      [16, 10],
      [8, 1000],
      [5, 2000],
      [3, 9001],
      [2, 70000],
    ];
    for (const loss of LOSSES) {
      it(`float64 reference: ${loss.name}, rows and gradient at ${shapes.map((s) => s.join('×')).join(', ')} (${PATHS.join(', ')})`, async () => {
        for (const [B, C] of shapes)
          for (const path of C > 4096 ? PATHS : ['plain'])
            await onPath(path, async () => {
              const q = randomLogits(B, C, B + C, 4);
              const y = randomLabels(B, C, C);
              const [rows] = await webgpu(() => loss.op(tf.tensor2d(q, [B, C]), tf.tensor1d(y, 'int32'), { reduction: 'none' }));
              const [grad] = await webgpu(() =>
                tf.grad((x: tf.Tensor) => loss.op(x, tf.tensor1d(y, 'int32'), { reduction: 'sum' }))(tf.tensor2d(q, [B, C])),
              );
              const refRows: number[] = [];
              const refGrad = new Float64Array(B * C);
              for (let r = 0; r < B; r++) {
                const ref = referenceRow(loss.reference, q.subarray(r * C, (r + 1) * C), y[r]);
                refRows.push(ref.value);
                refGrad.set(ref.grad, r * C);
              }
              // The cpu suites' gradient tolerance (reference.test.ts, GRAD_TOL); measured here: rows
              // 6.9e-7, gradient 2.8e-6 at worst (lavapipe).
              expect(maxRelError(rows, refRows)).toBeLessThan(2e-6);
              expect(gradientError(grad, refGrad, B, C)).toBeLessThan(1e-5);
            });
      });
    }

    // The option matrix against the cpu kernels (checked against float64 references in their own
    // suites), on the same inputs: every kind, weights, ignoreIndex, smoothing, z-loss, targets.
    // Two shapes: few classes (a thread per column), and 5000 (several columns per thread, and the
    // split statistics pass).
    interface Data {
      B: number;
      C: number;
      q: Float32Array;
      ids: Int32Array;
      cw: Float32Array;
      sw: Float32Array;
      soft: Float32Array;
    }
    const data = ([B, C]: [number, number], seed: number): Data => {
      const ids = randomLabels(B, C, seed + 1);
      ids[3] = -100;
      const soft = new Float32Array(B * C);
      for (let r = 0; r < B; r++)
        softmax64(randomLogits(1, C, 100 + r, 2)).p.forEach((v, j) => {
          soft[r * C + j] = v;
        });
      return {
        B,
        C,
        q: randomLogits(B, C, seed, 3),
        ids,
        soft,
        cw: Float32Array.from({ length: C }, (_, j) => 0.3 + ((j * 7) % 11) / 8), // their mean over the rows is not 1
        sw: Float32Array.from({ length: B }, (_, r) => (r % 4) / 2),
      };
    };
    const inputs = [data([12, 37], 5), data([6, 5000], 7)];
    const labels = (d: Data) =>
      tf.tensor1d(
        d.ids.map((v) => (v < 0 ? 0 : v)),
        'int32',
      );
    const withIgnored = (d: Data) => tf.tensor1d(d.ids, 'int32');
    type Case = { name: string; loss: (q: tf.Tensor, d: Data) => tf.Tensor };
    const matrix: Case[] = [
      { name: 'crossEntropy, class weights, mean (PyTorch)', loss: (x, d) => crossEntropy(x, labels(d), { classWeights: d.cw }) },
      {
        name: "crossEntropy, class weights, ignoreIndex and z-loss, mean (Liger's z term over the rows counted)",
        loss: (x, d) => crossEntropy(x, withIgnored(d), { classWeights: d.cw, ignoreIndex: -100, zLoss: 0.05 }),
      },
      { name: 'crossEntropy, sample weights, mean', loss: (x, d) => crossEntropy(x, labels(d), { weights: tf.tensor1d(d.sw) }) },
      {
        name: 'crossEntropy, sample weights, SUM_BY_NONZERO_WEIGHTS',
        loss: (x, d) => crossEntropy(x, labels(d), { weights: tf.tensor1d(d.sw), reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS }),
      },
      {
        name: 'crossEntropy, class and sample weights, none',
        loss: (x, d) =>
          crossEntropy(x, labels(d), { weights: tf.tensor1d(d.sw), classWeights: d.cw, reduction: 'none' })
            .mul(tf.range(1, d.B + 1))
            .sum(),
      },
      { name: 'crossEntropy, ignoreIndex, mean', loss: (x, d) => crossEntropy(x, withIgnored(d), { ignoreIndex: -100 }) },
      {
        name: 'crossEntropy, ignoreIndex and class weights',
        loss: (x, d) => crossEntropy(x, withIgnored(d), { ignoreIndex: -100, classWeights: d.cw }),
      },
      { name: 'crossEntropy, label smoothing 0.1', loss: (x, d) => crossEntropy(x, labels(d), { labelSmoothing: 0.1 }) },
      {
        name: 'crossEntropy, label smoothing with class weights',
        loss: (x, d) => crossEntropy(x, labels(d), { labelSmoothing: 0.2, classWeights: d.cw }),
      },
      {
        name: 'mixedLoss α=1 β=2, smoothing, z-loss, sum',
        loss: (x, d) => mixedLoss(x, labels(d), { alpha: 1, beta: 2, labelSmoothing: 0.1, zLoss: 1e-3, reduction: 'sum' }),
      },
      { name: 'mixedLoss on soft targets', loss: (x, d) => mixedLoss(x, tf.tensor2d(d.soft, [d.B, d.C]), { alpha: 1, beta: 1 }) },
      { name: 'crossEntropy on int32 one-hot (tf.oneHot)', loss: (x, d) => crossEntropy(x, tf.oneHot(labels(d), d.C)) },
      { name: 'crossEntropy on float32 class ids [B, 1]', loss: (x, d) => crossEntropy(x, labels(d).toFloat().reshape([d.B, 1])) },
      { name: 'focalLoss γ=2, per-class alpha', loss: (x, d) => focalLoss(x, labels(d), { gamma: 2, alpha: Array.from(d.cw) }) },
      {
        name: 'generalizedCrossEntropy q=0.7 truncation 0.05',
        loss: (x, d) => generalizedCrossEntropy(x, labels(d), { q: 0.7, truncation: d.C > 100 ? 2e-4 : 0.05 }),
      },
      { name: 'tamedCrossEntropy a=0.5, ignoreIndex', loss: (x, d) => tamedCrossEntropy(x, withIgnored(d), { ignoreIndex: -100 }) },
      { name: 'mpceLoss', loss: (x, d) => mpceLoss(x, labels(d)) },
      {
        name: 'mpceLoss, class weights, ignoreIndex',
        loss: (x, d) => mpceLoss(x, withIgnored(d), { classWeights: d.cw, ignoreIndex: -100 }),
      },
      { name: 'complementEntropy', loss: (x, d) => complementEntropy(x, labels(d)) },
      {
        name: 'crossEntropy, rank-3 logits and softcap',
        loss: (x, d) => crossEntropy(x.reshape([d.B / 2, 2, d.C]), labels(d).reshape([d.B / 2, 2]), { softcap: 5 }),
      },
      {
        name: 'mixedLoss α=1 β=0.5, softcap 0.5 (tanh saturated: the chain factor without cancellation)',
        loss: (x, d) => mixedLoss(x, labels(d), { alpha: 1, beta: 0.5, softcap: 0.5, reduction: 'sum' }),
      },
    ];
    for (const c of matrix) {
      it(`agrees with the cpu kernels: ${c.name}, at ${inputs.map((d) => `${d.B}×${d.C}`).join(' and ')} (${PATHS.join(', ')})`, async () => {
        for (const d of inputs)
          for (const path of d.C > 4096 ? PATHS : ['plain'])
            await onPath(path, async () => {
              const [v1, g1] = await valueAndGrad('cpu', (x) => c.loss(x, d), d.q, [d.B, d.C]);
              const [v2, g2] = await valueAndGrad('webgpu', (x) => c.loss(x, d), d.q, [d.B, d.C]);
              // f32 on the GPU against the cpu kernels' double accumulators: measured at worst 1.2e-7 on
              // the value and, entry by entry, 6.3e-5 on the gradient at 12×37 (complement entropy's r_j,
              // from a float cot_lse: webgpu 4.8e-5 from float64 there, cpu 1.4e-5). At 6×5000 single
              // entries are differences of terms ~1e4 times larger (both sides round them in float), so
              // there each entry is held to 1e-5 of its row's largest; the float64-reference tests above
              // hold every entry at 2×70000.
              expect(Math.abs(v2[0] - v1[0])).toBeLessThan(1e-6 * Math.max(1, Math.abs(v1[0])));
              if (d.C < 100) expect(gradientError(g2, g1, d.B, d.C)).toBeLessThan(1e-4);
              else expect(rowRelativeError(g2, g1, d.B, d.C)).toBeLessThan(1e-5);
            });
      });
    }

    it("dy reaches the gradient: reduction 'none' with a per-row upstream gradient", async () => {
      const d = inputs[0];
      const dy = Float32Array.from({ length: d.B }, (_, r) => r - 4);
      const loss = (x: tf.Tensor) => tf.sum(tf.mul(crossEntropy(x, labels(d), { reduction: 'none' }), tf.tensor1d(dy)));
      const [, g1] = await valueAndGrad('cpu', loss, d.q, [d.B, d.C]);
      const [, g2] = await valueAndGrad('webgpu', loss, d.q, [d.B, d.C]);
      expect(gradientError(g2, g1, d.B, d.C)).toBeLessThan(1e-4);
    });

    it('numerics: a masked class (−∞) adds nothing; a masked target gives CE = ∞ and EL = 1', async () => {
      const [rows, grad] = await webgpu(() => {
        const x = tf.tensor2d([
          [1, -Infinity, 0],
          [2, -Infinity, 0.5],
        ]);
        const y = tf.tensor1d([0, 1], 'int32');
        return [
          crossEntropy(x, y, { reduction: 'none' }),
          tf.grad((z: tf.Tensor) => mixedLoss(z, tf.tensor1d([0, 2], 'int32'), { reduction: 'sum' }))(x),
        ];
      });
      expect(rows[0]).toBeCloseTo(Math.log1p(Math.exp(-1)), 6);
      expect(rows[1]).toBe(Infinity);
      expect(grad[1]).toBe(0);
      expect(grad[4]).toBe(0);
      expect(Array.from(grad).every(Number.isFinite)).toBe(true);
      const [el] = await webgpu(() =>
        mixedLoss(tf.tensor2d([[1, -Infinity, 0]]), tf.tensor1d([1], 'int32'), { alpha: 0, beta: 1, reduction: 'none' }),
      );
      expect(el[0]).toBe(1);
    });

    it('numerics: for every loss a masked class (−∞) gets gradient 0 and the rest match the cpu kernels, at 4 and 5 classes', async () => {
      const ops = [...LOSSES.map((l) => l.op), complementEntropy, mpceLoss];
      for (const op of ops) {
        for (const row of [
          [1, -Infinity, 0, 0.5],
          [1, -Infinity, 0, 0.5, -2],
        ]) {
          const run = () => tf.grad((z: tf.Tensor) => op(z, tf.tensor1d([0], 'int32'), { reduction: 'sum' }))(tf.tensor2d([row]));
          const [cpu] = await on('cpu', run);
          const [grad] = await webgpu(run);
          expect(grad[1]).toBe(0);
          expect(Array.from(grad).every(Number.isFinite)).toBe(true);
          expect(gradientError(grad, cpu, 1, row.length)).toBeLessThan(1e-5);
        }
      }
    });

    it(`numerics with a whole workgroup per row (${PATHS.join(', ')}): a NaN row, masked columns, a nearly masked row, a tied max, as on cpu`, async () => {
      const B = 4,
        C = 6000;
      const q = randomLogits(B, C, 11, 3);
      q[4321] = NaN; // row 0
      q.fill(-Infinity, C + 100, C + 3000); // row 1: masked columns
      q.fill(-Infinity, 2 * C, 3 * C); // row 2: all masked but two
      q[2 * C + 7] = 0.5;
      q[2 * C + 5000] = 2;
      for (const j of [10, 14, 2000, 5000]) q[3 * C + j] = 9; // row 3: its max four times, in neighbouring threads and apart (MPCE: the first)
      const y = [3, 5, 7, 5999];
      const ops: Array<[string, (x: tf.Tensor, ids: tf.Tensor) => tf.Tensor]> = [
        ['crossEntropy', (x, ids) => crossEntropy(x, ids, { reduction: 'none' })],
        ['crossEntropy, smoothing', (x, ids) => crossEntropy(x, ids, { labelSmoothing: 0.1, reduction: 'none' })],
        ['mpceLoss', (x, ids) => mpceLoss(x, ids, { reduction: 'none' })],
        ['complementEntropy', (x, ids) => complementEntropy(x, ids, { reduction: 'none' })],
      ];
      for (const [name, op] of ops) {
        const run = () => {
          const ids = tf.tensor1d(y, 'int32');
          const rows = op(tf.tensor2d(q, [B, C]), ids);
          return [rows, tf.grad((x: tf.Tensor) => tf.sum(op(x, ids)))(tf.tensor2d(q, [B, C]))];
        };
        const [rows1, g1] = await on('cpu', run);
        for (const path of PATHS) {
          const [rows2, g2] = await onPath(path, () => webgpu(run));
          expect(rows2[0], `${name} (${path})`).toBeNaN();
          expect(g2.subarray(0, C).every(Number.isNaN), `${name} (${path})`).toBe(true);
          for (let r = 1; r < B; r++) {
            if (Number.isFinite(rows1[r]))
              expect(Math.abs(rows2[r] - rows1[r]), `${name} (${path}) row ${r}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(rows1[r])));
            else expect(rows2[r], `${name} (${path}) row ${r}`).toBe(rows1[r]); // smoothing over masked classes: ∞
          }
          expect(rowRelativeError(g2.subarray(C), g1.subarray(C), B - 1, C), `${name} (${path})`).toBeLessThan(1e-5);
        }
      }
      // Both paths really ran: tfjs compiled a statistics program of each kind.
      const keys = Object.keys((tf.findBackend('webgpu') as unknown as { pipelineCache: object }).pipelineCache);
      for (const path of PATHS)
        expect(keys.some((k) => /^mixloss_slices_team256_/.test(k) && k.includes('_subgroups_') === (path === 'subgroups'))).toBe(true);
    });

    it('numerics: a NaN in a row makes that row NaN (value and gradient) and leaves the others', async () => {
      const [rows, grad] = await webgpu(() => {
        const x = tf.tensor2d([
          [1, NaN, 0],
          [2, 1, 0.5],
        ]);
        const y = tf.tensor1d([0, 1], 'int32');
        return [crossEntropy(x, y, { reduction: 'none' }), tf.grad((z: tf.Tensor) => crossEntropy(z, y, { reduction: 'sum' }))(x)];
      });
      expect(rows[0]).toBeNaN();
      expect(rows[1]).toBeCloseTo(referenceRow((lp) => ({ value: -lp, dlp: -1 }), [2, 1, 0.5], 1).value, 6);
      expect(Array.from(grad.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      expect(Array.from(grad.subarray(3)).every(Number.isFinite)).toBe(true);
    });

    it('numerics: a row entirely −∞, or holding +∞, is NaN (value and gradient) in complement entropy and CE, as on cpu', async () => {
      // (Complement entropy's statistic over the other classes alone read 0 or a number there.)
      const { logits: q, ids, undefinedRows: n } = NO_SOFTMAX_ROWS;
      for (const op of [complementEntropy, crossEntropy]) {
        const [rows, grad] = await webgpu(() => {
          const x = tf.tensor2d(q);
          return [op(x, ids, { reduction: 'none' }), tf.grad((z: tf.Tensor) => op(z, ids, { reduction: 'sum' }))(x)];
        });
        expect(Array.from(rows.subarray(0, n)), op.name).toEqual(Array(n).fill(NaN));
        expect(Array.from(grad.subarray(0, 3 * n)).every(Number.isNaN), op.name).toBe(true);
        expect(Number.isFinite(rows[n]) && Array.from(grad.subarray(3 * n)).every(Number.isFinite), op.name).toBe(true);
      }
    });

    it('numerics: complement entropy with the target 90 to 1e5 above the rest (its others rebased to q_y underflow f32 and f64) keeps r_j: value and gradient as float64', async () => {
      for (const gap of [90, 120, 400, 732, 1e5]) {
        // Differences the f32 subtraction q_j − q_y rounds: the rounding must come back.
        const rows = [
          [0.3711, gap + 0.1237, 1.2345, 0.5],
          [-0.3, 2.17, 0.7, gap + 3.3],
        ];
        const ids = [1, 3];
        const [values, grad] = await webgpu(() => {
          const x = tf.tensor2d(rows);
          const y = tf.tensor1d(ids, 'int32');
          return [
            complementEntropy(x, y, { reduction: 'none' }),
            tf.grad((v: tf.Tensor) => complementEntropy(v, y, { reduction: 'sum' }))(x),
          ];
        });
        rows.forEach((row, r) => {
          const ref = referenceComplement(row.map(Math.fround), ids[r]);
          expect(Math.abs(values[r] - ref.value), `gap ${gap}, row ${r}`).toBeLessThan(1e-6);
          ref.grad.forEach((want, j) =>
            expect(Math.abs(grad[4 * r + j] - want), `gap ${gap}, row ${r}, class ${j}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(want))),
          );
        });
      }
    });

    it('numerics: logits near 1e4 and 1e5 keep their digits: CE on soft targets, label smoothing, and the gradients of CE and complement entropy, as float64', async () => {
      // f32 sums of t·q and a shift max + log_sum rounded to one f32 were ~1e-3 off here: each
      // is now a difference of a logit and a float near it first, then small terms.
      const [B, C] = [4, 1000];
      const y = [3, 50, 700, 999];
      for (const offset of [16384, 1e5]) {
        const q = randomLogits(B, C, 31, 3).map((v) => v + offset);
        y.forEach((k, r) => (q[r * C + k] += 2));
        const t = new Float32Array(B * C);
        for (let r = 0; r < B; r++) {
          t.fill(1e-4, r * C + 100, r * C + 600);
          t[r * C + y[r]] = 0.95;
        }
        const [ce, smoothed, gce, gcot] = await webgpu(() => {
          const x = tf.tensor2d(q, [B, C]);
          const ids = tf.tensor1d(y, 'int32');
          return [
            crossEntropy(x, tf.tensor2d(t, [B, C]), { reduction: 'none' }),
            crossEntropy(x, ids, { labelSmoothing: 0.1, reduction: 'none' }),
            tf.grad((v: tf.Tensor) => crossEntropy(v, ids, { reduction: 'sum' }))(x),
            tf.grad((v: tf.Tensor) => complementEntropy(v, ids, { reduction: 'sum' }))(x),
          ];
        });
        for (let r = 0; r < B; r++) {
          const row = q.subarray(r * C, (r + 1) * C);
          const wantCe = referenceMixedDense(row, t.subarray(r * C, (r + 1) * C), 1, 0).value;
          const smooth = Array.from({ length: C }, (_, j) => 0.1 / C + (j === y[r] ? 0.9 : 0));
          const wantSmoothed = referenceMixedDense(row, smooth, 1, 0).value;
          expect(Math.abs(ce[r] - wantCe) / wantCe, `offset ${offset}, row ${r}: CE on soft targets`).toBeLessThan(1e-5);
          expect(Math.abs(smoothed[r] - wantSmoothed) / wantSmoothed, `offset ${offset}, row ${r}: smoothing`).toBeLessThan(1e-5);
        }
        const refCe = new Float64Array(B * C);
        const refCot = new Float64Array(B * C);
        const cotScale = new Float64Array(B * C); // the size of the terms each entry is a difference of
        for (let r = 0; r < B; r++) {
          const row = q.subarray(r * C, (r + 1) * C);
          referenceRow(rowLosses.mixed(1, 0), row, y[r]).grad.forEach((g, j) => (refCe[r * C + j] = g));
          const cot = referenceComplement(row, y[r]);
          cot.grad.forEach((g, j) => (refCot[r * C + j] = g));
          cot.scale.forEach((g, j) => (cotScale[r * C + j] = g));
        }
        expect(gradientError(gce, refCe, B, C), `offset ${offset}: CE's gradient`).toBeLessThan(1e-5);
        expect(gradientError(gcot, refCot, B, C, cotScale), `offset ${offset}: complement entropy's gradient`).toBeLessThan(1e-5);
      }
    });

    it('numerics: confident rows keep CE, EL and the gradient exact (no cancellation in 1 − p_y)', async () => {
      const C2 = 1000;
      const x = new Float32Array(4 * C2);
      x[0] = 30; // row 0: p_y = 1 − 999·e^−30 (1 + 999·e^−30 rounds to 1 in f32)
      x[C2 + 5] = 1e4; // row 1: huge logits, p_y = 1 − 999·e^−1e4 (EL underflows to 0)
      x[C2 + 6] = 1e4 - 20;
      x[2 * C2] = 16; // row 2: p_y = 1 − 1.1e−4: log1p and expm1 past their first branch
      x[3 * C2] = 8.3; // row 3: p_y = 0.80: log1p's series where its higher terms count
      const [ce, el, gce, grad] = await webgpu(() => {
        const t = tf.tensor2d(x, [4, C2]);
        const y = tf.tensor1d([0, 5, 0, 0], 'int32');
        return [
          crossEntropy(t, y, { reduction: 'none' }),
          mixedLoss(t, y, { alpha: 0, beta: 1, reduction: 'none' }),
          generalizedCrossEntropy(t, y, { q: 0.7, reduction: 'none' }),
          tf.grad((z: tf.Tensor) => crossEntropy(z, y, { reduction: 'sum' }))(t),
        ];
      });
      const others2 = 999 * Math.exp(-16),
        others3 = 999 * Math.exp(-Math.fround(8.3));
      expect(Math.abs(ce[2] - Math.log1p(others2)) / Math.log1p(others2)).toBeLessThan(1e-5);
      expect(Math.abs(ce[3] - Math.log1p(others3)) / Math.log1p(others3)).toBeLessThan(1e-5);
      const gce2 = -Math.expm1(-0.7 * Math.log1p(others2)) / 0.7;
      expect(Math.abs(gce[2] - gce2) / gce2).toBeLessThan(1e-5);
      const others = 999 * Math.exp(-30);
      expect(Math.abs(ce[0] - Math.log1p(others)) / Math.log1p(others)).toBeLessThan(1e-5);
      expect(Math.abs(el[0] - others / (1 + others)) / others).toBeLessThan(1e-5);
      expect(Math.abs(grad[0] + others / (1 + others)) / others).toBeLessThan(1e-5);
      expect(Math.abs(ce[1] - Math.exp(-20)) / Math.exp(-20)).toBeLessThan(1e-5);
      expect(grad[C2 + 6]).toBeCloseTo(Math.exp(-20), 12);
    });

    it('logits from an int32 cast (sharing the int32 buffer) give the float value, as read and as vec4', async () => {
      for (const C of [3, 4]) {
        const ints = Array.from(randomLabels(64 * C, 5, 17 + C));
        const ids = Array.from(randomLabels(64, C, 19));
        const [value, grad] = await webgpu(() => {
          const q = tf.tensor2d(ints, [64, C], 'int32').toFloat();
          const { value: v, grad: g } = tf.valueAndGrad((x: tf.Tensor) => crossEntropy(x, ids))(q);
          return [v, g];
        });
        let want = 0;
        const wantGrad = new Float64Array(64 * C);
        for (let r = 0; r < 64; r++) {
          const ref = referenceRow(rowLosses.mixed(1, 0), ints.slice(r * C, (r + 1) * C), ids[r]);
          want += ref.value / 64;
          wantGrad.set(
            ref.grad.map((x) => x / 64),
            r * C,
          );
        }
        expect(maxRelError(value, [want])).toBeLessThan(2e-6);
        expect(gradientError(grad, wantGrad, 64, C)).toBeLessThan(1e-5);
        // int32 logits as they are: the op casts them, as tf.losses takes them.
        const [direct] = await webgpu(() => [crossEntropy(tf.tensor2d(ints, [64, C], 'int32'), ids)]);
        expect(maxRelError(direct, [want])).toBeLessThan(2e-6);
      }
    });

    it('a mixloss shader that fails to compile is thrown by the next mixloss call (WebGPU reports it late)', async () => {
      await tf.setBackend('webgpu');
      const device = (tf.backend() as unknown as { device: { createShaderModule(d: { code: string }): unknown } }).device;
      device.createShaderModule({ code: 'fn ml_broken() -> f32 { return 1i; }' });
      const x = tf.tensor2d([[1, 2, 3]]);
      let thrown: Error | undefined;
      for (let i = 0; i < 50 && thrown === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        try {
          tf.dispose(crossEntropy(x, [0]));
        } catch (e) {
          thrown = e as Error;
        }
      }
      expect(thrown?.message).toMatch(
        /^mixloss\.crossEntropy: a WebGPU program of an earlier mixloss call failed to compile on this device.*f32/,
      );
      // Thrown once: the next call runs.
      const [v] = await webgpu(() => crossEntropy(x, [0]));
      expect(v[0]).toBeCloseTo(referenceRow(rowLosses.mixed(1, 0), [1, 2, 3], 0).value, 5);
      x.dispose();
    });

    it('bad input the host still holds throws before any program runs, as on cpu', async () => {
      await tf.setBackend('webgpu');
      const x = tf.tensor2d([
        [1, 2, 3],
        [0, 1, 0],
      ]);
      expect(() => crossEntropy(x, tf.tensor1d([0, 3], 'int32'))).toThrow(
        /mixloss\.crossEntropy: label 3 at row 1 is not a class id in \[0, 3\)/,
      );
      expect(() => crossEntropy(x, tf.tensor1d([0, 1.5]))).toThrow(/label 1\.5 at row 1 is not a class id/);
      expect(() => crossEntropy(x, [0, 1], { weights: tf.tensor1d([1, -1]) })).toThrow(/weights\[1\] must be a finite number >= 0, got -1/);
      expect(() => crossEntropy(x, [0, 1], { classWeights: tf.tensor1d([1, NaN, 1]) })).toThrow(
        /classWeights\[1\] must be a finite number >= 0/,
      );
      expect(() =>
        crossEntropy(
          x,
          tf.tensor2d([
            [0.5, 0.6, 0],
            [1, 0, 0],
          ]),
        ),
      ).toThrow(/labels row 0 sums to 1\.1, so the labels are not targets/);
      expect(() => crossEntropy(x, [0, 1], { device: 'cuda' })).toThrow(/device "cuda" applies to the cpu and wasm backends/);
      tf.dispose(x);
    });

    /** Runs fn with the backend's reads (async and sync) counted in reads.count. */
    async function countingReads<T>(reads: { count: number }, fn: () => Promise<T>): Promise<T> {
      const backend = tf.backend() as unknown as { read: unknown; readSync: unknown };
      const { read, readSync } = backend;
      const counted =
        (f: unknown) =>
        (...a: unknown[]) => {
          reads.count++;
          return (f as (...b: unknown[]) => unknown).apply(backend, a);
        };
      backend.read = counted(read);
      backend.readSync = counted(readSync);
      try {
        return await fn();
      } finally {
        backend.read = read;
        backend.readSync = readSync;
      }
    }

    /** Runs fn with tfjs computing small ops on the GPU too (not forwarded to the CPU), so results live there only. */
    async function gpuOnly<T>(fn: () => Promise<T>): Promise<T> {
      const forward = tf.env().getBool('WEBGPU_CPU_FORWARD');
      tf.env().set('WEBGPU_CPU_FORWARD', false);
      try {
        return await fn();
      } finally {
        tf.env().set('WEBGPU_CPU_FORWARD', forward);
      }
    }

    it('bad input that lives on the GPU gives NaN rows (value and gradient), never garbage', async () => {
      const [rows, grad, weighted, smoothedFocal, masked] = await gpuOnly(() =>
        webgpu(() => {
          const x = tf.tensor2d([
            [1, 2, 3],
            [0, 1, 0],
            [3, 2, 1],
          ]);
          const y = tf.add(tf.tensor1d([0, 5, 1], 'int32'), 0); // computed on the GPU: no host copy
          const w = tf.mul(tf.tensor1d([1, 1, -1]), 1);
          return [
            crossEntropy(x, y, { reduction: 'none' }),
            tf.grad((z: tf.Tensor) => crossEntropy(z, y, { reduction: 'sum' }))(x),
            crossEntropy(x, tf.add(tf.tensor1d([0, 1, 2], 'int32'), 0), { weights: w, reduction: 'none' }),
            // Class ids that stock ops read (focal's smoothed one-hot) or change (the rows `where`
            // leaves out, row 1 here): the bad one still makes its row NaN.
            focalLoss(x, y, { labelSmoothing: 0.1, reduction: 'none' }),
            crossEntropy(x, y, { where: [true, false, true], reduction: 'none' }),
          ];
        }),
      );
      for (const r of [smoothedFocal, masked]) {
        expect(r[1]).toBeNaN();
        expect(Number.isFinite(r[0]) && Number.isFinite(r[2])).toBe(true);
      }
      expect(Number.isFinite(rows[0]) && Number.isFinite(rows[2])).toBe(true);
      expect(rows[1]).toBeNaN();
      expect(Array.from(grad.subarray(3, 6)).every(Number.isNaN)).toBe(true);
      expect(Array.from(grad.subarray(0, 3)).every(Number.isFinite)).toBe(true);
      expect(weighted[2]).toBeNaN();
      expect(Number.isFinite(weighted[0])).toBe(true);
    });

    it('rows `where` leaves out are ignored, as on cpu: class ids int32 or float, held by the host or computed on the GPU', async () => {
      // The op marks a left-out row with a class id of its own, filled on the GPU: tfjs's webgpu
      // fill passes its value as an f32, so the id must be one float32 holds (such rows were NaN).
      const x = [
        [1, 2, 3],
        [0, 1, 0],
        [3, 2, 1],
        [2, 0, 1],
      ];
      const run = (dtype: 'int32' | 'float32', computed: boolean) => {
        const q = tf.tensor2d(x);
        const given = tf.tensor1d([0, 1, 2, 1], dtype);
        const y = computed ? tf.add(given, 0) : given;
        const perClass = tf.tensor2d([
          [true, true, true],
          [false, false, false], // no class left: the row is left out
          [true, false, true],
          [true, true, true],
        ]);
        return [
          crossEntropy(q, y, { where: [true, false, true, false], reduction: 'none' }),
          crossEntropy(q, y, { where: [true, false, true, false] }),
          tf.grad((z: tf.Tensor) => crossEntropy(z, y, { where: [true, false, true, false] }))(q),
          expectationLoss(q, y, { where: perClass, reduction: 'none' }),
          focalLoss(q, y, { where: perClass, gamma: 2 }),
        ];
      };
      for (const dtype of ['int32', 'float32'] as const) {
        for (const computed of [false, true]) {
          const [want, got] = [await on('cpu', () => run(dtype, computed)), await gpuOnly(() => webgpu(() => run(dtype, computed)))];
          got.forEach((g, k) => expect(maxRelError(g, want[k]), `${dtype}, computed ${computed}, output ${k}`).toBeLessThan(1e-5));
          expect(Array.from(got[0])).toEqual([expect.any(Number), 0, expect.any(Number), 0]);
          expect(got[3][1]).toBe(0);
        }
      }
    });

    it('a class axis moved on the GPU: a bool mask, int32 targets and logits cast from int32 give the cpu values', async () => {
      // tfjs's webgpu transpose of rank 3 does not compile for values stored as int32 (bool,
      // int32, and float32 casts of them) and drops the whole command buffer: the op moves them
      // as float32. [2, C, 3] with C = 700 is past the size tfjs hands to its cpu path.
      const [B, C, T] = [2, 700, 3];
      const r = rng(17);
      const q = Array.from({ length: B * C * T }, () => Math.round((r() - 0.5) * 8));
      const keep = Array.from({ length: B * C * T }, () => r() < 0.8);
      const hot = Array.from({ length: B * C * T }, (_, k) => (Math.floor(k / T) % C === (k % T) * 7 ? 1 : 0));
      const ids = [0, 7, 14, 3, 9, 699];
      ids.forEach((c, row) => (keep[Math.floor(row / T) * C * T + c * T + (row % T)] = true)); // no target masked: finite CE
      const run = () => {
        const logits = tf.tensor3d(q, [B, C, T]);
        const fromInts = tf.cast(tf.tensor3d(q, [B, C, T], 'int32'), 'float32'); // shares the int32 buffer on webgpu
        const y = tf.tensor2d(ids, [B, T], 'int32');
        const where = tf.tensor3d(keep, [B, C, T], 'bool');
        return [
          crossEntropy(logits, y, { axis: 1, where, reduction: 'none' }),
          tf.grad((z: tf.Tensor) => expectationLoss(z, y, { axis: 1, where }))(logits),
          crossEntropy(logits, tf.tensor3d(hot, [B, C, T], 'int32'), { axis: 1, reduction: 'none' }),
          crossEntropy(fromInts, y, { axis: 1, reduction: 'none' }),
        ];
      };
      const [want, got] = [await on('cpu', run), await gpuOnly(() => webgpu(run))];
      got.forEach((g, k) => expect(maxRelError(g, want[k]), `output ${k}`).toBeLessThan(1e-5));
    });

    it("random valid calls (every loss op, options, axis, where, dense targets) give the cpu backend's value and gradient", async () => {
      // Seeded; the calls the metamorphic fuzzer of test/fuzz-api.test.ts makes, past the size tfjs
      // hands to its cpu path too. This found rows a mask leaves out marked NaN and a moved class
      // axis reading stale values.
      const r = rng(2);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
      const ops = {
        crossEntropy,
        expectationLoss,
        mixedLoss,
        focalLoss,
        generalizedCrossEntropy,
        tamedCrossEntropy,
        mpceLoss,
        complementEntropy,
      };
      const linear = new Set(['crossEntropy', 'expectationLoss', 'mixedLoss', 'focalLoss']);
      const problems: string[] = [];
      for (let i = 0; i < 60; i++) {
        const name = pick(Object.keys(ops)) as keyof typeof ops;
        const lead = r() < 0.5 ? [int(1, 4), int(1, 3)] : [int(1, 6)];
        const C = pick([int(1, 6), int(7, 40), int(300, 1500)]);
        const rows = lead.reduce((a, b) => a * b, 1);
        const dense = linear.has(name) && C > 1 && r() < 0.4;
        const o: Record<string, unknown> = { reduction: pick(['mean', 'sum', 'none']) };
        if (r() < 0.3) o.weights = Array.from({ length: rows }, () => r() * 2);
        if (r() < 0.3) o.classWeights = Array.from({ length: C }, () => r() * 2);
        if (!dense && r() < 0.5) o.ignoreIndex = -100;
        const masked = r() < 0.4;
        if (linear.has(name) && (dense || !masked) && r() < 0.3) o.labelSmoothing = pick([0.1, 0.3]);
        if (r() < 0.2) o.zLoss = 1e-3;
        if (r() < 0.2) o.softcap = pick([3, 30]);
        const atOne = lead.length === 2 && r() < 0.4;
        if (name === 'mixedLoss') Object.assign(o, { alpha: 1, beta: pick([0, 0.5, 2]) });
        if (name === 'focalLoss') o.gamma = pick([0, 2]);
        if (name === 'generalizedCrossEntropy') o.q = 0.7;
        if (name === 'tamedCrossEntropy') o.a = 0.5;
        const scale = pick([1, 8, 50]);
        // Values in the layout the call takes: [...lead, C], or [lead0, C, lead1] for axis 1.
        const shape = atOne ? [lead[0], C, lead[1]] : [...lead, C];
        const at = (row: number, c: number) =>
          atOne ? Math.floor(row / lead[1]) * C * lead[1] + c * lead[1] + (row % lead[1]) : row * C + c;
        const q = new Array<number>(rows * C),
          t = new Array<number>(rows * C),
          keep = new Array<boolean>(rows * C);
        const ids = Array.from({ length: rows }, () => (r() < 0.1 && o.ignoreIndex !== undefined ? -100 : int(0, C - 1)));
        for (let row = 0; row < rows; row++) {
          const raw = Array.from({ length: C }, () => r());
          const total = raw.reduce((a, b) => a + b, 0);
          for (let c = 0; c < C; c++) {
            q[at(row, c)] = (r() - 0.5) * scale;
            t[at(row, c)] = raw[c] / total;
            keep[at(row, c)] = r() < 0.8;
          }
        }
        const call = `${name} [${shape}]${atOne ? ' axis 1' : ''} ${dense ? 'targets' : 'class ids'} ${JSON.stringify(o)}${masked ? ' where' : ''}`;
        const run = () => {
          const f = ops[name] as (q: unknown, y: unknown, o?: unknown) => tf.Tensor;
          const y = dense ? tf.tensor(t, shape) : tf.tensor(ids, lead, 'int32');
          const options = {
            ...o,
            ...(o.weights ? { weights: tf.tensor(o.weights as number[], lead) } : {}),
            ...(masked ? { where: tf.tensor(keep, shape, 'bool') } : {}),
            ...(atOne ? { axis: 1 } : {}),
          };
          const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => tf.sum(f(x, y, options)))(tf.tensor(q, shape));
          return [value, grad, f(tf.tensor(q, shape), y, options)];
        };
        const [want, got] = [await on('cpu', run), await gpuOnly(() => webgpu(run))];
        ['sum', 'gradient', 'value'].forEach((what, k) => {
          const agree = Array.from(got[k]).every(
            (v, j) =>
              v === want[k][j] ||
              Math.abs(v - want[k][j]) <= 2e-4 * Math.max(1, Math.abs(want[k][j])) ||
              (Number.isNaN(v) && Number.isNaN(want[k][j])),
          );
          if (!agree) problems.push(`${what}: ${call}`);
        });
      }
      await tf.setBackend('webgpu');
      expect(problems.slice(0, 5)).toEqual([]);
    });

    it("inputs past the device's binding limit throw an Error that says how to split", async () => {
      await tf.setBackend('webgpu');
      const limit = setup?.maxStorageBufferBindingSize ?? 0;
      const C2 = 1 << 20;
      const rows = Math.floor(limit / 4 / C2) + 1;
      const x = tf.tensor2d(new Float32Array(rows * C2), [rows, C2]); // held by the host until a program binds it
      expect(() => crossEntropy(x, [0, ...new Array(rows - 1).fill(1)])).toThrow(
        /maxStorageBufferBindingSize = \d+ bytes\); split the batch into parts of at most \d+ rows/,
      );
      tf.dispose(x);
    });

    it("the fused head refuses a kernel past the device's binding limit with what to do, and leaves nothing behind", async () => {
      await tf.setBackend('webgpu');
      const limit = setup?.maxStorageBufferBindingSize ?? 0;
      const C = Math.floor(limit / 4) + 1;
      const h = tf.tensor2d([[1], [2]]);
      const w = tf.tensor2d(new Float32Array(C), [1, C]); // held by the host until a program binds it
      const before = tf.memory().numTensors;
      expect(() => linearLoss(h, w, [0, 1], { kind: 'mixed' })).toThrow(
        /linearLoss: the kernel \[D, C\] .*maxStorageBufferBindingSize = \d+ bytes\).*run the head on the cpu or wasm backend/,
      );
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([h, w]);
    });

    it('zero-copy: forward and backward read nothing back from the GPU and leave no tensors behind', async () => {
      await tf.setBackend('webgpu');
      const reads = { count: 0 };
      await countingReads(reads, () =>
        gpuOnly(async () => {
          const x = tf.mul(tf.randomNormal([64, 5000], 0, 1, 'float32', 3), 1);
          const y = tf.add(
            tf.tensor1d(
              Array.from({ length: 64 }, (_, i) => (i * 31) % 5000),
              'int32',
            ),
            0,
          );
          const w = tf.mul(tf.ones([64]), 0.5);
          reads.count = 0; // x, y and w were computed on the GPU and live there only
          const before = { tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds() };
          // 64 × 5000 takes the split statistics pass: its slices buffer must be freed too.
          const g = tf.grad((z: tf.Tensor) => focalLoss(z, y, { weights: w }))(x);
          expect(reads.count).toBe(0);
          expect(tf.memory().numTensors).toBe(before.tensors + 1);
          expect(tf.engine().backend.numDataIds()).toBe(before.dataIds + 1);
          tf.dispose([g, x, y, w]);
        }),
      );
    });

    it('model.fit on real digits (mnist package): trains as the same model does on the cpu backend', async () => {
      const digits = loadDigits(30, 10);
      const fit = async (backend: string) => {
        await tf.setBackend(backend);
        const model = tf.sequential({
          layers: [
            tf.layers.dense({
              inputShape: [PIXELS],
              units: 32,
              activation: 'relu',
              kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
            }),
            tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
          ],
        });
        model.compile({ optimizer: tf.train.sgd(0.1), loss: mixedLossForLayers({ alpha: 1, beta: 1 }) });
        const x = tf.tensor2d(digits.xTrain, [digits.nTrain, PIXELS]);
        const y = tf.oneHot(tf.tensor1d(digits.yTrain, 'int32'), 10).toFloat();
        const h = await model.fit(x, y, { epochs: 4, batchSize: 30, verbose: 0, shuffle: false });
        const predicted = model.predict(tf.tensor2d(digits.xTest, [digits.nTest, PIXELS])) as tf.Tensor;
        const guess = await tf.argMax(predicted, 1).data();
        const accuracy = digits.yTest.filter((c, i) => guess[i] === c).length / digits.nTest;
        tf.dispose([x, y, predicted]);
        model.dispose();
        return { loss: h.history.loss as number[], accuracy };
      };
      const onCpu = await fit('cpu');
      const onGpu = await fit('webgpu');
      expect(onGpu.loss[3]).toBeLessThan(onGpu.loss[0] * 0.7);
      onGpu.loss.forEach((l, i) => expect(Math.abs(l - onCpu.loss[i])).toBeLessThan(1e-3 * onCpu.loss[i]));
      expect(onGpu.accuracy).toBeGreaterThan(0.6);
    });

    it('the Rényi information ops run on data the host holds as on cpu, and refuse GPU-resident data with what to do', async () => {
      const layer = Float32Array.from({ length: 12 * 5 }, (_, i) => Math.sin(i * 1.7));
      const ids = Int32Array.from({ length: 12 }, (_, i) => i % 3);
      const mi = (z: tf.Tensor) => renyiMutualInformation(tf.tensor1d(ids, 'int32'), z, { width: 1.5 });
      const run = () => {
        const { value, grad } = tf.valueAndGrad(mi)(tf.tensor2d(layer, [12, 5]));
        return [value, grad];
      };
      const [v1, g1] = await on('cpu', run);
      const [v2, g2] = await webgpu(run);
      expect(Math.abs(v2[0] - v1[0])).toBeLessThan(1e-6);
      expect(gradientError(g2, g1, 12, 5)).toBeLessThan(1e-6);
      await tf.setBackend('webgpu');
      // Computed on the GPU (small ops are not forwarded to the cpu): no host copy.
      const [onGpu, idsOnGpu] = await gpuOnly(async () => [tf.relu(tf.tensor2d(layer, [12, 5])), tf.add(tf.tensor1d(ids, 'int32'), 0)]);
      try {
        expect(() => mi(onGpu)).toThrow(
          /renyiMutualInformation: layer lives in GPU memory on the webgpu backend.*cpu or wasm backend.*tf\.tensor\(await layer\.data\(\), layer\.shape\)/,
        );
        expect(() => renyiEntropy(onGpu)).toThrow(/renyiEntropy: layer lives in GPU memory/);
        expect(() => renyiMutualInformation(idsOnGpu, tf.tensor2d(layer, [12, 5]))).toThrow(
          /renyiMutualInformation: labels lives in GPU memory/,
        );
        const copy = tf.tensor(await onGpu.data(), onGpu.shape);
        expect(Number.isFinite((await renyiMutualInformation(tf.tensor1d(ids, 'int32'), copy).data())[0])).toBe(true);
        copy.dispose();
      } finally {
        tf.dispose([onGpu, idsOnGpu]);
      }
    });
  });
}
