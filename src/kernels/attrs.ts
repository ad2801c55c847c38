// Names and attributes of the two custom kernels that every backend registers.
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

/** Forward: inputs {logits, labels} → outputs [loss, rowStats]. */
export const FUSED_LOSS = 'MixlossFusedLoss';
/** Backward: inputs {logits, labels, stats, dy} → output [gradient w.r.t. logits]. */
export const FUSED_LOSS_GRAD = 'MixlossFusedLossGrad';

export type Reduction = 'none' | 'sum' | 'mean';

/** Loss kinds of the native seam (row_math.h, LossKind). */
export const LossKind = {
  mixed: 0,
  focal: 1,
  generalizedCE: 2,
  tamedCE: 3,
} as const;

export interface FusedLossAttrs extends NamedAttrMap {
  kind: number;
  alpha: number;
  beta: number;
  /** focal γ, generalized-CE q, tamed-CE a */
  param0: number;
  reduction: Reduction;
  /** labels are [B, C] targets rather than [B] class ids */
  dense: boolean;
  /** where the forward pass runs (the op resolves 'auto') */
  device: 'cpu' | 'cuda';
}

/** Floats of per-row statistics the forward pass saves for the backward pass. */
export const STATS_PER_ROW = 6;
