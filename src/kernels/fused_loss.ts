// The two kernels, written once against Storage: the native core does the work, reading
// and writing the memory Storage hands out.
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { cudaLossOnHost } from '../cuda';
import { native } from '../native';
import { zLossUnderWeightedMean } from './z_loss';
import type { NativeCall } from '../native';
import { named } from '../validate';
import { FusedLossAttrs, kernelInput as input, LossSpec, STATS_TRAILER } from './attrs';
import { checkTargetRows, warnIfProbabilities } from './input_checks';
import { statsLayout } from './registry';
import { activeTape, taped } from './tape';
import { gradientOutput } from './storage';
import type { Output, Storage } from './storage';

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
}

/**
 * Gradients computed by a forward pass that ran under a recording tape, waiting for their
 * backward pass. The key is a token written after the row statistics in the statistics
 * output, which the tape saves (backends may save a copy with a new dataId, as wasm does,
 * so the dataId cannot be the key). Each is taken once. A forward whose backward never comes (a
 * loss computed under the tape but not differentiated: a metric in model.fit, say) is dropped
 * when a forward runs on a later tape (tfjs runs a tape's backward pass before it starts the
 * next), or after MAX_PENDING newer ones; a backward that finds nothing recomputes.
 *
 * A tape that has dropped one of its own for MAX_PENDING newer ones (more losses than that on one
 * tape: a loss per step of a sequence, say) is crowded: later forwards on it compute no gradient
 * and save their row statistics, so at most MAX_PENDING gradients wait and one is recomputed.
 */
const pendingGradients = new Map<number, { grad: Output; tape: unknown }>();
const MAX_PENDING = 8;
let nextToken = 1;
let crowdedTape: unknown;

function keepGradient(grad: Output): number {
  const tape = activeTape();
  for (const [token, pending] of pendingGradients) {
    if (pending.tape === tape) continue;
    pendingGradients.delete(token);
    pending.grad.discard();
  }
  const token = nextToken;
  nextToken = nextToken >= 2 ** 24 ? 1 : nextToken + 1; // exact in the float32 stats tensor
  pendingGradients.set(token, { grad, tape });
  if (pendingGradients.size > MAX_PENDING) {
    const [oldest, evicted] = pendingGradients.entries().next().value as [number, { grad: Output }];
    pendingGradients.delete(oldest);
    evicted.grad.discard();
    crowdedTape = tape;
  }
  return token;
}

function takeGradient(token: number): Output | undefined {
  const pending = pendingGradients.get(token);
  pendingGradients.delete(token);
  return pending?.grad;
}

/** How many forward-pass gradients wait for their backward pass (tests check it stays bounded). */
export function pendingGradientCount(): number {
  return pendingGradients.size;
}

/** Tests turn this off to drive the separate backward pass through tfjs. */
export const kernelOptions = { gradientInForward: true };

/**
 * True when the kernel now running (called from within its kernel function) is recorded on a
 * gradient tape (./tape.ts) and computes its gradient in its forward pass.
 */
export function recordingGradients(): boolean {
  return kernelOptions.gradientInForward && taped();
}

/**
 * Whether a forward a tape records computes its gradient now: not on a crowded tape (above), nor
 * with the separate backward pass forced (tests). Such a forward still saves its rows' statistics:
 * saving the trailer alone moved glibc's heap trimming under tfjs's own [B, C] additions and made
 * a sum of losses at 256 × 1000 up to 2× slower (docs/benchmarks.md).
 */
function gradientNow(): boolean {
  if (crowdedTape !== activeTape()) crowdedTape = undefined; // a later tape: the crowded one is done
  return kernelOptions.gradientInForward && crowdedTape === undefined;
}

/**
 * Allocates the outputs, runs `body` on them, and frees them all when it throws (a bad label
 * found natively, a forged kernel input): an error leaves no backend memory behind. Inputs
 * are made resident first: moving a tensor from another backend allocates, and on wasm any
 * allocation can detach views already taken.
 */
export function withOutputs<T>(
  storage: Storage,
  inputs: TensorInfo[],
  makers: Array<(() => Output) | undefined>,
  body: (outputs: Array<Output | undefined>) => T,
): T {
  for (const t of inputs) storage.resident(t);
  const outputs: Array<Output | undefined> = [];
  try {
    for (const make of makers) outputs.push(make?.());
    return body(outputs);
  } catch (e) {
    for (const o of outputs) o?.discard();
    throw e;
  }
}

/** The named fields of a native call, read from the kernel's inputs (views taken now). */
function callOf(storage: Storage, inputs: NamedTensorInfoMap, a: FusedLossAttrs, stats: Float32Array) {
  const [rows, classes] = input(inputs, 'logits').shape;
  const call = {
    logits: storage.floats(input(inputs, 'logits')),
    rows,
    classes,
    labels: storage.labels(input(inputs, 'labels')),
    dense: a.dense,
    loss: a.loss,
    ...(a.classWeights ? { classWeights: storage.floats(input(inputs, 'classWeights')) } : {}),
    ...(a.sampleWeights ? { weights: storage.floats(input(inputs, 'weights')) } : {}),
    stats,
  };
  return { ...call, loss: zLossForMean(call, a) };
}

/** Liger's z-loss rule (./z_loss.ts) when this call is a class-weighted 'mean' with a z term. */
function zLossForMean(call: Omit<NativeCall, 'loss'> & { loss: LossSpec }, a: FusedLossAttrs): LossSpec {
  const z = a.loss.zLoss;
  if (a.reduction !== 'mean' || a.meanOver !== 'classWeights' || !a.classWeights || typeof z !== 'number' || z === 0) return a.loss;
  const { logits: _l, stats: _s, ...rest } = call;
  return zLossUnderWeightedMean(a.loss, native().meanDivisors(rest));
}

function kernelInputs(inputs: NamedTensorInfoMap, a: FusedLossAttrs): TensorInfo[] {
  const names = ['logits', 'labels', ...(a.classWeights ? ['classWeights'] : []), ...(a.sampleWeights ? ['weights'] : [])];
  return names.map((n) => input(inputs, n));
}

export function fusedLossForward(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const a = attrs as FusedLossAttrs;
  const [rows, classes] = input(inputs, 'logits').shape;
  // Every allocation before any view (a wasm allocation may move the heap): the loss, the row
  // statistics with the pending-gradient token (0: none) and the mean's divisor, the gradient.
  // A forward no tape records has no backward pass: its output holds the trailer alone.
  const recorded = taped();
  const makers = [
    () => storage.output(a.reduction === 'none' ? [rows] : []),
    () => storage.output([(recorded ? rows * statsLayout().perRow : 0) + STATS_TRAILER]),
    recorded && gradientNow() ? () => gradientOutput(storage, [rows, classes]) : undefined,
  ];
  try {
    return withOutputs(storage, kernelInputs(inputs, a), makers, ([loss, stats, grad]) =>
      forwardInto(storage, inputs, a, rows, classes, loss as Output, stats as Output, grad),
    );
  } catch (e) {
    throw named(e, a.op);
  }
}

/**
 * Arrays a call writes and reads back but does not return: a reduced call's per-row losses (summed
 * natively), and the row statistics of a forward no tape records. One array of each is kept for
 * up to SCRATCH_FLOATS values (a fresh Float32Array costs a few microseconds, a measurable part
 * of a small batch's step); larger ones are fresh.
 */
const SCRATCH_FLOATS = 1 << 18;
const scratches = { rowLoss: new Float32Array(0), rowStats: new Float32Array(0) };

function scratch(name: keyof typeof scratches, length: number): Float32Array {
  if (length > SCRATCH_FLOATS) return new Float32Array(length);
  const kept = scratches[name];
  if (kept.length >= length) return kept.subarray(0, length);
  scratches[name] = new Float32Array(Math.min(SCRATCH_FLOATS, Math.max(length, 2 * kept.length)));
  return scratches[name].subarray(0, length);
}

/** What 'mean' divides by for this call, known before the kernel runs (rows without options). */
function meanDivisor(call: ReturnType<typeof callOf>, a: FusedLossAttrs): number {
  if (a.reduction !== 'mean') return 1;
  if (!a.classWeights && !a.sampleWeights && a.loss.ignoreIndex === undefined) return call.rows;
  const { logits: _l, stats: _s, ...rest } = call;
  return native().meanDivisors(rest)[a.meanOver];
}

function forwardInto(
  storage: Storage,
  inputs: NamedTensorInfoMap,
  a: FusedLossAttrs,
  rows: number,
  classes: number,
  loss: Output,
  stats: Output,
  grad: Output | undefined,
): TensorInfo[] {
  const statsData = stats.data();
  // The row statistics in the output when it has room for them (a recorded forward), else in a scratch array.
  const trailer = statsData.length - STATS_TRAILER;
  const rowStats = trailer > 0 ? statsData.subarray(0, trailer) : scratch('rowStats', rows * statsLayout().perRow);
  const call = callOf(storage, inputs, a, rowStats);
  const lossData = loss.data();
  const rowLoss = a.reduction === 'none' ? lossData : scratch('rowLoss', rows);
  const divisor = meanDivisor(call, a);
  // 1 unless 'mean'. Every row ignored: the mean is 0/0 = NaN (as PyTorch's) and the gradient 0.
  const gradScale = divisor === 0 ? 0 : 1 / divisor;
  let total: number;
  if (a.device === 'cuda') {
    // Host tensors staged through the addon's pinned buffers to the GPU and back.
    total = cudaLossOnHost({ ...call, rowLoss }, gradScale, grad?.data());
  } else if (grad !== undefined) {
    // Training: the gradient for dy = 1 in the same pass (one exp per element); the
    // backward pass only rescales it when dy is not 1.
    total = native().forwardBackward({ ...call, rowLoss, gradScale, grad: grad.data() });
  } else {
    total = native().forward({ ...call, rowLoss });
  }
  checkTargetRows(a, rowStats, rows);
  // Only a call that goes on may spend the once-per-process warning (a call that throws, with its
  // arguments swapped, say, would leave the real mistake later without one).
  warnIfProbabilities(a, call.logits, rows, classes);
  statsData[trailer] = grad !== undefined ? keepGradient(grad) : 0;
  statsData[trailer + 1] = divisor;
  if (a.reduction !== 'none') lossData[0] = total / divisor;
  return [loss.finish(), stats.finish()];
}

export function fusedLossGrad(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as FusedLossAttrs;
  const [rows, classes] = input(inputs, 'logits').shape;
  for (const t of [...kernelInputs(inputs, a), input(inputs, 'stats'), input(inputs, 'dy')]) storage.resident(t);
  const saved = storage.floats(input(inputs, 'stats'));
  const trailer = saved.length - STATS_TRAILER;
  const token = saved[trailer];
  const divisor = saved[trailer + 1];
  const pending = takeGradient(token);
  if (pending !== undefined) {
    try {
      // Computed in forward for dy = 1 (the mean's divisor included): scale by the real dy.
      const dy = storage.floats(input(inputs, 'dy'));
      if (!(dy.length === 1 && dy[0] === 1)) native().scaleRows({ grad: pending.data(), rows, classes, dy, scale: 1 });
      return pending.finish();
    } catch (e) {
      pending.discard();
      throw e;
    }
  }
  // A forward that ran with no tape, or whose pending gradient was dropped: recompute from the
  // saved statistics in one pass (on the CPU: the statistics of either device have the same
  // layout and meaning).
  return withOutputs(storage, [], [() => gradientOutput(storage, [rows, classes])], ([grad]) => {
    const call = callOf(storage, inputs, a, storage.floats(input(inputs, 'stats')).subarray(0, trailer));
    native().backward({
      ...call,
      dy: storage.floats(input(inputs, 'dy')),
      dyScale: divisor === 0 ? 0 : 1 / divisor,
      grad: (grad as Output).data(),
    });
    return (grad as Output).finish();
  });
}
