// The two kernels, written once against Storage: the native core does the work, reading
// and writing the memory Storage hands out.
import { engine } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { native } from '../native';
import { FusedLossAttrs, STATS_PER_ROW } from './attrs';
import type { Storage } from './storage';

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
}

function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mixloss: kernel input ${name} is missing`);
  return t;
}

/**
 * Gradients computed by a forward pass that ran under a recording tape, waiting for their
 * backward pass. The key is a token written after the row statistics in the statistics
 * output, which the tape saves (backends may save a copy with a new dataId, as wasm does,
 * so the dataId cannot be the key). Each is taken once. A forward whose backward never
 * comes is evicted after MAX_PENDING newer ones; a backward that finds nothing recomputes.
 */
const pendingGradients = new Map<number, Float32Array>();
const MAX_PENDING = 8;
let nextToken = 1;

function keepGradient(grad: Float32Array): number {
  const token = nextToken;
  nextToken = nextToken >= 2 ** 24 ? 1 : nextToken + 1;  // exact in the float32 stats tensor
  pendingGradients.set(token, grad);
  if (pendingGradients.size > MAX_PENDING) pendingGradients.delete(pendingGradients.keys().next().value as number);
  return token;
}

function takeGradient(token: number): Float32Array | undefined {
  const grad = pendingGradients.get(token);
  pendingGradients.delete(token);
  return grad;
}

/** Tests turn this off to drive the separate backward pass through tfjs. */
export const kernelOptions = { gradientInForward: true };

/** True while tfjs records a gradient tape (tf.grad, optimizer.minimize, model.fit). */
function recordingGradients(): boolean {
  if (!kernelOptions.gradientInForward) return false;
  const state = (engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 0) > 0;
}

export function fusedLossForward(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const a = attrs as FusedLossAttrs;
  const [rows, classes] = input(inputs, 'logits').shape;
  const logits = storage.floats(input(inputs, 'logits'));
  const labels = storage.labels(input(inputs, 'labels'));
  const loss = storage.output(a.reduction === 'none' ? [rows] : []);
  // Row statistics, then one float for the pending-gradient token (0: none).
  const stats = storage.output([rows * STATS_PER_ROW + 1]);
  const rowStats = stats.data.subarray(0, rows * STATS_PER_ROW);
  const rowLoss = a.reduction === 'none' ? loss.data : new Float32Array(rows);
  let total: number;
  let grad: Float32Array | undefined;
  if (recordingGradients()) {
    // Training: compute the gradient now, in the same pass (one exp per element); the
    // backward pass only rescales it by dy when dy is not 1.
    grad = new Float32Array(rows * classes);
    total = native().forwardBackward(
      logits, rows, classes, labels, a.dense, a.kind, a.alpha, a.beta, a.param0, rowStats, rowLoss,
      a.reduction === 'mean' ? 1 / rows : 1, grad);
    stats.data[rows * STATS_PER_ROW] = keepGradient(grad);
  } else {
    total = native().forward(logits, rows, classes, labels, a.dense, a.kind, a.alpha, a.beta, a.param0, rowStats, rowLoss);
  }
  if (a.reduction !== 'none') loss.data[0] = a.reduction === 'mean' ? total / rows : total;
  return [loss.finish(), stats.finish()];
}

export function fusedLossGrad(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as FusedLossAttrs;
  const logits = input(inputs, 'logits');
  const [rows, classes] = logits.shape;
  const stats = storage.floats(input(inputs, 'stats'));
  const dy = storage.floats(input(inputs, 'dy'));
  const pending = takeGradient(stats[rows * STATS_PER_ROW]);
  if (pending !== undefined) {
    // Computed in forward for dy = 1 (the mean's 1/B included): scale by the real dy.
    if (!(dy.length === 1 && dy[0] === 1)) native().scaleRows(pending, rows, classes, dy, 1);
    return storage.adopt([rows, classes], pending);
  }
  // A forward that ran with no tape: recompute from the saved statistics in one pass.
  const grad = storage.output([rows, classes]);
  native().backward(
    storage.floats(logits), rows, classes, storage.labels(input(inputs, 'labels')), a.dense, a.kind, a.alpha,
    a.beta, a.param0, stats.subarray(0, rows * STATS_PER_ROW), dy,
    a.reduction === 'mean' ? 1 / rows : 1, grad.data);
  return grad.finish();
}
