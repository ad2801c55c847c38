// The public information ops: renyiMutualInformation and renyiEntropy (differentiable tfjs
// ops), renyiInformation (every term as numbers, for monitoring). Math: docs/information.md.
import type { Scalar, TensorLike } from '@tensorflow/tfjs-core';
import { argMax, engine, getBackend, reshape, Tensor, tensor, tidy } from '@tensorflow/tfjs-core';

import { unreadableHere } from '../kernels/host_values';
import { floatInput } from '../losses/inputs';
import { native, RenyiEntropies } from '../native';
import { checkOptionNames, fail, named, shown } from '../validate';
import { ensureInformationKernels, RENYI_ENTROPY, RENYI_MUTUAL_INFORMATION, RenyiAttrs } from './kernels';
import { layerData, silvermanWidth } from './width';
import { withTapeRollback } from '../kernels/tape';

/**
 * Class ids [N] or [N, 1] (int32 or integral floats), or one-hot rows [N, C]: a tensor, or what
 * tfjs ops take in its place (nested arrays such as [[3], [1]], TypedArrays).
 */
export type ClassLabels = Tensor | TensorLike;

export interface RenyiOptions {
  /** The entropy's order α > 0, α ≠ 1 (default 1.01, the paper's). α = 2 needs no eigensolver. */
  alpha?: number;
  /**
   * The Gram matrix's width s in exp(−‖a_i − a_j‖² / s²) (s = √2·σ of Giraldo et al.), or
   * 'silverman' (default): Silverman's rule on this batch, a constant for the gradient.
   * For the paper's alignment-chosen width see WidthSelector and informationLoss.
   */
  width?: number | 'silverman';
}

/** The Rényi order: a finite number > 0 and not 1 (default 1.01, the paper's). */
export function checkAlpha(op: string, value: unknown = 1.01): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value === 1) {
    fail(op, `alpha must be a finite number > 0 and not 1 (Shannon's entropy is the limit α → 1: use 1.01), got ${shown(value)}`);
  }
  return value;
}

function checkOptions(op: string, options: RenyiOptions): { alpha: number } {
  checkOptionNames(op, options, ['alpha', 'width']);
  const alpha = checkAlpha(op, options.alpha);
  const w = options.width;
  if (w !== undefined && w !== 'silverman' && !(typeof w === 'number' && Number.isFinite(w) && w > 0)) {
    fail(op, `width must be a finite number > 0 or 'silverman', got ${shown(w)}`);
  }
  return { alpha };
}

/**
 * The information ops run on the native core, which needs the values on the host: a tensor that
 * lives only in GPU memory (webgpu in Node) cannot be read synchronously, so the op stops here
 * with what to do instead of tfjs' OffscreenCanvas error from inside a read.
 */
function readable(op: string, name: string, x: Tensor): void {
  if (unreadableHere(x)) {
    fail(
      op,
      `${name} lives in GPU memory on the webgpu backend, and the Rényi information ops have no WebGPU kernel yet: ` +
        'they run on the native core, which needs the values on the host, and tfjs cannot read the GPU synchronously in Node ' +
        '(its readSync needs OffscreenCanvas). Run them on the cpu or wasm backend, or pass a copy the host holds, ' +
        `tf.tensor(await ${name}.data(), ${name}.shape) (for monitoring: no gradient reaches the original through a copy)`,
    );
  }
}

/**
 * The layer as [N, D] float32 (any rank ≥ 2 is flattened per row): a float32 tensor, an int32 one
 * cast, or a tensor-like (the loss ops' rule for logits). Callers run it inside tidy, which
 * disposes what it makes (the result aside).
 */
function layerOf(op: string, name: string, layer: Tensor | TensorLike): Tensor {
  if (layer instanceof Tensor && layer.isDisposed) fail(op, `${name} is disposed`);
  const x = floatInput(op, name, layer, []);
  if (x.rank < 2) fail(op, `${name} must have a row per example and at least one feature ([N, D]), got shape [${x.shape.join(', ')}]`);
  if (x.shape[0] < 2) fail(op, `${name} needs at least 2 rows (examples): the measures compare rows, got ${x.shape[0]}`);
  if (x.size === 0) fail(op, `${name} is empty (shape [${x.shape.join(', ')}])`);
  readable(op, name, x);
  return x.rank === 2 ? x : reshape(x, [x.shape[0], -1]);
}

/** Class ids from labels of any accepted form, checked, with the class count. */
export function classIdsOf(op: string, labels: ClassLabels, rows: number): { ids: Int32Array; classes: number } {
  let values: ArrayLike<number>;
  let shape: number[];
  if (labels instanceof Tensor) {
    if (labels.isDisposed) fail(op, 'labels are disposed');
    if (labels.dtype !== 'int32' && labels.dtype !== 'float32') fail(op, `labels must be int32 or float32, got ${labels.dtype}`);
    shape = labels.shape;
    readable(op, 'labels', labels);
    if (labels.rank === 2 && shape[1] > 1) {
      // One-hot rows: each exactly one 1 and zeros elsewhere (a soft target has no same-class indicator).
      const v = labels.dataSync();
      const c = shape[1];
      for (let r = 0; r < shape[0]; r++) {
        let ones = 0;
        for (let j = 0; j < c; j++) {
          const t = v[r * c + j];
          if (t === 1) ones++;
          else if (t !== 0)
            fail(
              op,
              `labels must be class ids or one-hot rows; row ${r} has ${t} at column ${j} (soft targets have no same-class Gram matrix)`,
            );
        }
        if (ones !== 1) fail(op, `labels must be class ids or one-hot rows; row ${r} has ${ones} ones`);
      }
      if (shape[0] !== rows) fail(op, `labels have ${shape[0]} rows but the layer has ${rows}`);
      return { ids: tidy(() => argMax(labels, 1).dataSync() as Int32Array).slice(), classes: c };
    }
    if (!(labels.rank === 1 || (labels.rank === 2 && shape[1] === 1))) {
      fail(op, `labels must be class ids [N] or [N, 1], or one-hot rows [N, C]; got shape [${shape.join(', ')}]`);
    }
    values = labels.dataSync();
  } else if (Array.isArray(labels) && labels.some((v) => Array.isArray(v) || ArrayBuffer.isView(v))) {
    // Nested: a class-id column [[3], [1]] or one-hot rows, read as the tensor they make.
    const made: Tensor[] = [];
    try {
      return classIdsOf(op, floatInput(op, 'labels', labels, made), rows);
    } finally {
      for (const t of made) t.dispose();
    }
  } else if (Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView))) {
    values = labels as ArrayLike<number>;
    shape = [values.length];
  } else {
    fail(op, `labels must be a tf.Tensor, an array of class ids or a TypedArray, got ${shown(labels)}`);
  }
  if (shape[0] !== rows) fail(op, `labels have ${shape[0]} rows but the layer has ${rows}`);
  const ids = new Int32Array(values.length);
  let classes = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31 - 2) fail(op, `label ${shown(v)} at row ${i} is not a class id (an integer >= 0)`);
    ids[i] = v;
    classes = Math.max(classes, v + 1);
  }
  return { ids, classes };
}

function widthOf(width: number | 'silverman' | undefined, x: Tensor): number {
  return typeof width === 'number' ? width : silvermanWidth(layerData(x));
}

/**
 * I_α(Y; Z) in bits, Rényi's matrix-based mutual information between class labels and a layer's
 * rows (softmax outputs, or any activations [N, ...]), differentiable with respect to the layer
 * (closed form through the matrix function: no NaN with repeated eigenvalues).
 */
export function renyiMutualInformation(labels: ClassLabels, layer: Tensor | TensorLike, options: RenyiOptions = {}): Scalar {
  const op = 'renyiMutualInformation';
  const { alpha } = checkOptions(op, options);
  return withTapeRollback(() =>
    tidy(() => {
      const z = layerOf(op, 'layer', layer);
      const { ids, classes } = classIdsOf(op, labels, z.shape[0]);
      const attrs: RenyiAttrs = { alpha, width: widthOf(options.width, z), classes, op, withGradient: false };
      ensureInformationKernels(getBackend());
      const y = tensor(ids, [ids.length], 'int32');
      return (engine().runKernel(RENYI_MUTUAL_INFORMATION, { labels: y, layer: z }, attrs as never) as unknown as Tensor[])[0] as Scalar;
    }),
  );
}

/** H_α(Z) in bits, Rényi's matrix-based entropy of a layer's rows, differentiable. */
export function renyiEntropy(layer: Tensor | TensorLike, options: RenyiOptions = {}): Scalar {
  const op = 'renyiEntropy';
  const { alpha } = checkOptions(op, options);
  return withTapeRollback(() =>
    tidy(() => {
      const z = layerOf(op, 'layer', layer);
      const attrs: RenyiAttrs = { alpha, width: widthOf(options.width, z), classes: 0, op, withGradient: false };
      ensureInformationKernels(getBackend());
      return (engine().runKernel(RENYI_ENTROPY, { layer: z }, attrs as never) as unknown as Tensor[])[0] as Scalar;
    }),
  );
}

/** Every term of I(Y; Z) (bits) and the width used, as numbers. Not differentiable. */
export function renyiInformation(
  labels: ClassLabels,
  layer: Tensor | TensorLike,
  options: RenyiOptions = {},
): RenyiEntropies & { width: number } {
  const op = 'renyiInformation';
  const { alpha } = checkOptions(op, options);
  const z = tidy(() => layerOf(op, 'layer', layer));
  try {
    const { ids, classes } = classIdsOf(op, labels, z.shape[0]);
    const data = layerData(z);
    const width = typeof options.width === 'number' ? options.width : silvermanWidth(data);
    try {
      return { ...native().renyiInformation({ ...data, labels: ids, classes, alpha, width }), width };
    } catch (e) {
      throw named(e, op);
    }
  } finally {
    if (z !== layer) z.dispose();
  }
}
