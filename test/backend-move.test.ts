// Tensors made on one backend and used on another: tfjs moves their data on first access.
// On wasm that move allocates on the heap, which can grow it and detach every view taken
// before (issue 14: a tensor of ~8 MB made on cpu and used on wasm threw "Cannot perform
// Construct on a detached ArrayBuffer"). This file runs in a fresh process (vitest's forks
// pool), where the wasm heap is still small, so the move really grows it.
import '@tensorflow/tfjs-backend-wasm';

import { describe, expect, it } from 'vitest';

import { crossEntropy, mixedLoss } from '../src';
import { backendCounts, randomLabels, randomLogits, tf } from './support/tf';

describe('inputs that live on another backend', () => {
  it('8 MB of logits made on cpu, used on wasm: the same loss and gradient as on cpu', async () => {
    const B = 16,
      C = 131072;
    const data = randomLogits(B, C, 3);
    const ids = randomLabels(B, C, 4);
    await tf.setBackend('cpu');
    const cpu = tf.tidy(() => {
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => mixedLoss(q, tf.tensor1d(ids, 'int32')))(tf.tensor2d(data, [B, C]));
      return { value: value.dataSync()[0], grad: grad.dataSync() };
    });
    const fresh = () => ({ logits: tf.tensor2d(data, [B, C]), labels: tf.tensor1d(ids, 'int32') });
    const forLoss = fresh(),
      forGrad = fresh(); // made on cpu
    await tf.setBackend('wasm');
    const before = backendCounts();
    const value = tf.tidy(() => mixedLoss(forLoss.logits, forLoss.labels).dataSync()[0]);
    const grad = tf.tidy(() =>
      tf
        .grad((q: tf.Tensor) => mixedLoss(q, forGrad.labels))(forGrad.logits)
        .dataSync(),
    );
    expect(value).toBe(cpu.value);
    expect(Buffer.from(grad.buffer).equals(Buffer.from(cpu.grad.buffer))).toBe(true); // bit for bit (2M entries)
    tf.dispose([forLoss.logits, forLoss.labels, forGrad.logits, forGrad.labels]);
    expect(backendCounts().pending).toBe(before.pending);
  });

  it('labels made on wasm, used on cpu', async () => {
    await tf.setBackend('wasm');
    const labels = tf.tensor1d([0, 2], 'int32');
    await tf.setBackend('cpu');
    const v = tf.tidy(() =>
      crossEntropy(
        tf.tensor2d([
          [2, 1, 0.1],
          [0, 0, 0],
        ]),
        labels,
        { reduction: 'none' },
      ).dataSync(),
    );
    expect(v[0]).toBeCloseTo(0.417030016278, 6);
    expect(v[1]).toBeCloseTo(Math.log(3), 6);
    labels.dispose();
  });
});
