// Checks on the ops' arguments, before any kernel runs. Every message names the argument.
import { Tensor } from '@tensorflow/tfjs-core';

import type { Reduction } from './kernels/attrs';

export function fail(op: string, message: string): never {
  throw new Error(`mixloss.${op}: ${message}`);
}

export function checkNonNegative(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(op, `${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

export function checkFinite(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(op, `${name} must be a finite number, got ${String(value)}`);
  return value;
}

export function checkReduction(op: string, value: unknown): Reduction {
  if (value !== 'none' && value !== 'sum' && value !== 'mean') {
    fail(op, `reduction must be 'none', 'sum' or 'mean', got ${JSON.stringify(value)}`);
  }
  return value;
}

const shapeOf = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** The checked logits, with their [rows, classes]. */
export function checkLogits(op: string, logits: unknown): [number, number] {
  if (!(logits instanceof Tensor)) fail(op, 'logits must be a tf.Tensor');
  if (logits.isDisposed) fail(op, 'logits is a disposed tensor');
  if (logits.rank !== 2) fail(op, `logits must be 2-D [batch, classes], got shape ${shapeOf(logits)}`);
  if (logits.dtype !== 'float32') fail(op, `logits must be float32, got ${logits.dtype}`);
  const [rows, classes] = logits.shape;
  if (rows === 0) fail(op, 'empty batch: logits has 0 rows');
  if (classes === 0) fail(op, 'logits has 0 classes');
  return [rows, classes];
}

/**
 * Whether labels of this shape are [B, C] targets rather than class ids. With one class, a
 * [B, 1] int32 tensor is read as ids and a float32 one as targets (the one-hot column that
 * tfjs-layers' fit passes).
 */
export function labelsAreDense(shape: readonly number[], dtype: string, classes: number): boolean {
  return shape.length === 2 && shape[1] === classes && !(classes === 1 && dtype === 'int32');
}

/**
 * How labels are read: `dense` for [B, C] targets (one-hot or probabilities), otherwise
 * class ids [B] or [B, 1]. Values (ids in [0, C)) are checked natively before the kernel.
 */
export function checkLabels(op: string, labels: unknown, rows: number, classes: number): { dense: boolean } {
  if (!(labels instanceof Tensor)) fail(op, 'labels must be a tf.Tensor (class ids or targets)');
  if (labels.isDisposed) fail(op, 'labels is a disposed tensor');
  if (labels.dtype !== 'int32' && labels.dtype !== 'float32') {
    fail(op, `labels must be int32 or float32, got ${labels.dtype}`);
  }
  const [n, width] = labels.shape;
  const dense = labelsAreDense(labels.shape, labels.dtype, classes);
  const sparse = labels.rank === 1 || (labels.rank === 2 && width === 1);
  if (!dense && !sparse) {
    fail(op, `labels must be class ids [batch] or [batch, 1], or targets [batch, ${classes}]; got shape ${shapeOf(labels)}`);
  }
  if (n !== rows) fail(op, `labels have ${n} rows but logits have ${rows}`);
  return { dense };
}
