// The benchmark suite: fused loss + gradient against stock tfjs cross entropy + tf.grad on
// each available backend, beside the native kernels alone, a plain three-pass memory loop
// over the same logits, and CUDA when a device is present. Medians over runs of the
// `benchmark` package, all in one process.
import * as tf from '@tensorflow/tfjs';

import { cudaStatus, mixedLoss } from '../src';
import { statsLayout } from '../src/kernels/registry';
import { native } from '../src/native';
import { median } from './median';
import { uniformValues } from './random';

export const DEFAULT_SHAPES: Array<[number, number]> = [
  [256, 1000],
  [128, 32768],
  [32, 262144],
];

export interface Row {
  B: number;
  C: number;
  /** What ran: see MEASURES. */
  what: string;
  /** tfjs backend, or '-' for the native code alone. */
  backend: string;
  medianMs: number;
  samples: number;
}

export const MEASURES = {
  nativeFused: 'native fused value+grad',
  nativeTwoPass: 'native forward, then backward',
  memoryLoop: 'three-pass memory loop',
  memoryLoopFresh: 'three-pass memory loop, fresh out',
  mixloss: 'mixloss mixedLoss + grad',
  mixlossCuda: 'mixloss mixedLoss + grad, device cuda',
  stock: 'stock softmaxCrossEntropy + grad',
} as const;

export interface SuiteOptions {
  shapes?: Array<[number, number]>;
  backends?: string[];
  quick?: boolean;
  /** Called after each measurement, with its index and the total. */
  onRow?: (row: Row, done: number, total: number) => void;
}

const logits = (B: number, C: number) => uniformValues(B * C, 12345, -4, 4);

/** The tfjs backends this process can run: cpu, and wasm when its package is installed. */
export function availableBackends(): string[] {
  try {
    require('@tensorflow/tfjs-backend-wasm');
  } catch {
    return ['cpu'];
  }
  return ['cpu', 'wasm'];
}

/**
 * Seconds per call of fn: one call to warm up, then samples of k calls each (k so that a sample
 * lasts >= 1 ms), at least minSamples of them and more until maxSeconds have passed.
 */
export function timeSamples(fn: () => void, minSamples: number, maxSeconds: number): number[] {
  const clock = () => Number(process.hrtime.bigint()) / 1e9;
  let t = clock();
  fn();
  const once = Math.max(clock() - t, 1e-7);
  const k = Math.max(1, Math.ceil(1e-3 / once));
  const samples: number[] = [];
  const start = clock();
  while (samples.length < minSamples || clock() - start < maxSeconds) {
    t = clock();
    for (let i = 0; i < k; i++) fn();
    samples.push((clock() - t) / k);
    if (samples.length >= minSamples && samples.length >= 1000) break;
  }
  return samples;
}

export async function runSuite(options: SuiteOptions = {}): Promise<Row[]> {
  const shapes = options.shapes ?? DEFAULT_SHAPES;
  const available = availableBackends();
  const backends = options.backends ?? available;
  for (const b of backends) {
    if (!available.includes(b)) throw new Error(`backend ${b} is not available here (available: ${available.join(', ')})`);
  }
  const cuda = cudaStatus().available;
  const perShape = 4 + backends.length * 2 + (cuda ? 1 : 0);
  const total = shapes.length * perShape;
  const rows: Row[] = [];
  const measure = (B: number, C: number, what: string, backend: string, fn: () => void) => {
    const sample = timeSamples(fn, options.quick ? 2 : 7, options.quick ? 0.2 : 2);
    const row = { B, C, what, backend, medianMs: median(sample) * 1000, samples: sample.length };
    rows.push(row);
    options.onRow?.(row, rows.length, total);
  };
  const addon = native();
  for (const [B, C] of shapes) {
    const data = logits(B, C);
    const ids = Int32Array.from({ length: B }, (_, i) => (i * 7919) % C);

    // Native kernels alone (no tfjs), and the memory bound.
    const stats = new Float32Array(B * statsLayout().perRow),
      rowLoss = new Float32Array(B),
      grad = new Float32Array(B * C);
    const dy = new Float32Array([1]);
    const call = { logits: data, rows: B, classes: C, labels: ids, dense: false, loss: { kind: 'mixed', alpha: 1, beta: 1 }, stats };
    measure(B, C, MEASURES.nativeFused, '-', () => {
      addon.forwardBackward({ ...call, rowLoss, gradScale: 1 / B, grad });
    });
    measure(B, C, MEASURES.nativeTwoPass, '-', () => {
      addon.forward({ ...call, rowLoss });
      addon.backward({ ...call, dy, dyScale: 1 / B, grad });
    });
    measure(B, C, MEASURES.memoryLoop, '-', () => addon.threePassMemoryLoop(data, B, C, grad));
    // A tfjs op returns a new tensor: compare it with the loop writing a fresh array too.
    measure(B, C, MEASURES.memoryLoopFresh, '-', () => addon.threePassMemoryLoop(data, B, C, new Float32Array(B * C)));

    for (const backend of backends) {
      await tf.setBackend(backend);
      await tf.ready();
      const q = tf.tensor2d(data, [B, C]);
      const y = tf.tensor1d(ids, 'int32');
      const oneHot = tf.oneHot(y, C).toFloat();
      // cpu and wasm run kernels synchronously: the gradient exists when the call returns.
      // Reading it back (dataSync) would add a copy out of the wasm heap to both sides.
      const once = (f: (x: tf.Tensor) => tf.Tensor) => {
        const vg = tf.valueAndGrad(f);
        return () => {
          const { value, grad: g } = vg(q);
          tf.dispose([value, g]);
        };
      };
      measure(
        B,
        C,
        MEASURES.mixloss,
        backend,
        once((x) => mixedLoss(x, y, { device: 'cpu' })),
      );
      if (cuda && backend === 'cpu')
        measure(
          B,
          C,
          MEASURES.mixlossCuda,
          backend,
          once((x) => mixedLoss(x, y, { device: 'cuda' })),
        );
      measure(
        B,
        C,
        MEASURES.stock,
        backend,
        once((x) => tf.losses.softmaxCrossEntropy(oneHot, x)),
      );
      tf.dispose([q, y, oneHot]);
    }
  }
  return rows;
}
