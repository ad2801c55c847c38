// What every loss op shares: the options (reduction, sample and class weights, ignoreIndex,
// label smoothing, z-loss, device), labels of any accepted form, logits of rank >= 2, checks
// that name the op, and the call of the fused kernel. Each loss kind's op is a few lines in
// its own file beside this one.
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import type { Scalar } from '@tensorflow/tfjs-core';
import {
  add, backend_util, cast, div, tanh, engine, getBackend, losses, mul, notEqual, Reduction as TfReduction, reshape, Tensor, tensor, tidy,
} from '@tensorflow/tfjs-core';

import { cudaStatus } from '../cuda';
import { FusedLossAttrs, fusedLossKernel, LossSpec, Reduction } from '../kernels/attrs';
import { checkableValues } from '../kernels/host_values';
import { ensureKernels, hasDeviceKernels } from '../kernels/register';
import { native } from '../native';
import { checkOptionNames, fail, labelsAreDense, shown } from '../validate';
import { isLinear } from './registry';

/** Labels: class ids ([..., ] or [..., 1], int32 or integral float32) or targets [..., C]. */
export type Labels = Tensor | number[] | Int32Array;

export type Device = 'auto' | 'cpu' | 'cuda';

export interface LossOptions {
  /**
   * 'mean' (default) over the rows (with class weights: divided by the sum of the counted rows'
   * class weights, as PyTorch; ignored rows are not counted), 'sum', 'none' for the per-row
   * losses, or a tf.Reduction (SUM_BY_NONZERO_WEIGHTS, tf.losses' default, divides by the number
   * of non-zero sample weights).
   */
  reduction?: Reduction | TfReduction;
  /**
   * Per-row sample weights, tfjs semantics (tf.losses.computeWeightedLoss): a number, or a tensor
   * broadcastable to the rows' shape. 'mean' then divides by their sum.
   */
  weights?: Tensor | number | number[];
  /** Per-class weights [C] (PyTorch's `weight`): row r's loss is scaled by classWeights[y_r]. */
  classWeights?: Tensor | number[] | Float32Array;
  /** Class id of rows that add nothing, get a zero gradient and are not counted by 'mean'. */
  ignoreIndex?: number;
  /** ε in [0, 1]: targets (1 − ε)·onehot + ε/C (PyTorch and tfjs semantics). */
  labelSmoothing?: number;
  /** Adds zLoss·lse² per row (PaLM's z-loss, Liger's lse_square_scale). */
  zLoss?: number;
  /**
   * Logit soft-capping (Gemma's final_logit_softcapping): the loss sees cap·tanh(q/cap). Applied
   * with stock tfjs ops before the kernel (one more [B, C] tensor; tfjs differentiates it).
   */
  softcap?: number;
  /**
   * Where the kernels run: 'cpu', 'cuda' (staged through pinned host buffers), or 'auto'
   * (default): CUDA when a device is available and B·C reaches the measured crossover set by
   * MIXLOSS_CUDA_MIN_ELEMENTS; the CPU otherwise.
   */
  device?: Device;
}

/** Reductions that give a scalar. */
type ScalarReduction = 'mean' | 'sum' | TfReduction.MEAN | TfReduction.SUM | TfReduction.SUM_BY_NONZERO_WEIGHTS;
type ReductionOf<O> = O extends { reduction?: infer R } ? R : undefined;

/**
 * What an op returns for options O: a Scalar when the reduction is known to give one (none
 * given, 'mean', 'sum', or a reducing tf.Reduction), so `optimizer.minimize(() => loss(...))`
 * and `tf.variableGrads` compile; per-row losses (a Tensor of the rows' shape) for 'none'.
 */
export type LossValue<O> = unknown extends ReductionOf<O> ? Scalar
  : Exclude<ReductionOf<O>, undefined> extends ScalarReduction ? Scalar : Tensor;

const COMMON_OPTIONS = ['reduction', 'weights', 'classWeights', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'device'];

/** What an op asks of the fused kernel. */
export interface OpLoss {
  kind: string;
  /** The kind's named parameters (checked by the op). */
  params: Record<string, number>;
  /** The op's own option names besides the common ones (for the unknown-option check). */
  own: string[];
  /** Class weights the op derives itself (focal's per-class alpha) and how 'mean' divides then. */
  classWeights?: Tensor | number[] | Float32Array;
  meanOver?: 'classWeights' | 'rows';
}

let cudaAvailable: boolean | undefined;

/** B·C from which 'auto' uses CUDA: set from the GPU benchmark's measured crossover. Read once. */
const cudaCrossover: number | undefined = (() => {
  const v = Number(process.env.MIXLOSS_CUDA_MIN_ELEMENTS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
})();

function resolveDevice(op: string, device: unknown, rows: number, classes: number): 'cpu' | 'cuda' {
  if (hasDeviceKernels(getBackend())) {
    // The kernels run on the backend's own device (webgpu); 'cpu' and 'cuda' are for cpu and wasm.
    if (device !== 'auto') {
      fail(op, `device ${JSON.stringify(device)} applies to the cpu and wasm backends; on the ${getBackend()} backend the kernels run on ` +
        "its GPU: leave device as 'auto'");
    }
    return 'cpu';
  }
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda') {
    const status = cudaStatus();
    if (!status.available) fail(op, `device 'cuda' was requested but CUDA is not available: ${status.error}`);
    return 'cuda';
  }
  if (device !== 'auto') fail(op, `device must be 'auto', 'cpu' or 'cuda', got ${JSON.stringify(device)}`);
  if (cudaCrossover === undefined || rows * classes < cudaCrossover) return 'cpu';
  if (cudaAvailable === undefined) cudaAvailable = cudaStatus().available;
  return cudaAvailable ? 'cuda' : 'cpu';
}

type Reducing = Reduction | 'nonzero';

function checkReduction(op: string, value: unknown): Reducing {
  if (value === 'none' || value === TfReduction.NONE) return 'none';
  if (value === 'sum' || value === TfReduction.SUM) return 'sum';
  if (value === 'mean' || value === TfReduction.MEAN) return 'mean';
  if (value === TfReduction.SUM_BY_NONZERO_WEIGHTS) return 'nonzero';
  return fail(op, `reduction must be 'none', 'sum' or 'mean', got ${JSON.stringify(value)} (tf.Reduction values are accepted too)`);
}

function checkNumber(op: string, name: string, value: unknown, ok: (v: number) => boolean, range: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    fail(op, `${name} must be a finite number ${range}, got ${shown(value)}`);
  }
  return value;
}

const shapeOf = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** The checked logits: the rows' shape (all but the last axis) and the classes. */
function checkLogits(op: string, logits: unknown): { lead: number[]; rows: number; classes: number } {
  if (!(logits instanceof Tensor)) fail(op, 'logits must be a tf.Tensor');
  if (logits.isDisposed) fail(op, 'logits is a disposed tensor');
  if (logits.rank < 2) fail(op, `logits must have rank >= 2 ([batch, classes] or [batch, ..., classes]), got shape ${shapeOf(logits.shape)}`);
  if (logits.dtype !== 'float32') fail(op, `logits must be float32, got ${logits.dtype}`);
  const lead = logits.shape.slice(0, -1);
  const classes = logits.shape[logits.rank - 1];
  const rows = lead.reduce((a: number, b: number) => a * b, 1);
  if (rows === 0) fail(op, `empty batch: logits has 0 rows (shape ${shapeOf(logits.shape)})`);
  if (classes === 0) fail(op, 'logits has 0 classes');
  return { lead, rows, classes };
}

function checkLabels(op: string, labels: unknown, lead: number[], classes: number): { dense: boolean } {
  if (!(labels instanceof Tensor)) fail(op, 'labels must be a tf.Tensor (class ids or targets)');
  if (labels.isDisposed) fail(op, 'labels is a disposed tensor');
  if (labels.dtype !== 'int32' && labels.dtype !== 'float32') fail(op, `labels must be int32 or float32, got ${labels.dtype}`);
  const s = labels.shape;
  const prefix = (n: number) => s.slice(0, n).every((d: number, i: number) => d === lead[i]);
  const dense = labelsAreDense(s, labels.dtype, classes, lead.length);
  const sparse = s.length === lead.length || (s.length === lead.length + 1 && s[s.length - 1] === 1);
  const ids = lead.length === 1 ? '[batch] or [batch, 1]' : `${shapeOf(lead)} or ${shapeOf([...lead, 1])}`;
  if (!dense && !sparse) fail(op, `labels must be class ids ${ids}, or targets ${shapeOf([...lead.length === 1 ? ['batch'] as never[] : lead, classes])}; got shape ${shapeOf(s)}`);
  if (lead.length === 1 && s[0] !== lead[0]) fail(op, `labels have ${s[0]} rows but logits have ${lead[0]}`);
  if (!prefix(lead.length)) fail(op, `labels of shape ${shapeOf(s)} do not match logits' rows ${shapeOf(lead)}`);
  return { dense };
}

/**
 * Labels as a tensor. A number[] must hold integer class ids in [0, classes) (or ignoreIndex):
 * tf.tensor would silently truncate 1.5, wrap 2^32 and turn NaN, null or "1" into numbers, so
 * each value is checked here first. (Tensor and Int32Array values are checked natively.)
 */
function toTensor(op: string, labels: Labels, classes: number, ignoreIndex: number | undefined): Tensor {
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
function classWeightTensor(op: string, name: string, w: unknown, classes: number): Tensor {
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
function sampleWeightTensor(op: string, w: unknown, lead: number[]): Tensor {
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
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail(op, `options must be an object, got ${shown(options)}`);
  return options;
}

/** Runs the fused kernel for one op: every option applied, every check done first. */
export function fusedLoss(op: string, logits: Tensor, labels: Labels, options: LossOptions, loss: OpLoss): Tensor {
  checkOptionNames(op, options, [...loss.own, ...COMMON_OPTIONS]);
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const { lead, rows, classes } = checkLogits(op, logits);
  const device = resolveDevice(op, options.device ?? 'auto', rows, classes);
  const smoothing = options.labelSmoothing === undefined ? 0
    : checkNumber(op, 'labelSmoothing', options.labelSmoothing, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const zLoss = options.zLoss === undefined ? 0 : checkNumber(op, 'zLoss', options.zLoss, (v) => v >= 0, '>= 0');
  const softcap = options.softcap === undefined ? undefined : checkNumber(op, 'softcap', options.softcap, (v) => v > 0, '> 0');
  const ignoreIndex = options.ignoreIndex === undefined ? undefined
    : checkNumber(op, 'ignoreIndex', options.ignoreIndex, (v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31, '(a 32-bit integer)');
  if (options.classWeights !== undefined && loss.classWeights !== undefined) {
    fail(op, 'takes its per-class weights once: as alpha or as classWeights, not both');
  }
  const weightOption = loss.classWeights !== undefined ? 'alpha' : 'classWeights';
  const classWeightsGiven = options.classWeights ?? loss.classWeights;

  if (smoothing > 0 && !isLinear(loss.kind)) {
    fail(op, `labelSmoothing needs a loss that is linear in the targets (crossEntropy, expectationLoss, mixedLoss, polyLoss, maeLoss); ${op} is not`);
  }
  const given = toTensor(op, labels, classes, ignoreIndex);
  const made: Tensor[] = given !== labels ? [given] : [];
  try {
    const { dense } = checkLabels(op, given, lead, classes);
    if (dense && !isLinear(loss.kind)) fail(op, `takes class ids [batch] only, got targets ${shapeOf(given.shape)}`);
    if (dense && ignoreIndex !== undefined) fail(op, 'ignoreIndex is for class ids; dense targets have no class id to ignore');
    const classWeights = classWeightsGiven === undefined ? undefined : classWeightTensor(op, weightOption, classWeightsGiven, classes);
    if (classWeights !== undefined && classWeights !== classWeightsGiven) made.push(classWeights);
    const sampleWeights = options.weights === undefined ? undefined : sampleWeightTensor(op, options.weights, lead);
    if (sampleWeights !== undefined && sampleWeights !== options.weights) made.push(sampleWeights);
    const spec: LossSpec = { kind: loss.kind, ...loss.params };
    if (zLoss > 0) spec.zLoss = zLoss;
    if (smoothing > 0 && !dense) spec.labelSmoothing = smoothing;
    if (ignoreIndex !== undefined) spec.ignoreIndex = ignoreIndex;
    const problem = native().checkLoss({ loss: spec, dense, classWeights: classWeights !== undefined && !dense });
    if (problem !== null) fail(op, problem);
    ensureKernels(getBackend());
    // Sample weights of the rows' own shape go into the kernel (a named input: each row's loss
    // and gradient scaled there, the mean's divisor computed natively); other broadcastable
    // shapes take tf.losses.computeWeightedLoss on the row losses.
    const perRow = sampleWeights !== undefined && sampleWeights.shape.length === lead.length && sampleWeights.shape.every((d, i) => d === lead[i]);
    const stockWeights = sampleWeights !== undefined && !perRow;
    const kernelReduction: Reduction = stockWeights || reduction === 'none' ? 'none' : reduction === 'sum' ? 'sum' : 'mean';
    const meanOver = perRow ? (reduction === 'nonzero' ? 'nonzero' : 'sampleWeights') : loss.meanOver ?? 'classWeights';
    const attrs: FusedLossAttrs = {
      op, loss: spec, reduction: kernelReduction, meanOver, dense, checkTargets: dense && smoothing === 0 && classWeights === undefined,
      classWeights: classWeights !== undefined && !dense, sampleWeights: perRow, device,
    };
    const kernelInputs = (q: Tensor, y: Tensor): NamedTensorMap => {
      const inputs: NamedTensorMap = { logits: q, labels: y };
      if (attrs.classWeights) inputs.classWeights = classWeights as Tensor;
      if (perRow) inputs.weights = lead.length === 1 ? sampleWeights as Tensor : reshape(sampleWeights as Tensor, [rows]);
      return inputs;
    };
    const simple = lead.length === 1 && !stockWeights && softcap === undefined && !(dense && (smoothing > 0 || classWeights !== undefined));
    if (simple) {
      // Class ids [B, 1] go to the kernel as they are (it reads B values): no reshape is recorded
      // on a gradient tape before the kernel's own label check, so a bad label leaks nothing.
      const [value, stats] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(logits, given), attrs) as Tensor[];
      stats.dispose();  // the gradient keeps its own reference when a tape records
      return value;
    }
    return tidy(() => {
      let targets = given;
      if (dense) {
        // tf.losses.softmaxCrossEntropy's smoothing, then PyTorch's Σ_c w_c t_c ℓ_c.
        if (smoothing > 0) targets = add(mul(cast(targets, 'float32'), 1 - smoothing), smoothing / classes);
        if (classWeights !== undefined) targets = mul(cast(targets, 'float32'), classWeights);
      }
      const capped = softcap === undefined ? logits : mul(softcap, tanh(div(logits, softcap)));
      const flatLogits = lead.length === 1 ? capped : reshape(capped, [rows, classes]);
      const flatLabels = lead.length === 1 ? targets : reshape(targets, dense ? [rows, classes] : [rows]);
      const [value] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(flatLogits, flatLabels), attrs) as Tensor[];
      if (!stockWeights) return kernelReduction === 'none' && lead.length > 1 ? reshape(value, lead) : value;
      // tf.losses.computeWeightedLoss on the row losses (ignored rows count as zero weight, so
      // SUM_BY_NONZERO_WEIGHTS and MEAN leave them out).
      const rowLoss = reshape(value, lead);
      let w = sampleWeights as Tensor;
      if (ignoreIndex !== undefined) w = mul(w, cast(notEqual(reshape(given, lead), ignoreIndex), 'float32'));
      const tfReduction = { none: TfReduction.NONE, sum: TfReduction.SUM, mean: TfReduction.MEAN, nonzero: TfReduction.SUM_BY_NONZERO_WEIGHTS }[reduction];
      return losses.computeWeightedLoss(rowLoss, w, tfReduction);
    });
  } finally {
    for (const t of made) t.dispose();
  }
}
