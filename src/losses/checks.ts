// The checks every loss op makes before its kernel runs, each naming the op in its error: the
// logits, the labels (of any accepted form), the weights, and the options' values. Shared by
// every op (and by ops built on other kernels that take the same inputs).
import { backend_util, cast, Reduction as TfReduction, Tensor, tensor } from '@tensorflow/tfjs-core';

import type { Reduction } from '../kernels/attrs';
import { checkableValues } from '../kernels/host_values';
import { fail, labelsAreDense, shown } from '../validate';
import type { Labels } from './types';

/** A reduction as the kernel and tf.losses.computeWeightedLoss take it (nonzero: SUM_BY_NONZERO_WEIGHTS). */
export type Reducing = Reduction | 'nonzero';

export function checkReduction(op: string, value: unknown): Reducing {
  if (value === 'none' || value === TfReduction.NONE) return 'none';
  if (value === 'sum' || value === TfReduction.SUM) return 'sum';
  if (value === 'mean' || value === TfReduction.MEAN) return 'mean';
  if (value === TfReduction.SUM_BY_NONZERO_WEIGHTS) return 'nonzero';
  return fail(op, `reduction must be 'none', 'sum' or 'mean', got ${JSON.stringify(value)} (tf.Reduction values are accepted too)`);
}

export function checkNumber(op: string, name: string, value: unknown, ok: (v: number) => boolean, range: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    fail(op, `${name} must be a finite number ${range}, got ${shown(value)}`);
  }
  return value;
}

export const shapeOf = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The checked logits: the rows' shape (all but the last axis) and the classes. */
export function checkLogits(op: string, logits: unknown): { lead: number[]; rows: number; classes: number } {
  if (!(logits instanceof Tensor)) fail(op, 'logits must be a tf.Tensor');
  if (logits.isDisposed) fail(op, 'logits is a disposed tensor');
  if (logits.rank < 2)
    fail(op, `logits must have rank >= 2 ([batch, classes] or [batch, ..., classes]), got shape ${shapeOf(logits.shape)}`);
  if (logits.dtype !== 'float32') fail(op, `logits must be float32, got ${logits.dtype}`);
  const lead = logits.shape.slice(0, -1);
  const classes = logits.shape[logits.rank - 1];
  const rows = lead.reduce((a: number, b: number) => a * b, 1);
  if (rows === 0) fail(op, `empty batch: logits has 0 rows (shape ${shapeOf(logits.shape)})`);
  if (classes === 0) fail(op, 'logits has 0 classes');
  return { lead, rows, classes };
}

export function checkLabels(op: string, labels: unknown, lead: number[], classes: number): { dense: boolean } {
  if (!(labels instanceof Tensor)) fail(op, 'labels must be a tf.Tensor (class ids or targets)');
  if (labels.isDisposed) fail(op, 'labels is a disposed tensor');
  if (labels.dtype !== 'int32' && labels.dtype !== 'float32') fail(op, `labels must be int32 or float32, got ${labels.dtype}`);
  const s = labels.shape;
  const prefix = (n: number) => s.slice(0, n).every((d: number, i: number) => d === lead[i]);
  const dense = labelsAreDense(s, labels.dtype, classes, lead.length);
  const sparse = s.length === lead.length || (s.length === lead.length + 1 && s[s.length - 1] === 1);
  const ids = lead.length === 1 ? '[batch] or [batch, 1]' : `${shapeOf(lead)} or ${shapeOf([...lead, 1])}`;
  if (!dense && !sparse)
    fail(
      op,
      `labels must be class ids ${ids}, or targets ${shapeOf([...(lead.length === 1 ? (['batch'] as never[]) : lead), classes])}; got shape ${shapeOf(s)}`,
    );
  if (lead.length === 1 && s[0] !== lead[0]) fail(op, `labels have ${s[0]} rows but logits have ${lead[0]}`);
  if (!prefix(lead.length)) fail(op, `labels of shape ${shapeOf(s)} do not match logits' rows ${shapeOf(lead)}`);
  return { dense };
}

/**
 * Labels as a tensor. A number[] must hold integer class ids in [0, classes) (or ignoreIndex):
 * tf.tensor would silently truncate 1.5, wrap 2^32 and turn NaN, null or "1" into numbers, so
 * each value is checked here first. (Tensor and Int32Array values are checked natively.)
 */
export function toTensor(op: string, labels: Labels, classes: number, ignoreIndex: number | undefined): Tensor {
  if (labels instanceof Tensor) return labels;
  if (labels instanceof Int32Array) return tensor(labels, [labels.length], 'int32');
  if (!Array.isArray(labels)) return fail(op, 'labels must be a tf.Tensor, a number[] or an Int32Array of class ids');
  for (let r = 0; r < labels.length; r++) {
    const y: unknown = labels[r];
    if (typeof y !== 'number' || !Number.isInteger(y) || ((y < 0 || y >= classes) && y !== ignoreIndex)) {
      const shown = typeof y === 'number' ? String(y) : `${JSON.stringify(y) ?? String(y)} (${typeof y})`;
      fail(op, `label ${shown} at row ${r} is not a class id in [0, ${classes}): number[] labels must be integers`);
    }
  }
  return tensor(labels, [labels.length], 'int32');
}

/**
 * Weights must be finite and >= 0. Checked here where the values can be read without a GPU
 * read-back; on webgpu, weights that live on the GPU are checked by the programs (a NaN row).
 */
function checkWeightValues(op: string, name: string, t: Tensor): void {
  const values = checkableValues(t);
  if (values === undefined) return;
  for (let i = 0; i < values.length; i++) {
    if (!(Number.isFinite(values[i]) && values[i] >= 0)) fail(op, `${name}[${i}] must be a finite number >= 0, got ${values[i]}`);
  }
}

/** Class weights as a float32 tensor [C] of finite values >= 0 (read once to check them). */
export function classWeightTensor(op: string, name: string, w: unknown, classes: number): Tensor {
  let t: Tensor;
  if (w instanceof Tensor) {
    if (w.isDisposed) fail(op, `${name} is a disposed tensor`);
    if (w.dtype !== 'float32' && w.dtype !== 'int32') fail(op, `${name} must be float32 or int32, got ${w.dtype}`);
    t = w.dtype === 'float32' ? w : cast(w, 'float32');
  } else if (Array.isArray(w) || w instanceof Float32Array) {
    t = tensor(Float32Array.from(w as ArrayLike<number>), [w.length]);
  } else {
    return fail(op, `${name} must be a tf.Tensor, a number[] or a Float32Array of ${classes} values`);
  }
  try {
    if (t.rank !== 1 || t.shape[0] !== classes) fail(op, `${name} must have shape [${classes}] (one per class), got ${shapeOf(t.shape)}`);
    checkWeightValues(op, name, t);
    return t;
  } catch (e) {
    if (t !== w) t.dispose();
    throw e;
  }
}

/**
 * Sample weights as a float32 tensor broadcastable to the rows' shape (tf.losses' rule: a number,
 * or a tensor the row losses broadcast against), finite and >= 0 (read once to check them).
 */
export function sampleWeightTensor(op: string, w: unknown, lead: number[]): Tensor {
  let t: Tensor;
  if (w instanceof Tensor) {
    if (w.isDisposed) fail(op, 'weights is a disposed tensor');
    if (w.dtype !== 'float32' && w.dtype !== 'int32') fail(op, `weights must be float32 or int32, got ${w.dtype}`);
    t = w.dtype === 'float32' ? w : cast(w, 'float32');
  } else if (typeof w === 'number' || Array.isArray(w) || w instanceof Float32Array) {
    t = tensor(w as number | number[], undefined, 'float32');
  } else {
    return fail(op, `weights must be a number, an array or a tf.Tensor broadcastable to the rows ${shapeOf(lead)}`);
  }
  try {
    try {
      backend_util.assertAndGetBroadcastShape(lead, t.shape);
    } catch {
      fail(op, `weights of shape ${shapeOf(t.shape)} do not broadcast against the rows ${shapeOf(lead)}`);
    }
    checkWeightValues(op, 'weights', t);
    return t;
  } catch (e) {
    if (t !== w) t.dispose();
    throw e;
  }
}

/** The options argument, checked to be an object (an op reads its own options first). */
export function checkOptions<O>(op: string, options: O): O {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail(op, `options must be an object, got ${shown(options)}`);
  return options;
}
