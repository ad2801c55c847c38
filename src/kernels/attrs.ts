// Names and attributes of the two custom kernels that every backend registers (as tfjs's
// kernel_names.ts declares SoftmaxAttrs and friends).
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Forward: inputs {logits, labels} → outputs [loss, rowStats]. */
export const FUSED_LOSS = 'MixlossFusedLoss';
/**
 * The forward kernel for each set of optional inputs, classWeights [C] and weights [B] (sample
 * weights): each set has its own name because tfjs saves every input a gradient lists.
 */
export const FUSED_LOSS_KERNELS = [
  { name: FUSED_LOSS, inputs: [] as string[] },
  { name: 'MixlossFusedLossClassWeighted', inputs: ['classWeights'] },
  { name: 'MixlossFusedLossSampleWeighted', inputs: ['weights'] },
  { name: 'MixlossFusedLossClassSampleWeighted', inputs: ['classWeights', 'weights'] },
];

/** The forward kernel's name for these optional inputs. */
export function fusedLossKernel(a: { classWeights: boolean; sampleWeights: boolean }): string {
  return FUSED_LOSS_KERNELS[(a.classWeights ? 1 : 0) + (a.sampleWeights ? 2 : 0)].name;
}

/** Backward: inputs {logits, labels, classWeights?, weights?, stats, dy} → output [gradient w.r.t. logits]. */
export const FUSED_LOSS_GRAD = 'MixlossFusedLossGrad';

export type Reduction = 'none' | 'sum' | 'mean';

/**
 * What 'mean' divides by, over the rows not ignored: their class weights (PyTorch), their number,
 * their sample weights (tf.Reduction.MEAN), or the number with a non-zero sample weight
 * (SUM_BY_NONZERO_WEIGHTS).
 */
export type MeanOver = 'classWeights' | 'rows' | 'sampleWeights' | 'nonzero';

/**
 * What the kernel computes, by name: a loss kind of the native registry (its list comes from
 * the addon: `lossKinds()`), the kind's named parameters, and the options every kind takes.
 * Parsed and checked once by the addon; unknown kinds and names are errors.
 */
export interface LossSpec extends NamedAttrMap {
  kind: string;
  [name: string]: number | string;
}

export interface FusedLossAttrs extends NamedAttrMap {
  /** The op's name, for the errors the kernel raises (bad labels, rows that are not targets). */
  op: string;
  loss: LossSpec;
  reduction: Reduction;
  meanOver: MeanOver;
  /** labels are [B, C] targets rather than [B] class ids */
  dense: boolean;
  /**
   * dense labels are the caller's own targets (not smoothed or class-weighted by the op): each
   * row must be a distribution (entries >= 0, summing to 1, or all 0), checked from the row
   * statistics, which catches logits passed in the labels' place.
   */
  checkTargets: boolean;
  /** the kernel has a classWeights input [C] */
  classWeights: boolean;
  /** the kernel has a weights input [B] (sample weights) */
  sampleWeights: boolean;
  /** where the forward pass runs (the op resolves 'auto') */
  device: 'cpu' | 'cuda';
}

/**
 * After the rows' statistics (their layout is the addon's: registry.ts, statsLayout): the
 * pending-gradient token and the mean's divisor.
 */
export const STATS_TRAILER = 2;

/** A named input of a kernel call (every backend's kernels read their inputs by name). */
export function kernelInput(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mixloss: kernel input ${name} is missing`);
  return t;
}
