// CUDA: the build and its behaviour without a device run everywhere; the GPU suite runs only
// where a device is present (it skips, saying why, elsewhere — CI has no GPU).
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, cudaLoss, cudaStatus, DeviceTensor, mixedLoss } from '../src';
import { LossKind } from '../src/kernels/attrs';
import { native } from '../src/native';
import { randomLabels, randomLogits, referenceMixedRow, tf, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

const status = cudaStatus();
const gpu = status.available;
if (!gpu) console.log(`[cuda.test] GPU suite skipped: ${status.compiled ? status.error : 'addon built without CUDA'}`);

describe('CUDA build', () => {
  it('the status says whether the kernels were compiled and why no device is usable', () => {
    expect(typeof status.compiled).toBe('boolean');
    expect(status.compiled).toBe(native().info().cudaCompiled);
    if (!status.available) expect(status.error).toMatch(/\w/);
  });

  it.skipIf(gpu)("without a device, device 'cuda' throws an Error naming the reason, and 'auto' runs on the CPU", () => {
    const q = tf.tensor2d([[2, 1, 0.1]]);
    expect(() => crossEntropy(q, [0], { device: 'cuda' })).toThrow(/device 'cuda' was requested but CUDA is not available/);
    expect(crossEntropy(q, [0], { device: 'auto' }).dataSync()[0]).toBeCloseTo(0.417030016278, 6);
    expect(() => crossEntropy(q, [0], { device: 'gpu' as never })).toThrow(/device must be 'auto', 'cpu' or 'cuda'/);
    if (status.compiled) expect(() => DeviceTensor.upload(new Float32Array(4))).toThrow(/CUDA is not available/);
  });
});

describe.skipIf(!gpu)(`GPU suite on ${status.name ?? 'no device'}`, () => {
  const shapes: Array<[number, number]> = [[1, 1], [3, 7], [64, 1000], [257, 4099], [16, 65536], [2, 1 << 20], [8, 1 << 24]];

  for (const [B, C] of shapes) {
    for (const reduction of ['none', 'sum', 'mean'] as const) {
      it(`${B}×${C} ${reduction}: CUDA against the CPU kernels and float64`, () => {
        const data = randomLogits(B, C, B + C, 5);
        if (C > 100) { data[5] = -Infinity; data.fill(-Infinity, C, C + Math.min(C, 3000)); }
        const ids = randomLabels(B, C, B * 3 + C);
        const y = tf.tensor1d(ids, 'int32');
        const run = (device: 'cpu' | 'cuda') => tf.tidy(() => {
          const q = tf.tensor2d(data, [B, C]);
          const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => {
            const l = mixedLoss(x, y, { alpha: 1, beta: 2.5, reduction, device });
            return reduction === 'none' ? l.sum() : l;
          })(q);
          return { value: value.dataSync()[0], grad: grad.dataSync() };
        });
        const cpu = run('cpu');
        const cuda = run('cuda');
        expect(Math.abs(cuda.value - cpu.value)).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(cpu.value)));
        let worst = 0, scale = 0;
        for (let i = 0; i < cpu.grad.length; i++) {
          worst = Math.max(worst, Math.abs(cuda.grad[i] - cpu.grad[i]));
          scale = Math.max(scale, Math.abs(cpu.grad[i]));
        }
        expect(worst).toBeLessThanOrEqual(1e-5 * scale);
        const ref = referenceMixedRow(data.subarray(0, C), ids[0], 1, 2.5);
        const rows = mixedLoss(tf.tensor2d(data, [B, C]), y, { alpha: 1, beta: 2.5, reduction: 'none', device: 'cuda' }).dataSync();
        expect(Math.abs(rows[0] - ref.value)).toBeLessThan(1e-5 * Math.max(1, ref.value));
        y.dispose();
      });
    }
  }

  it('writes every element (outputs poisoned with NaN beforehand) and keeps NaN rows to themselves', () => {
    const B = 5, C = 10007;
    const data = randomLogits(B, C, 1);
    data[2 * C + 17] = NaN;
    const logits = DeviceTensor.upload(data, [B, C]);
    const labels = DeviceTensor.upload(randomLabels(B, C, 2));
    const r = cudaLoss(logits, labels, { kind: LossKind.mixed, alpha: 1, beta: 1, param0: 0, reduction: 'none', gradient: true });
    const g = r.grad?.download() as Float32Array;
    expect(Number.isNaN(r.rowLoss[2])).toBe(true);
    for (const row of [0, 1, 3, 4]) {
      expect(Number.isFinite(r.rowLoss[row])).toBe(true);
      for (let j = 0; j < C; j++) expect(Number.isFinite(g[row * C + j])).toBe(true);
    }
    [logits, labels, r.stats, r.grad as DeviceTensor].forEach((t) => t.dispose());
  });

  it('rejects labels out of range with an Error before any kernel runs', () => {
    const logits = DeviceTensor.upload(new Float32Array(6), [2, 3]);
    const labels = DeviceTensor.upload(new Int32Array([0, 3]));
    expect(() => cudaLoss(logits, labels, { kind: 0, alpha: 1, beta: 0, param0: 0, reduction: 'mean', gradient: false }))
      .toThrow(/label at row 1 is not a class id in \[0, 3\)/);
    logits.dispose();
    labels.dispose();
  });
});
