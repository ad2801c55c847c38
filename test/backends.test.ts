// The generic (copying) path: on the wasm backend, and forced on cpu. Same numbers as the
// zero-copy cpu path.
import '@tensorflow/tfjs-backend-wasm';

import { afterAll, describe, expect, it } from 'vitest';

import { crossEntropy, focusToWeights, mixedLoss } from '../src';
import { storageOverrides } from '../src/kernels/register';
import { genericStorage } from '../src/kernels/storage';
import { randomLabels, randomLogits, tf } from './support/tf';

function lossAndGrad(B: number, C: number, seed: number, dense = false) {
  return tf.tidy(() => {
    const logits = tf.tensor2d(randomLogits(B, C, seed), [B, C]);
    const ids = tf.tensor1d(randomLabels(B, C, seed + 1), 'int32');
    const labels = dense ? tf.oneHot(ids, C).toFloat() : ids;
    const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => mixedLoss(q, labels, focusToWeights(0.3)))(logits);
    return { value: value.dataSync()[0], grad: grad.dataSync() };
  });
}

async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return fn();
}

describe('generic path', () => {
  afterAll(async () => { delete storageOverrides.cpu; await tf.setBackend('cpu'); });

  for (const [B, C, dense] of [[1, 1, false], [16, 300, false], [3, 5000, true], [40, 1000, false]] as Array<[number, number, boolean]>) {
    it(`wasm backend matches cpu at ${B}×${C}${dense ? ' (dense)' : ''}`, async () => {
      const cpu = await onBackend('cpu', () => lossAndGrad(B, C, B + C, dense));
      const wasm = await onBackend('wasm', () => lossAndGrad(B, C, B + C, dense));
      expect(tf.getBackend()).toBe('wasm');
      expect(wasm.value).toBe(cpu.value);
      expect(Array.from(wasm.grad)).toEqual(Array.from(cpu.grad));
    });
  }

  it('wasm backend: worked value, bad labels throw, no leaks', async () => {
    await onBackend('wasm', () => {
      const before = tf.memory().numTensors;
      const v = tf.tidy(() => crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [0]).dataSync()[0]);
      expect(v).toBeCloseTo(0.417030016278, 6);
      expect(() => tf.tidy(() => crossEntropy(tf.tensor2d([[2, 1, 0.1]]), [3]))).toThrow(/label 3(\.0+)? at row 0/);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it('forced on the cpu backend, it matches the zero-copy path exactly', async () => {
    const zeroCopy = await onBackend('cpu', () => lossAndGrad(12, 777, 5));
    storageOverrides.cpu = genericStorage;
    const generic = lossAndGrad(12, 777, 5);
    delete storageOverrides.cpu;
    expect(generic.value).toBe(zeroCopy.value);
    expect(Array.from(generic.grad)).toEqual(Array.from(zeroCopy.grad));
  });

  it('cpu storage reads int32-backed float tensors (tf.cast shares the Int32Array)', async () => {
    await onBackend('cpu', () => {
      const v = tf.tidy(() => crossEntropy(tf.cast(tf.tensor2d([[2, 1, 0]], [1, 3], 'int32'), 'float32'), [0]).dataSync()[0]);
      expect(v).toBeCloseTo(Math.log(1 + Math.exp(-1) + Math.exp(-2)), 6);
    });
  });
});
