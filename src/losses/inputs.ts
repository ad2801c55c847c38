// A loss op's tensors as the kernel takes them, as every tfjs op takes its inputs:
//   - tensor-likes (numbers, nested arrays, TypedArrays) become tensors by tfjs's rules, labels
//     checked value by value first where tfjs would silently truncate a class id;
//   - the class axis may be any axis (`axis`, PyTorch's [N, C, d1, ...] layout): the logits (and
//     dense targets) are moved so that it is last;
//   - one row may come unbatched: logits [C] with a scalar class id (or targets [C]), as PyTorch
//     and optax take it;
//   - `where` (optax) masks classes out of a row's softmax, as if their logits were −∞, or (of the
//     rows' shape) whole rows; a row with no class left adds nothing, gets a zero gradient and is
//     not counted by 'mean'.
// Shapes are checked here before any kernel runs; the stock ops that move the axis and apply the
// mask run inside the op's tidy, on the gradient tape.
import {
  add,
  any,
  broadcastTo,
  cast,
  equal,
  expandDims,
  fill,
  floor,
  greaterEqual,
  less,
  logicalAnd,
  logicalNot,
  logicalOr,
  reshape,
  Tensor,
  tensor,
  transpose,
  where as select,
} from '@tensorflow/tfjs-core';
import type { TensorLike } from '@tensorflow/tfjs-core';

import { checkableValues, webgpuStoredDtype } from '../kernels/host_values';
import { classIdProblem } from '../kernels/input_checks';
import { described, fail, labelsAreDense } from '../validate';
import { checkAttached, shapeOf } from './checks';

/** A tensor or what tfjs ops take in its place: a number, a nested array, a TypedArray. */
export type TensorOrLike = Tensor | TensorLike;

/**
 * The class id that marks a row `where` leaves out when the op has no ignoreIndex of its own:
 * −2³¹, which no ignoreIndex option can be (|ignoreIndex| < 2³¹) and which float32 holds exactly
 * (tfjs's webgpu fill passes its value as an f32: −2³¹ + 1 arrived as −2³¹, a class id the kernel
 * then refused, and the row was NaN).
 */
export const WHERE_IGNORED = -2147483648;

const isTypedArray = (x: unknown): x is ArrayLike<number> & ArrayBufferView => ArrayBuffer.isView(x) && !(x instanceof DataView);

function fromTensorLike(op: string, name: string, x: unknown, dtype: 'float32' | 'int32' | 'bool'): Tensor {
  if (typeof x === 'number' || typeof x === 'boolean') return tensor(x, [], dtype);
  if (isTypedArray(x)) {
    checkAttached(op, name, x);
    const flat =
      dtype === 'float32' ? Float32Array.from(x) : dtype === 'int32' ? Int32Array.from(x) : Uint8Array.from(x, (v) => (v ? 1 : 0));
    return tensor(flat, [x.length], dtype);
  }
  if (!Array.isArray(x)) {
    return fail(
      op,
      `${name} must be a tf.Tensor or a tensor-like (a number, a nested array, a TypedArray), got ${x === null ? 'null' : typeof x}`,
    );
  }
  // Shape and values checked here: a tensor tfjs fails to make after allocating it would leave
  // its buffer behind on some backends (wasm).
  const { shape, values } = flatValues(op, name, x);
  const bad = values.findIndex(
    (v) => typeof v !== (dtype === 'bool' ? 'boolean' : 'number') && !(dtype === 'bool' && typeof v === 'number'),
  );
  if (bad >= 0)
    fail(
      op,
      `${name}: entry ${bad} is ${described(values[bad])} (${typeof values[bad]}), not a ${dtype === 'bool' ? 'boolean' : 'number'}`,
    );
  const flat =
    dtype === 'bool' ? Uint8Array.from(values as Array<number | boolean>, (v) => (v ? 1 : 0)) : Float32Array.from(values as number[]);
  return tensor(flat, shape, dtype);
}

/**
 * The logits as a float32 tensor: the caller's own; an int32 tensor's values as float32 (a
 * cast, as tf.losses and tf.logSoftmax take int32 logits); or one made from a tensor-like. What
 * is made here goes into `made`, for the caller to dispose.
 */
export function logitsTensor(op: string, x: unknown, made: Tensor[]): Tensor {
  return floatInput(op, 'logits', x, made);
}

/** A float32 tensor from the caller's `name`: its own, an int32 tensor cast, or a tensor-like (`made`). */
export function floatInput(op: string, name: string, x: unknown, made: Tensor[]): Tensor {
  if (x instanceof Tensor) {
    if (x.isDisposed) fail(op, `${name} is a disposed tensor`);
    if (x.dtype === 'int32') {
      const t = cast(x, 'float32');
      made.push(t);
      return t;
    }
    if (x.dtype !== 'float32') fail(op, `${name} must be float32 or int32, got ${x.dtype}`);
    return x;
  }
  const t = fromTensorLike(op, name, x, 'float32');
  made.push(t);
  return t;
}

/** The shape of a nested array or TypedArray, read along its first entries (tfjs's rule: rectangular). */
export function nestedShape(x: unknown): number[] {
  const shape: number[] = [];
  // An array that holds itself (a = [a]) ends the shape where it comes round again: its entry is
  // then a value that is not a number, which the caller reports, rather than an endless walk.
  const seen = new Set<unknown>();
  for (
    let level: unknown = x;
    (Array.isArray(level) || isTypedArray(level)) && !seen.has(level);
    level = (level as ArrayLike<unknown>)[0]
  ) {
    seen.add(level);
    shape.push((level as ArrayLike<unknown>).length);
    if ((level as ArrayLike<unknown>).length === 0) break;
  }
  return shape;
}

/** The shape of a tensor or a tensor-like (a number is a scalar; nested arrays by their first entries). */
export function inputShape(x: unknown): number[] {
  return x instanceof Tensor ? x.shape : typeof x === 'number' ? [] : nestedShape(x);
}

/** A float32 tensor from a tensor-like (a number, a nested array, a TypedArray), every entry checked to be a number. */
export function floatTensorFromLike(op: string, name: string, x: unknown): Tensor {
  return fromTensorLike(op, name, x, 'float32');
}

/** The shape of a nested array (tfjs's rule: rectangular) and its entries in order; fails when it is ragged. */
function flatValues(op: string, name: string, x: unknown[]): { shape: number[]; values: unknown[] } {
  const shape = nestedShape(x);
  const values: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      values.push(v);
      return;
    }
    if (!(Array.isArray(v) || isTypedArray(v)) || v.length !== shape[depth]) {
      const has = Array.isArray(v) || isTypedArray(v) ? `${v.length} entries` : 'no entries';
      fail(op, `${name} must be a rectangular nested array: an element at depth ${depth} has ${has}, expected ${shape[depth]}`);
    }
    for (let i = 0; i < v.length; i++) walk((v as ArrayLike<unknown>)[i], depth + 1);
  };
  walk(x, 0);
  return { shape, values };
}

const isSparseShape = (s: readonly number[], lead: readonly number[]) =>
  (s.length === lead.length && s.every((d, i) => d === lead[i])) ||
  (s.length === lead.length + 1 && s[s.length - 1] === 1 && s.slice(0, -1).every((d, i) => d === lead[i]));

/**
 * Labels as a tensor. Class ids given as numbers (a number, a nested array) are checked value by
 * value: tf.tensor would silently truncate 1.5, wrap 2^32 and turn NaN, null or "1" into numbers.
 * (Tensor and TypedArray values are checked natively.) Nested arrays of the logits' shape are targets.
 */
export function labelsTensor(
  op: string,
  y: unknown,
  lead: readonly number[],
  classes: number,
  ignoreIndex: number | undefined,
  made: Tensor[],
): Tensor {
  if (y instanceof Tensor) {
    if (y.isDisposed) fail(op, 'labels is a disposed tensor');
    return y;
  }
  const own = (t: Tensor) => (made.push(t), t);
  if (isTypedArray(y)) checkAttached(op, 'labels', y);
  if (y instanceof Int32Array) return own(tensor(y, [y.length], 'int32'));
  if (y instanceof Float32Array) return own(tensor(y, [y.length], 'float32'));
  if (isTypedArray(y)) return own(tensor(Int32Array.from(y), [y.length], 'int32'));
  if (typeof y !== 'number' && !Array.isArray(y)) {
    return fail(op, 'labels must be a tf.Tensor, class ids (a number, a nested array, an Int32Array) or targets (a nested array)');
  }
  const { shape, values } = typeof y === 'number' ? { shape: [] as number[], values: [y as unknown] } : flatValues(op, 'labels', y);
  if (!isSparseShape(shape, lead) || (classes !== 1 && shape.length === lead.length + 1 && shape[shape.length - 1] === classes)) {
    // Targets (or a shape the checks reject with their own message).
    const flat = Float32Array.from(values.map((v) => (typeof v === 'number' ? v : NaN)));
    const bad = values.findIndex((v) => typeof v !== 'number');
    if (bad >= 0) fail(op, `labels[${bad}] is ${described(values[bad])} (${typeof values[bad]}), not a number`);
    return own(tensor(flat, shape, 'float32'));
  }
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const shown = typeof v === 'number' ? String(v) : `${described(v)} (${typeof v})`;
      fail(op, `label ${shown} at row ${r} is not a class id: class ids must be integers`);
    }
  }
  const problem = classIdProblem(values as number[], classes, ignoreIndex);
  if (problem !== null) fail(op, problem);
  return own(tensor(Int32Array.from(values as number[]), shape, 'int32'));
}

/**
 * The class axis (or axes, optax's tuple: their classes flattened into one axis in their order, a
 * class id then being a flat index into them), and the permutation that moves it last
 * (undefined when it already is the last, single axis).
 */
export interface ClassAxis {
  axes: number[];
  perm?: number[];
}

export function classAxis(op: string, value: unknown, rank: number): ClassAxis {
  if (value === undefined) return { axes: [rank - 1] };
  const list = Array.isArray(value) ? value : [value];
  const range = `[${-rank}, ${rank - 1}]`;
  if (list.length === 0 || list.some((v) => typeof v !== 'number' || !Number.isInteger(v) || v < -rank || v >= rank)) {
    fail(op, `axis must be an integer in ${range} (the class axis of logits of rank ${rank}) or an array of them, got ${described(value)}`);
  }
  const axes = (list as number[]).map((v) => (v < 0 ? v + rank : v));
  if (new Set(axes).size !== axes.length) fail(op, `axis names an axis twice: ${described(value)}`);
  if (axes.length === 1 && axes[0] === rank - 1) return { axes };
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i)), ...axes];
  return { axes, perm };
}

/** A shape with the class axes moved last and flattened into one. */
export function movedShape(shape: readonly number[], a: ClassAxis): number[] {
  if (a.perm === undefined) return [...shape];
  const rows = shape.filter((_, i) => !a.axes.includes(i));
  return [...rows, a.axes.reduce((n, i) => n * shape[i], 1)];
}

/** Moves the class axes last and flattens them (a transpose and a reshape on the tape), or returns x. */
export function moveClassAxis(x: Tensor, a: ClassAxis): Tensor {
  if (a.perm === undefined) return x;
  // On webgpu, values stored as int32 (int32 and bool tensors, and float32 casts of them, which
  // share their buffer there) are moved as a float32 copy: tfjs 4.22's webgpu transpose of rank 3
  // and more does not compile for them (tensorflow/tfjs#8638) and the command buffer is dropped
  // with every program in it, so the loss read stale values. int32 targets and masks are small
  // integers. Elsewhere the transpose takes them as they are.
  const stored = webgpuStoredDtype(x);
  const moved =
    stored === undefined || stored === 'float32' ? transpose(x, a.perm) : cast(transpose(add(cast(x, 'float32'), 0), a.perm), x.dtype);
  return a.axes.length === 1 ? moved : reshape(moved, movedShape(x.shape, a));
}

/**
 * Values of a tensor of `shape` (row-major) in the order of its axes permuted by `perm`: the
 * host-side twin of moveClassAxis, for checks that read the values before any kernel runs.
 */
export function movedValues(values: ArrayLike<number>, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const strides: number[] = new Array(rank);
  let size = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = size;
    size *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]),
    outStrides = perm.map((p) => strides[p]);
  const out = new Float32Array(size);
  const index: number[] = new Array(rank).fill(0);
  let from = 0;
  for (let k = 0; k < size; k++) {
    out[k] = values[from];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      from += outStrides[d];
      if (index[d] < outShape[d]) break;
      from -= outStrides[d] * outShape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** The `where` mask: per class (the logits' rank, broadcastable to them) or per row (the rows' rank). */
export interface WhereMask {
  mask: Tensor;
  perRow: boolean;
}

export function whereMask(op: string, value: unknown, logitsShape: readonly number[], a: ClassAxis, made: Tensor[]): WhereMask {
  let m: Tensor;
  if (value instanceof Tensor) {
    if (value.isDisposed) fail(op, 'where is a disposed tensor');
    m = value.dtype === 'bool' ? value : (made.push(cast(value, 'bool')), made[made.length - 1]);
  } else {
    m = fromTensorLike(op, 'where', value, 'bool');
    made.push(m);
  }
  const rank = logitsShape.length;
  const rowsShape = logitsShape.filter((_, i) => !a.axes.includes(i));
  // Per row: the rows' rank (one less than the logits' for one class axis, less for a tuple).
  const perRow = m.rank === rowsShape.length;
  if (m.rank !== rank && !perRow) {
    fail(
      op,
      `where must have the logits' rank (${rank}: a mask per class) or the rows' (${rowsShape.length}: a mask per row), got shape ${shapeOf(m.shape)}`,
    );
  }
  const target = perRow ? rowsShape : logitsShape;
  if (!m.shape.every((d, i) => d === target[i] || d === 1)) {
    fail(op, `where of shape ${shapeOf(m.shape)} does not broadcast to ${perRow ? 'the rows' : 'the logits'} ${shapeOf(target)}`);
  }
  return { mask: m, perRow };
}

/**
 * Applies a `where` mask to the logits [...lead, C] (class axis already last) and targets: masked
 * classes become −∞ (dense targets 0 there), rows with no class left get finite logits and no
 * targets. Returns them with `included` [...lead] (bool), the rows that remain. Call inside tidy.
 */
export function applyWhere(
  w: WhereMask,
  a: ClassAxis,
  logitsShape: readonly number[],
  logits: Tensor,
  targets: Tensor | undefined,
): { logits: Tensor; targets?: Tensor; included: Tensor } {
  const lead = logits.shape.slice(0, -1);
  let included: Tensor;
  let q = logits;
  let t = targets;
  if (w.perRow) {
    included = broadcastTo(w.mask, lead);
  } else {
    const m = moveClassAxis(broadcastTo(w.mask, [...logitsShape]), a);
    included = any(m, -1);
    q = select(m, q, fill(q.shape, -Infinity));
    if (t !== undefined) t = select(m, t, fill(t.shape, 0));
  }
  const rowMask = broadcastTo(expandDims(included, -1), q.shape);
  q = select(rowMask, q, fill(q.shape, 0));
  if (t !== undefined) t = select(rowMask, t, fill(t.shape, 0));
  return { logits: q, targets: t, included };
}

/**
 * Checks class ids on the host where their values can be read (not on the GPU: see
 * kernels/host_values.ts), for the paths that change or read them before a kernel does: each an
 * integer in [0, classes) or the ignoreIndex. Returns whether it could read them.
 */
export function checkClassIds(op: string, labels: Tensor, classes: number, ignoreIndex: number | undefined): boolean {
  const values = checkableValues(labels);
  if (values === undefined) return false;
  const problem = classIdProblem(values, classes, ignoreIndex);
  if (problem !== null) fail(op, problem);
  return true;
}

/** Which class ids are valid (bool, labels' shape), in stock ops: for labels the host cannot read. Call inside tidy. */
export function validClassIds(labels: Tensor, classes: number, ignoreIndex: number | undefined): Tensor {
  const y = cast(labels, 'float32');
  const id = logicalAnd(logicalAnd(greaterEqual(y, 0), less(y, classes)), equal(floor(y), y));
  return ignoreIndex === undefined ? id : logicalOr(id, equal(y, ignoreIndex));
}

/**
 * Class ids [...lead] with the rows `where` leaves out set to `ignored`. Labels the host could not
 * check (`check` given) keep an invalid class id, so that the kernel still finds it. Call inside tidy.
 */
export function ignoreExcluded(
  labels: Tensor,
  lead: readonly number[],
  included: Tensor,
  ignored: number,
  check?: { classes: number; ignoreIndex: number | undefined },
): Tensor {
  const ids = labels.rank === lead.length ? labels : reshape(labels, [...lead]);
  const keep = check === undefined ? included : logicalOr(included, logicalNot(validClassIds(ids, check.classes, check.ignoreIndex)));
  return select(keep, ids, fill(ids.shape, ignored, ids.dtype as 'int32' | 'float32'));
}

/** Whether labels of this shape are targets, for logits whose rows have shape `lead`. */
export const denseLabels = (labels: Tensor, lead: readonly number[], classes: number) =>
  labelsAreDense(labels.shape, labels.dtype, classes, lead.length);
