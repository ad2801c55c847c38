// The two kernels, written once against Storage: the native core does the work, reading
// and writing the memory Storage hands out.
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

export function fusedLossForward(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const a = attrs as FusedLossAttrs;
  const [rows, classes] = input(inputs, 'logits').shape;
  const logits = storage.floats(input(inputs, 'logits'));
  const labels = storage.labels(input(inputs, 'labels'));
  const loss = storage.output(a.reduction === 'none' ? [rows] : []);
  const stats = storage.output([rows, STATS_PER_ROW]);
  const rowLoss = a.reduction === 'none' ? loss.data : new Float32Array(rows);
  const total = native().forward(
    logits, rows, classes, labels, a.dense, a.kind, a.alpha, a.beta, a.param0, stats.data, rowLoss);
  if (a.reduction !== 'none') loss.data[0] = a.reduction === 'mean' ? total / rows : total;
  return [loss.finish(), stats.finish()];
}

export function fusedLossGrad(storage: Storage, { inputs, attrs }: KernelArgs): TensorInfo {
  const a = attrs as FusedLossAttrs;
  const logits = input(inputs, 'logits');
  const [rows, classes] = logits.shape;
  const grad = storage.output([rows, classes]);
  native().backward(
    storage.floats(logits), rows, classes, storage.labels(input(inputs, 'labels')), a.dense, a.kind, a.alpha,
    a.beta, a.param0, storage.floats(input(inputs, 'stats')), storage.floats(input(inputs, 'dy')),
    a.reduction === 'mean' ? 1 / rows : 1, grad.data);
  return grad.finish();
}
