// The fused head's two kernels, written once against Storage (cpu and wasm: zero-copy; other
// backends: the generic copying storage), the native head doing the work.
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { kernelInput as input } from '../kernels/attrs';
import { KernelArgs, withOutputs } from '../kernels/fused_loss';
import { statsLayout } from '../kernels/registry';
import { gradientOutput } from '../kernels/storage';
import type { Output, Storage } from '../kernels/storage';
import { native } from '../native';
import type { NativeHeadCall } from '../native';
import { named } from '../validate';
import { meanPlan } from './divisor';
import { HEAD_STATS_TRAILER, LinearLossAttrs } from './kernel_names';

function optionalInputs(inputs: NamedTensorInfoMap, a: LinearLossAttrs): TensorInfo[] {
  const names = ['hidden', 'kernel', 'labels', ...(a.bias ? ['bias'] : []), ...(a.classWeights ? ['classWeights'] : [])];
  return names.map((n) => input(inputs, n));
}

/**
 * The named fields of a native head call (views taken now: after every allocation), and what a
 * 'mean' divides by (1 otherwise).
 */
function callOf(storage: Storage, inputs: NamedTensorInfoMap, a: LinearLossAttrs): { call: NativeHeadCall; divisor: number } {
  const [rows, dims] = input(inputs, 'hidden').shape;
  const classes = input(inputs, 'kernel').shape[1];
  const labels = storage.labels(input(inputs, 'labels'));
  const classWeights = a.classWeights ? storage.floats(input(inputs, 'classWeights')) : undefined;
  const plan = a.reduction === 'mean' ? meanPlan(a.loss, labels, rows, classes, classWeights) : { loss: a.loss, divisor: 1 };
  const call = {
    hidden: storage.floats(input(inputs, 'hidden')),
    kernel: storage.floats(input(inputs, 'kernel')),
    ...(a.bias ? { bias: storage.floats(input(inputs, 'bias')) } : {}),
    rows,
    dims,
    classes,
    labels,
    loss: plan.loss,
    ...(classWeights ? { classWeights } : {}),
    ...(a.device === 'cuda' ? { device: 'cuda' as const } : {}),
  };
  return { call, divisor: plan.divisor };
}

export function linearLossForward(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const a = attrs as LinearLossAttrs;
  const rows = input(inputs, 'hidden').shape[0];
  const perRow = statsLayout().perRow;
  try {
    // Every allocation before any view (a wasm allocation may move the heap).
    const makers = [() => storage.output(a.reduction === 'none' ? [rows] : []), () => storage.output([rows * perRow + HEAD_STATS_TRAILER])];
    return withOutputs(storage, optionalInputs(inputs, a), makers, (outputs) => {
      const [loss, stats] = outputs as Output[];
      const lossData = loss.data();
      const statsData = stats.data();
      const { call, divisor } = callOf(storage, inputs, a);
      const rowLoss = a.reduction === 'none' ? lossData : new Float32Array(rows);
      const total = native().headForward({ ...call, stats: statsData.subarray(0, rows * perRow), rowLoss });
      if (a.reduction !== 'none') lossData[0] = total / divisor; // 0/0 = NaN when every row is ignored, as PyTorch
      statsData[rows * perRow] = divisor;
      return [loss.finish(), stats.finish()];
    });
  } catch (e) {
    throw named(e, a.op);
  }
}

export function linearLossGrad(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const a = attrs as LinearLossAttrs;
  const [rows, dims] = input(inputs, 'hidden').shape;
  const classes = input(inputs, 'kernel').shape[1];
  const perRow = statsLayout().perRow;
  try {
    // Gradient memory the backend may reuse across steps (cpu: a fresh [D, C] array per step costs
    // page faults); the kernel overwrites every entry.
    const makers = [
      () => gradientOutput(storage, [rows, dims]),
      () => gradientOutput(storage, [dims, classes]),
      a.bias ? () => gradientOutput(storage, [classes]) : undefined,
    ];
    return withOutputs(storage, [...optionalInputs(inputs, a), input(inputs, 'stats'), input(inputs, 'dy')], makers, (outputs) => {
      const [gh, gk, gb] = outputs;
      const stats = storage.floats(input(inputs, 'stats'));
      const divisor = stats[rows * perRow];
      native().headBackward({
        ...callOf(storage, inputs, a).call,
        stats: stats.subarray(0, rows * perRow),
        dy: storage.floats(input(inputs, 'dy')),
        // Every row ignored: no row has a gradient (PyTorch's NaN loss, zero gradients).
        dyScale: divisor === 0 ? 0 : 1 / divisor,
        gradHidden: (gh as Output).data(),
        gradKernel: (gk as Output).data(),
        ...(gb ? { gradBias: gb.data() } : {}),
      });
      return [(gh as Output).finish(), (gk as Output).finish(), ...(gb ? [gb.finish()] : [])];
    });
  } catch (e) {
    throw named(e, a.op);
  }
}
