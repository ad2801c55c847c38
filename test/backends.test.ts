// The wasm backend (zero-copy views on its heap) and the generic copying path (forced on
// cpu and on wasm): the same numbers as the zero-copy cpu path.
import '@tensorflow/tfjs-backend-wasm';

import { afterAll, describe, expect, it, vi } from 'vitest';

import { complementEntropy, crossEntropy, focalLoss, focusToWeights, mixedLoss, mpceLoss } from '../src';
import { storageOverrides } from '../src/kernels/register';
import { native } from '../src/native';
import { genericStorage } from '../src/kernels/backends';
import { LOSSES } from './support/losses';
import { backendCounts, randomLabels, randomLogits, tf, thrownBy, withSeparateBackward } from './support/tf';

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
  afterAll(async () => {
    delete storageOverrides.cpu;
    delete storageOverrides.wasm;
    await tf.setBackend('cpu');
  });

  for (const [B, C, dense] of [
    [1, 1, false],
    [16, 300, false],
    [3, 5000, true],
    [40, 1000, false],
  ] as Array<[number, number, boolean]>) {
    it(`wasm backend matches cpu at ${B}×${C}${dense ? ' (dense)' : ''}`, async () => {
      const cpu = await onBackend('cpu', () => lossAndGrad(B, C, B + C, dense));
      const wasm = await onBackend('wasm', () => lossAndGrad(B, C, B + C, dense));
      expect(tf.getBackend()).toBe('wasm');
      expect(wasm.value).toBe(cpu.value);
      expect(Array.from(wasm.grad)).toEqual(Array.from(cpu.grad));
    });
  }

  it('wasm backend: worked value; bad label values throw and leave no heap buffer behind', async () => {
    await onBackend('wasm', () => {
      const q = tf.tensor2d([[2, 1, 0.1]]);
      const bad = tf.tensor1d([3], 'int32');
      const before = backendCounts();
      const v = tf.tidy(() => crossEntropy(q, [0]).dataSync()[0]);
      expect(v).toBeCloseTo(0.417030016278, 6);
      // Issue 13: outputs were allocated before the native label check, so each call with a
      // bad label leaked 2–3 heap buffers (numDataIds 1 → 26 after 10 calls).
      for (let i = 0; i < 10; i++) {
        expect(thrownBy(() => crossEntropy(q, bad)).message).toMatch(/label 3(\.0+)? at row 0/);
        expect(thrownBy(() => tf.grad((x: tf.Tensor) => crossEntropy(x, bad))(q)).message).toMatch(/label 3/);
      }
      expect(backendCounts()).toEqual(before);
      tf.dispose([q, bad]);
    });
  });

  /** run() on cpu's zero-copy storage, then with the generic (copying) one forced: the same numbers. */
  async function expectGenericMatchesZeroCopy(run: () => number[]): Promise<void> {
    const zeroCopy = await onBackend('cpu', run);
    storageOverrides.cpu = genericStorage;
    try {
      expect(run()).toEqual(zeroCopy);
    } finally {
      delete storageOverrides.cpu;
    }
  }

  for (const loss of LOSSES) {
    it(`generic path forced on cpu: ${loss.name} matches the zero-copy path exactly, forward and backward`, async () => {
      const run = () =>
        tf.tidy(() => {
          const q = tf.tensor2d(randomLogits(6, 300, 8), [6, 300]);
          const y = tf.tensor1d(randomLabels(6, 300, 9), 'int32');
          const rows = loss.op(q, y, { reduction: 'none' }).dataSync();
          const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss.op(x, y))(q);
          const separate = withSeparateBackward(() => tf.grad((x: tf.Tensor) => loss.op(x, y, { reduction: 'sum' }))(q));
          return [...rows, value.dataSync()[0], ...grad.dataSync(), ...separate.dataSync()];
        });
      await expectGenericMatchesZeroCopy(run);
    });
  }

  it('generic path forced on cpu: every kernel option (class weights input, ignoreIndex, smoothing, z-loss, MPCE, COT) matches the zero-copy path', async () => {
    const run = () =>
      tf.tidy(() => {
        const q = tf.tensor2d(randomLogits(6, 300, 18), [6, 300]);
        const ids = Array.from(randomLabels(6, 300, 19));
        ids[3] = -1;
        const out: number[] = [];
        for (const f of [
          (x: tf.Tensor) =>
            crossEntropy(x, ids, {
              classWeights: Array.from({ length: 300 }, (_, c) => 1 + (c % 4)),
              ignoreIndex: -1,
              labelSmoothing: 0.2,
              zLoss: 1e-3,
            }),
          (x: tf.Tensor) => mpceLoss(x, ids, { ignoreIndex: -1 }),
          (x: tf.Tensor) => complementEntropy(x, ids, { ignoreIndex: -1 }),
        ]) {
          const { value, grad } = tf.valueAndGrad(f)(q);
          const separate = withSeparateBackward(() => tf.grad(f)(q));
          out.push(value.dataSync()[0], ...grad.dataSync(), ...separate.dataSync());
        }
        return out;
      });
    await expectGenericMatchesZeroCopy(run);
  });

  it('cpu: tensors over a SharedArrayBuffer are valid input (issue 14: "Invalid argument")', async () => {
    await onBackend('cpu', () => {
      const B = 3,
        C = 5;
      const shared = new Float32Array(new SharedArrayBuffer(B * C * 4));
      shared.set(randomLogits(B, C, 12));
      const ids = new Int32Array(new SharedArrayBuffer(B * 4));
      ids.set(randomLabels(B, C, 13));
      const run = (logits: Float32Array, labels: Int32Array) =>
        tf.tidy(() => {
          const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => mixedLoss(q, tf.tensor1d(labels, 'int32')))(
            tf.tensor2d(logits, [B, C]),
          );
          return [value.dataSync()[0], ...grad.dataSync()];
        });
      expect(run(shared, ids)).toEqual(run(Float32Array.from(shared), Int32Array.from(ids)));
    });
  });

  it('generic path forced on wasm matches the zero-copy wasm path exactly', async () => {
    const zeroCopy = await onBackend('wasm', () => lossAndGrad(12, 777, 5));
    storageOverrides.wasm = genericStorage;
    const generic = lossAndGrad(12, 777, 5);
    const dense = lossAndGrad(3, 100, 6, true);
    delete storageOverrides.wasm;
    expect(generic.value).toBe(zeroCopy.value);
    expect(Array.from(generic.grad)).toEqual(Array.from(zeroCopy.grad));
    expect(Array.from(dense.grad)).toEqual(Array.from(lossAndGrad(3, 100, 6, true).grad));
  });

  it('wasm: training steps with heap growth in between leak no heap memory', async () => {
    await onBackend('wasm', () => {
      const y = tf.tensor1d(randomLabels(64, 5000, 1), 'int32');
      const w = tf.variable(tf.randomNormal([32, 5000], 0, 0.1, 'float32', 2));
      const x = tf.randomNormal([64, 32], 0, 1, 'float32', 3);
      const opt = tf.train.sgd(0.1);
      const step = () => opt.minimize(() => mixedLoss(tf.matMul(x, w), y), true) as tf.Scalar;
      step().dispose();
      const before = tf.memory();
      const dataIds = tf.engine().backend.numDataIds();
      const losses: number[] = [];
      for (let i = 0; i < 10; i++) {
        // A large allocation in between can grow (and move) the heap under later views.
        tf.tidy(() => tf.zeros([4096, 1024]).sum().dataSync());
        const l = step();
        losses.push(l.dataSync()[0]);
        l.dispose();
      }
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      expect(tf.engine().backend.numDataIds()).toBe(dataIds);
      expect(losses[9]).toBeLessThan(losses[0]);
      tf.dispose([y, w, x]);
      opt.dispose();
    });
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: losses on the tape that never get a backward are evicted, freeing their memory`, async () => {
      await onBackend(backend, () => {
        const q = tf.tensor2d(randomLogits(4, 3000, 9), [4, 3000]);
        const y = tf.tensor1d(randomLabels(4, 3000, 10), 'int32');
        const grad = () =>
          tf.tidy(() =>
            tf
              .grad((x: tf.Tensor) => {
                for (let i = 0; i < 12; i++) mixedLoss(x, y); // recorded, not part of the result
                return mixedLoss(x, y, { alpha: 1, beta: 2 });
              })(q)
              .dataSync(),
          );
        const first = grad();
        const before = backendCounts(); // data ids count buffers the engine does not track
        const bytes = tf.memory().numBytes;
        // 13 forwards on the tape keep at most 8 gradients: the ninth drops the first and marks
        // the tape crowded, and the last four compute none (their backward recomputes). None of
        // the 8 waiting is differentiated; the next tape's first forward drops them.
        expect(before.pending).toBe(8);
        const again = grad();
        expect(backendCounts()).toEqual(before);
        expect(tf.memory().numBytes).toBe(bytes);
        expect(Array.from(again)).toEqual(Array.from(first));
        tf.dispose([q, y]);
      });
    });
  }

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: a loss on a tape that is not differentiated (a metric in model.fit) is dropped when a later tape records one`, async () => {
      await onBackend(backend, () => {
        const q = tf.tensor2d(randomLogits(4, 300, 11), [4, 300]);
        const y = tf.tensor1d(randomLabels(4, 300, 12), 'int32');
        for (let step = 0; step < 5; step++) {
          tf.tidy(() =>
            tf.grad((x: tf.Tensor) => {
              mixedLoss(x, y); // recorded, not part of the result: its backward never comes
              return tf.sum(x);
            })(q),
          );
          // Only this tape's: every earlier tape's was dropped by this tape's forward.
          expect(backendCounts().pending).toBe(1);
        }
        tf.dispose([q, y]);
      });
    });

    it(`${backend}: a loss inside tf.customGrad's forward (not recorded) computes no gradient there`, async () => {
      await onBackend(backend, () => {
        const q = tf.tensor2d(randomLogits(4, 30, 13), [4, 30]);
        const y = tf.tensor1d(randomLabels(4, 30, 14), 'int32');
        const f = tf.customGrad((x, save) => {
          save([x as tf.Tensor]);
          return { value: mixedLoss(x as tf.Tensor, y), gradFunc: (dy, [saved]) => tf.mul(dy, tf.onesLike(saved)) };
        });
        // A tape that takes its own gradient leaves none waiting (earlier tapes' are dropped).
        tf.grad((x: tf.Tensor) => mixedLoss(x, y))(q).dispose();
        expect(backendCounts().pending).toBe(0);
        const g = tf.grad((x: tf.Tensor) => f(x) as tf.Tensor)(q);
        expect(Array.from(g.dataSync())).toEqual(new Array(120).fill(1));
        expect(backendCounts().pending).toBe(0);
        tf.dispose([q, y, g]);
      });
    });
  }

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: a forward no tape records allocates nothing of the rows' size (its row statistics stay off the backend)`, async () => {
      await onBackend(backend, async () => {
        const q = tf.tensor2d(randomLogits(256, 10, 15), [256, 10]);
        const y = tf.tensor1d(randomLabels(256, 10, 16), 'int32');
        crossEntropy(q, y).dispose();
        const bytes = tf.memory().numBytes;
        const profile = await tf.profile(() => crossEntropy(q, y).dispose());
        // The loss (4 bytes) and the statistics output's trailer (8): not 256 rows of statistics.
        expect(profile.peakBytes - bytes).toBeLessThanOrEqual(16);
        // Under a tape the statistics are kept for the backward pass, and the gradient is right.
        const g = tf.grad((x: tf.Tensor) => crossEntropy(x, y))(q);
        const want = tf.grad((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), x))(q);
        expect(Math.max(...Array.from(tf.tidy(() => tf.abs(tf.sub(g, want))).dataSync()))).toBeLessThan(1e-6);
        tf.dispose([q, y, g, want]);
      });
    });
  }

  // A pending gradient dropped before its backward pass (more losses on one tape than wait: 8):
  // the backward pass recomputes it from the saved row statistics.
  const B = 24;
  const C = 37;
  const dropped: Array<[string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor]> = [
    ['crossEntropy', (x, y) => crossEntropy(x, y)],
    ['mixedLoss β=2, reduction sum', (x, y) => mixedLoss(x, y, { alpha: 1, beta: 2, reduction: 'sum' })],
    ['focalLoss γ=2, softcap 3', (x, y) => focalLoss(x, y, { gamma: 2, softcap: 3 })],
    [
      'crossEntropy, labelSmoothing 0.2, ignoreIndex',
      (x, y) => crossEntropy(x, tf.where(tf.equal(y, 5), tf.scalar(-1, 'int32'), y), { labelSmoothing: 0.2, ignoreIndex: -1 }),
    ],
    ['crossEntropy, classWeights and zLoss, mean', (x, y) => crossEntropy(x, y, { classWeights: tf.linspace(0.5, 2, C), zLoss: 0.01 })],
    ['crossEntropy, every row ignored', (x) => crossEntropy(x, tf.fill([B], -1, 'int32'), { ignoreIndex: -1 })],
    ['crossEntropy, reduction none', (x, y) => tf.sum(tf.mul(crossEntropy(x, y, { reduction: 'none' }), tf.linspace(1, 3, B)))],
    ['mpceLoss', (x, y) => mpceLoss(x, y)],
    ['complementEntropy', (x, y) => complementEntropy(x, y)],
    ['crossEntropy, sample weights', (x, y) => crossEntropy(x, y, { weights: tf.linspace(0, 1, B) })],
    ['crossEntropy, dense targets', (x, y) => crossEntropy(x, tf.softmax(tf.oneHot(y, C).toFloat()))],
  ];
  const maxAbs = (f: () => tf.Tensor) => tf.tidy(() => tf.max(tf.abs(f())).dataSync()[0]);
  for (const [backend, generic] of [
    ['cpu', false],
    ['wasm', false],
    ['cpu', true],
  ] as Array<[string, boolean]>) {
    for (const [name, op] of dropped) {
      it(`${backend}${generic ? ' (generic storage)' : ''}: ${name}, then 8 more losses on the tape: its dropped pending gradient is recomputed right`, async () => {
        await onBackend(backend, () => {
          if (generic) storageOverrides.cpu = genericStorage;
          try {
            const q = tf.tensor2d(randomLogits(B, C, 17), [B, C]);
            const y = tf.tensor1d(randomLabels(B, C, 18), 'int32');
            const more = tf.tensor1d(randomLabels(B, C, 19), 'int32');
            // The 8 after it are scaled by 1e-4, so that the sum's gradient is the first loss's to
            // within float32 rounding: an error in its recomputation is not hidden by theirs.
            const want = tf.tidy(() =>
              tf.add(tf.grad((x: tf.Tensor) => op(x, y))(q), tf.mul(8e-4, tf.grad((x: tf.Tensor) => crossEntropy(x, more))(q))),
            );
            const before = backendCounts();
            const got = tf.grad((x: tf.Tensor) => {
              const first = op(x, y);
              const rest = Array.from({ length: 8 }, () => tf.mul(1e-4, crossEntropy(x, more)));
              expect(backendCounts().pending).toBe(8); // the first one's was dropped
              return tf.addN([first, ...rest]);
            })(q);
            expect(maxAbs(() => want)).toBeGreaterThan(0);
            expect(maxAbs(() => tf.sub(got, want))).toBeLessThanOrEqual(1e-6 * maxAbs(() => want));
            got.dispose();
            expect(backendCounts()).toEqual(before);
            tf.dispose([q, y, more, want]);
          } finally {
            delete storageOverrides.cpu;
          }
        });
      });
    }
  }

  for (const backend of ['cpu', 'wasm']) {
    it(`${backend}: a tape with more losses than wait (a loss per step of a sequence) computes 9 gradients in forward, not one per loss`, async () => {
      await onBackend(backend, () => {
        const q = tf.tensor2d(randomLogits(B, C, 21), [B, C]);
        const ys = Array.from({ length: 20 }, (_, i) => tf.tensor1d(randomLabels(B, C, 22 + i), 'int32'));
        const want = tf.tidy(() => tf.addN(ys.map((y) => tf.grad((x: tf.Tensor) => crossEntropy(x, y))(q))));
        const before = backendCounts();
        const inForward = vi.spyOn(native(), 'forwardBackward');
        try {
          const got = tf.grad((x: tf.Tensor) => tf.addN(ys.map((y) => crossEntropy(x, y))))(q);
          // The ninth drops the first's and marks the tape crowded: the 11 after it save their row
          // statistics instead, and their backward passes compute from them.
          expect(inForward).toHaveBeenCalledTimes(9);
          expect(maxAbs(() => tf.sub(got, want))).toBeLessThanOrEqual(1e-6 * maxAbs(() => want));
          got.dispose();
        } finally {
          inForward.mockRestore();
        }
        expect(backendCounts()).toEqual(before);
        // The next tape is not crowded.
        const next = vi.spyOn(native(), 'forwardBackward');
        try {
          tf.grad((x: tf.Tensor) => crossEntropy(x, ys[0]))(q).dispose();
          expect(next).toHaveBeenCalledTimes(1);
        } finally {
          next.mockRestore();
        }
        tf.dispose([q, want, ...ys]);
      });
    });
  }

  it('cpu storage reads int32-backed float tensors (tf.cast shares the Int32Array)', async () => {
    await onBackend('cpu', () => {
      const v = tf.tidy(() => crossEntropy(tf.cast(tf.tensor2d([[2, 1, 0]], [1, 3], 'int32'), 'float32'), [0]).dataSync()[0]);
      expect(v).toBeCloseTo(Math.log(1 + Math.exp(-1) + Math.exp(-2)), 6);
    });
  });
});
