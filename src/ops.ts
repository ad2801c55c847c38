// The public loss ops: thin, checked wrappers around the fused kernel.
import { engine, getBackend, Tensor, tensor } from '@tensorflow/tfjs-core';

import { cudaStatus } from './cuda';
import { FUSED_LOSS, FusedLossAttrs, LossKind, Reduction } from './kernels/attrs';
import { ensureKernels } from './kernels/register';
import { checkFinite, checkLabels, checkLogits, checkNonNegative, checkReduction, fail } from './validate';

/** Labels: class ids ([B] or [B, 1], int32 or integral float32) or targets [B, C]. */
export type Labels = Tensor | number[] | Int32Array;

export interface LossOptions {
  /** 'mean' (default) over the batch, 'sum', or 'none' for the per-row losses [B]. */
  reduction?: Reduction;
  /**
   * Where the kernels run: 'cpu', 'cuda' (staged through pinned host buffers), or 'auto'
   * (default): CUDA when a device is available and B·C reaches the measured crossover set by
   * MIXLOSS_CUDA_MIN_ELEMENTS; the CPU otherwise.
   */
  device?: Device;
}

export interface MixedLossOptions extends LossOptions {
  /** Weight of cross entropy (default 1). */
  alpha?: number;
  /** Weight of the expectation loss 1 − p_y (default 1). */
  beta?: number;
}

export type Device = 'auto' | 'cpu' | 'cuda';

let cudaAvailable: boolean | undefined;

/** B·C from which 'auto' uses CUDA: set from the GPU benchmark's measured crossover. Read once. */
const cudaCrossover: number | undefined = (() => {
  const v = Number(process.env.MIXLOSS_CUDA_MIN_ELEMENTS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
})();

function resolveDevice(op: string, device: unknown, rows: number, classes: number): 'cpu' | 'cuda' {
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

/**
 * Labels as a tensor. A number[] must hold integer class ids in [0, classes): tf.tensor would
 * silently truncate 1.5, wrap 2^32 and turn NaN, null or "1" into numbers, so each value is
 * checked here first. (Tensor and Int32Array values are checked natively before the kernel.)
 */
function toTensor(op: string, labels: Labels, classes: number): Tensor {
  if (labels instanceof Tensor) return labels;
  if (labels instanceof Int32Array) return tensor(labels, [labels.length], 'int32');
  if (!Array.isArray(labels)) return fail(op, 'labels must be a tf.Tensor, a number[] or an Int32Array of class ids');
  for (let r = 0; r < labels.length; r++) {
    const y: unknown = labels[r];
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= classes) {
      const shown = typeof y === 'number' ? String(y) : `${JSON.stringify(y) ?? String(y)} (${typeof y})`;
      fail(op, `label ${shown} at row ${r} is not a class id in [0, ${classes}): number[] labels must be integers`);
    }
  }
  return tensor(labels, [labels.length], 'int32');
}

/** The loss of the seam: kind and parameters (row_math.h LossParams). */
type LossParams = Pick<FusedLossAttrs, 'kind' | 'alpha' | 'beta' | 'param0'>;

function fused(op: string, logits: Tensor, labels: Labels, options: LossOptions, params: LossParams): Tensor {
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const [rows, classes] = checkLogits(op, logits);
  const device = resolveDevice(op, options.device ?? 'auto', rows, classes);
  const attrs: FusedLossAttrs = { ...params, reduction, dense: false, device };
  const given = toTensor(op, labels, classes);
  try {
    const { dense } = checkLabels(op, given, rows, classes);
    attrs.dense = dense;
    if (dense && attrs.kind !== LossKind.mixed) fail(op, `takes class ids [batch] only, got targets [${given.shape}]`);
    ensureKernels(getBackend());
    // Class ids [B, 1] go to the kernel as they are (it reads B values): no reshape is recorded
    // on a gradient tape before the kernel's own label check, so a bad label leaks nothing.
    const [loss, stats] = engine().runKernel(FUSED_LOSS, { logits, labels: given }, attrs) as Tensor[];
    stats.dispose();  // the gradient keeps its own reference when a tape records
    return loss;
  } finally {
    if (given !== labels) given.dispose();
  }
}

/**
 * α·CE + β·EL (Battash, Hazan & Wolf, Eq. 12) from logits, fused: one pass for the row
 * statistics, one for the closed-form gradient (Eq. 13). Never forms a softmax or one-hot.
 * Dense targets t give Σ_j t_j (α·(−log p_j) + β·(1 − p_j)).
 */
export function mixedLoss(logits: Tensor, labels: Labels, options: MixedLossOptions = {}): Tensor {
  const { alpha = 1, beta = 1 } = options;
  checkNonNegative('mixedLoss', 'alpha', alpha);
  checkNonNegative('mixedLoss', 'beta', beta);
  return fused('mixedLoss', logits, labels, options, { kind: LossKind.mixed, alpha, beta, param0: 0 });
}

/** Softmax cross entropy −log p_y from logits (Eq. 1). */
export function crossEntropy(logits: Tensor, labels: Labels, options: LossOptions = {}): Tensor {
  return fused('crossEntropy', logits, labels, options, { kind: LossKind.mixed, alpha: 1, beta: 0, param0: 0 });
}

/** The expectation loss 1 − p_y from logits (Eq. 9). */
export function expectationLoss(logits: Tensor, labels: Labels, options: LossOptions = {}): Tensor {
  return fused('expectationLoss', logits, labels, options, { kind: LossKind.mixed, alpha: 0, beta: 1, param0: 0 });
}

/** Poly-1 (Leng et al. 2022): CE + ε(1 − p_y), the mixture with α = 1, β = ε. */
export function polyLoss(logits: Tensor, labels: Labels, options: LossOptions & { epsilon?: number } = {}): Tensor {
  const epsilon = checkNonNegative('polyLoss', 'epsilon', options.epsilon ?? 1);
  return fused('polyLoss', logits, labels, options, { kind: LossKind.mixed, alpha: 1, beta: epsilon, param0: 0 });
}

/**
 * Focal loss −(1 − p_y)^γ log p_y (Eq. 2), softmax form, no class weighting (the kornia
 * version the paper used scales it by α = 0.25: multiply the result if you want that).
 * Class ids only.
 */
export function focalLoss(logits: Tensor, labels: Labels, options: LossOptions & { gamma?: number } = {}): Tensor {
  const gamma = checkNonNegative('focalLoss', 'gamma', options.gamma ?? 2);
  return fused('focalLoss', logits, labels, options, { kind: LossKind.focal, alpha: 0, beta: 0, param0: gamma });
}

/** Generalized cross entropy (1 − p_y^q)/q (Zhang & Sabuncu 2018), q in (0, 1]. Class ids only. */
export function generalizedCrossEntropy(logits: Tensor, labels: Labels, options: LossOptions & { q?: number } = {}): Tensor {
  const q = checkFinite('generalizedCrossEntropy', 'q', options.q ?? 0.7);
  if (!(q > 0 && q <= 1)) fail('generalizedCrossEntropy', `q must be in (0, 1], got ${q}`);
  return fused('generalizedCrossEntropy', logits, labels, options, { kind: LossKind.generalizedCE, alpha: 0, beta: 0, param0: q });
}

/** Tamed cross entropy ((1 − log p_y)^(1−a) − 1)/(1 − a) (Martinez & Stiefelhagen 2018). Class ids only. */
export function tamedCrossEntropy(logits: Tensor, labels: Labels, options: LossOptions & { a?: number } = {}): Tensor {
  const a = checkNonNegative('tamedCrossEntropy', 'a', options.a ?? 0.5);
  return fused('tamedCrossEntropy', logits, labels, options, { kind: LossKind.tamedCE, alpha: 0, beta: 0, param0: a });
}
