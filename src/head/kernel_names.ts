// Names and attributes of the fused head's kernels (as kernels/attrs.ts declares the loss ops').
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

import type { LossSpec, Reduction } from '../kernels/attrs';

/** Forward: inputs {hidden [N, D], kernel [D, C], labels [N], bias? [C], classWeights? [C]} → [loss, rowStats]. */
export const LINEAR_LOSS = 'MixlossLinearLoss';

/**
 * The forward kernel for each set of optional inputs (tfjs saves every input a gradient lists,
 * so each set has its own name).
 */
export const LINEAR_LOSS_KERNELS = [
  { name: LINEAR_LOSS, inputs: [] as string[] },
  { name: 'MixlossLinearLossBiased', inputs: ['bias'] },
  { name: 'MixlossLinearLossClassWeighted', inputs: ['classWeights'] },
  { name: 'MixlossLinearLossBiasedClassWeighted', inputs: ['bias', 'classWeights'] },
];

export function linearLossKernel(a: { bias: boolean; classWeights: boolean }): string {
  return LINEAR_LOSS_KERNELS[(a.bias ? 1 : 0) + (a.classWeights ? 2 : 0)].name;
}

/** Backward: the forward's inputs, {stats, dy} → [grad hidden, grad kernel, grad bias?]. */
export const LINEAR_LOSS_GRAD = 'MixlossLinearLossGrad';

export interface LinearLossAttrs extends NamedAttrMap {
  /** The op's name, for the errors the kernel raises. */
  op: string;
  /** The loss spec, softcap included (the head applies it in its tiles). */
  loss: LossSpec;
  reduction: Reduction;
  bias: boolean;
  classWeights: boolean;
  /** Where the cpu and wasm backends run the head: the CPU kernels, or the CUDA kernels on copies. */
  device: 'cpu' | 'cuda';
}

/** After the rows' statistics: the mean's divisor. */
export const HEAD_STATS_TRAILER = 1;

/**
 * Inference: inputs {hidden [N, D], kernel [D, C], bias? [C]} → [values [N, k] (log p), indices
 * [N, k] (int32)]. Registered where a backend runs it on its own buffers (webgpu); elsewhere
 * headTopK calls the native kernel on the host arrays.
 */
export const HEAD_TOP_K = 'MixlossHeadTopK';

export interface HeadTopKAttrs extends NamedAttrMap {
  op: string;
  k: number;
  bias: boolean;
  /** 0: none */
  softcap: number;
}
