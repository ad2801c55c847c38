// The checks every loss op makes before its kernel runs, each naming the op in its error: the
// logits, the labels (of any accepted form), the weights, and the options' values. Shared by
// every op (and by ops built on other kernels that take the same inputs).
import { backend_util, cast, Reduction as TfReduction, Tensor } from '@tensorflow/tfjs-core';

import type { Reduction } from '../kernels/attrs';
import { checkableValues } from '../kernels/host_values';
import { described, fail, isOptionsObject, labelsAreDense, optionsShown, shown } from '../validate';
import { floatTensorFromLike } from './inputs';

/** A reduction as the kernel and tf.losses.computeWeightedLoss take it (nonzero: SUM_BY_NONZERO_WEIGHTS). */
export type Reducing = Reduction | 'nonzero';

export function checkReduction(op: string, value: unknown): Reducing {
  if (value === 'none' || value === TfReduction.NONE) return 'none';
  if (value === 'sum' || value === TfReduction.SUM) return 'sum';
  if (value === 'mean' || value === TfReduction.MEAN) return 'mean';
  if (value === TfReduction.SUM_BY_NONZERO_WEIGHTS) return 'nonzero';
  return fail(op, `reduction must be 'none', 'sum' or 'mean', got ${described(value)} (tf.Reduction values are accepted too)`);
}

export function checkNumber(op: string, name: string, value: unknown, ok: (v: number) => boolean, range: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    fail(op, `${name} must be a finite number ${range}, got ${shown(value)}`);
  }
  return value;
}

export const shapeOf = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Fails on a TypedArray whose ArrayBuffer was transferred or freed: tfjs would throw inside the
 * backend's write, after the wasm backend has registered the buffer (which would then leak).
 */
export function checkAttached(op: string, name: string, x: ArrayBufferView): void {
  if (x instanceof BigInt64Array || x instanceof BigUint64Array)
    fail(op, `${name} is a ${x.constructor.name}: tfjs takes numbers, not BigInts`);
  try {
    new Uint8Array(x.buffer, 0, 0);
  } catch {
    fail(op, `${name} is a TypedArray on a detached ArrayBuffer (transferred, e.g. by postMessage): pass a copy made before the transfer`);
  }
}

/**
 * Labels of this shape and dtype against logits whose rows have shape `lead` (the class axis
 * last): class ids (the rows' shape, or it and 1) or targets (the rows' shape and C). Returns
 * whether they are targets.
 */
export function checkLabels(op: string, s: readonly number[], dtype: string, lead: readonly number[], classes: number): { dense: boolean } {
  if (dtype !== 'int32' && dtype !== 'float32') fail(op, `labels must be int32 or float32, got ${dtype}`);
  const prefix = (n: number) => s.slice(0, n).every((d: number, i: number) => d === lead[i]);
  const dense = labelsAreDense(s, dtype, classes, lead.length);
  const sparse = s.length === lead.length || (s.length === lead.length + 1 && s[s.length - 1] === 1);
  const rowsShape = lead.length === 0 ? '[] (a scalar)' : lead.length === 1 ? '[batch]' : shapeOf(lead);
  const ids =
    lead.length === 0
      ? '[] (a scalar) or [1]'
      : lead.length === 1
        ? '[batch] or [batch, 1]'
        : `${shapeOf(lead)} or ${shapeOf([...lead, 1])}`;
  if (!dense && !sparse) {
    fail(
      op,
      `labels must be class ids ${ids}, or targets ${shapeOf([...(lead.length === 1 ? (['batch'] as never[]) : lead), classes])}; got shape ${shapeOf(s)} (logits' rows: ${rowsShape})`,
    );
  }
  if (lead.length === 1 && s[0] !== lead[0]) fail(op, `labels have ${s[0]} rows but logits have ${lead[0]}`);
  if (!prefix(lead.length)) fail(op, `labels of shape ${shapeOf(s)} do not match logits' rows ${shapeOf(lead)}`);
  return { dense };
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
  } else if (Array.isArray(w) || (ArrayBuffer.isView(w) && !(w instanceof DataView))) {
    // Every entry checked to be a number (tf.tensor would drop a BigInt and read "1" or null as a number).
    t = floatTensorFromLike(op, name, w);
  } else {
    return fail(op, `${name} must be a tf.Tensor, an array or a TypedArray of ${classes} values`);
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
  } else if (typeof w === 'number' || Array.isArray(w) || (ArrayBuffer.isView(w) && !(w instanceof DataView))) {
    t = floatTensorFromLike(op, 'weights', w);
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
  if (!isOptionsObject(options)) fail(op, `options must be an object, got ${optionsShown(options)}`);
  return options;
}

/** The values of the options every loss op takes, checked: what is not given is its default. */
export interface OptionValues {
  reduction: Reducing;
  smoothing: number;
  zLoss: number;
  softcap: number | undefined;
  ignoreIndex: number | undefined;
}

export function optionValues(op: string, options: Record<string, unknown>): OptionValues {
  return {
    reduction: checkReduction(op, options.reduction ?? 'mean'),
    smoothing:
      options.labelSmoothing === undefined
        ? 0
        : checkNumber(op, 'labelSmoothing', options.labelSmoothing, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
    zLoss: options.zLoss === undefined ? 0 : checkNumber(op, 'zLoss', options.zLoss, (v) => v >= 0, '>= 0'),
    softcap: options.softcap === undefined ? undefined : checkNumber(op, 'softcap', options.softcap, (v) => v > 0, '> 0'),
    ignoreIndex:
      options.ignoreIndex === undefined
        ? undefined
        : checkNumber(op, 'ignoreIndex', options.ignoreIndex, (v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31, '(a 32-bit integer)'),
  };
}
