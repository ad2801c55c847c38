// The types every loss op shares: its labels, its options and what it returns, and what an op
// asks of the fused kernel.
import type { Reduction as TfReduction, Scalar, Tensor, TensorLike } from '@tensorflow/tfjs-core';

import type { Reduction } from '../kernels/attrs';

/**
 * Labels: class ids ([..., ] or [..., 1], int32 or integral float32; a number for one unbatched
 * row) or targets [..., C]; a tensor, or a tensor-like (nested arrays, TypedArrays) as tfjs ops take.
 */
export type Labels = Tensor | TensorLike;

/** Logits [..., C] (float32), a tensor or a tensor-like; [C] is one unbatched row. */
export type Logits = Tensor | TensorLike;

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
  weights?: Tensor | TensorLike;
  /** Per-class weights [C] (PyTorch's `weight`): row r's loss is scaled by classWeights[y_r]. */
  classWeights?: Tensor | TensorLike;
  /** Class id of rows that add nothing, get a zero gradient and are not counted by 'mean'. */
  ignoreIndex?: number;
  /** ε in [0, 1]: targets (1 − ε)·onehot + ε/C (PyTorch and tfjs semantics). */
  labelSmoothing?: number;
  /** Adds zLoss·lse² per row (PaLM's z-loss, Liger's lse_square_scale). */
  zLoss?: number;
  /**
   * Logit soft-capping (Gemma's final_logit_softcapping): the loss sees cap·tanh(q/cap). Applied
   * inside the kernels' loops on the cpu, wasm and webgpu backends (no [B, C] tensor: one tanh
   * per logit in each pass, the chain factor 1 − tanh² in the gradient's); as stock tfjs ops
   * before the CUDA kernels. A −∞ logit (a class masked out) stays −∞.
   */
  softcap?: number;
  /**
   * Where the kernels run: 'cpu', 'cuda' (staged through pinned host buffers), or 'auto'
   * (default): CUDA when a device is available and B·C reaches the measured crossover set by
   * MIXLOSS_CUDA_MIN_ELEMENTS; the CPU otherwise.
   */
  device?: Device;
  /**
   * The class axis of the logits (default −1, the last): 1 for PyTorch's [N, C, d1, ...] layout.
   * Class ids then have the logits' shape without it; targets have the logits' shape. Several
   * axes (optax's tuple) make one class axis of their flattened product, in their order; a class
   * id is then a flat index into them.
   */
  axis?: number | number[];
  /**
   * optax's `where`: a boolean mask of the logits' shape (or broadcastable to it) whose false
   * entries are classes left out of the row's softmax, as if their logits were −∞ (dense targets
   * are 0 there); or a mask of the rows' shape whose false rows are left out. A row with no class
   * left adds nothing, gets a zero gradient and is not counted by 'mean'.
   */
  where?: Tensor | TensorLike;
  /**
   * Dense targets must be distributions (entries >= 0, each row summing to 1, or all 0): a check
   * that catches logits passed in the labels' place (default true). false takes any real-valued
   * targets, as PyTorch does, computing Σ_j t_j ℓ_j for each row.
   */
  checkTargets?: boolean;
}

/** Reductions that give a scalar. */
type ScalarReduction = 'mean' | 'sum' | TfReduction.MEAN | TfReduction.SUM | TfReduction.SUM_BY_NONZERO_WEIGHTS;
type ReductionOf<O> = O extends { reduction?: infer R } ? R : undefined;

/**
 * What an op returns for options O: a Scalar when the reduction is known to give one (none
 * given, 'mean', 'sum', or a reducing tf.Reduction), so `optimizer.minimize(() => loss(...))`
 * and `tf.variableGrads` compile; per-row losses (a Tensor of the rows' shape) for 'none'.
 */
export type LossValue<O> =
  unknown extends ReductionOf<O> ? Scalar : Exclude<ReductionOf<O>, undefined> extends ScalarReduction ? Scalar : Tensor;

/** What an op asks of the fused kernel. */
export interface OpLoss {
  /** The kind's named parameters (checked by the op). */
  params: Record<string, number>;
  /** The op's own option names besides the common ones (for the unknown-option check). */
  own: string[];
  /** Class weights the op derives itself (focal's per-class alpha) and how 'mean' divides then. */
  classWeights?: Tensor | number[] | Float32Array;
  meanOver?: 'classWeights' | 'rows';
  /**
   * For a kind not linear in the targets: its row value Σ_c t_c ℓ(p_c) from log p and targets t
   * (stock ops), which lets the op take dense targets and label smoothing (stock_dense.ts).
   */
  denseRows?: (logp: Tensor, targets: Tensor) => Tensor;
}
