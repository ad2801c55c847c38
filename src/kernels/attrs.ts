// Names and attributes of the two custom kernels that every backend registers (as tfjs's
// kernel_names.ts declares SoftmaxAttrs and friends).
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

/** Forward: inputs {logits, labels, classWeights?} → outputs [loss, rowStats]. */
export const FUSED_LOSS = 'MixlossFusedLoss';
/** The same with a classWeights input [C] (its own name: tfjs saves every listed input). */
export const FUSED_LOSS_WEIGHTED = 'MixlossFusedLossWeighted';
/** Backward: inputs {logits, labels, classWeights?, stats, dy} → output [gradient w.r.t. logits]. */
export const FUSED_LOSS_GRAD = 'MixlossFusedLossGrad';

export type Reduction = 'none' | 'sum' | 'mean';

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
  loss: LossSpec;
  /** 'mean' divides by the class weights of the counted rows (PyTorch) or by their number. */
  reduction: Reduction;
  meanOver: 'weights' | 'rows';
  /** labels are [B, C] targets rather than [B] class ids */
  dense: boolean;
  /** the kernel has a classWeights input [C] */
  classWeights: boolean;
  /** where the forward pass runs (the op resolves 'auto') */
  device: 'cpu' | 'cuda';
}

/** Floats of per-row statistics the forward pass saves for the backward pass (row_stats.h). */
export const STATS_PER_ROW = 12;
/** After the rows' statistics: the pending-gradient token and the mean's divisor. */
export const STATS_TRAILER = 2;
