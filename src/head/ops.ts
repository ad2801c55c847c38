// The fused classifier head's ops: loss(hidden · kernel + bias, labels) and its gradients with
// respect to hidden, kernel and bias, a tile of classes at a time (native/core/head): the
// logits [N, C] never exist. Every check is made first; the kernel runs with named attributes.
import { engine, getBackend, reshape, Tensor, tidy } from '@tensorflow/tfjs-core';
import type { NamedTensorMap, TensorLike } from '@tensorflow/tfjs-core';

import { checkOptions, sampleWeightTensor } from '../losses/checks';
import { weightedRows } from '../losses/weighted_rows';
import type { Labels, LossValue } from '../losses/types';
import { fail } from '../validate';
import { biasTensor, headClassWeights, headLabels, headShapes } from './inputs';
import { checkClassIds, floatInput } from '../losses/inputs';
import { linearLossKernel, LinearLossAttrs } from './kernel_names';
import { LinearLossOptions, LinearLossSpec, resolveHead } from './options';
import { ensureHeadKernels } from './register';
import { withTapeRollback } from '../kernels/tape';

export type { LinearLossOptions, LinearLossSpec } from './options';

/** The head's activations [N, D] or [..., D] (a tensor or a nested array). */
export type Hidden = Tensor | TensorLike;
/** The head's kernel [D, C]: a Dense layer's `kernel.read()` as it is. */
export type Kernel = Tensor | TensorLike;

/**
 * Runs the head for one op: every option applied, every check done first. What it records on a
 * gradient tape before it throws (a reshape of the rows, the weights' ops) leaves the tape with it.
 */
const fusedHead = (...args: Parameters<typeof fusedHeadOnTape>): Tensor => withTapeRollback(() => fusedHeadOnTape(...args));

function fusedHeadOnTape(
  op: string,
  hiddenIn: Hidden,
  kernelIn: Kernel,
  labelsIn: Labels,
  options: Record<string, unknown>,
  kind: string,
  fixed: Record<string, number> | 'fromOptions',
  extra: string[] = [],
): Tensor {
  const r = resolveHead(op, kind, options, fixed, extra);
  const made: Tensor[] = [];
  try {
    const hidden = floatInput(op, 'hidden', hiddenIn, made);
    const kernel = floatInput(op, 'kernel', kernelIn, made);
    const s = headShapes(op, hidden, kernel);
    const bias = biasTensor(op, options.bias, s.classes, made);
    const labels = headLabels(op, labelsIn, s, r.ignoreIndex, made);
    const classWeights = headClassWeights(op, options.classWeights, s.classes, made);
    const sampleWeights = options.weights === undefined ? undefined : sampleWeightTensor(op, options.weights, s.lead);
    if (sampleWeights !== undefined && sampleWeights !== options.weights) made.push(sampleWeights);
    if (s.lead.length !== 1) {
      // Labels are reshaped before the kernel checks them: check readable ones here, so that a
      // bad label fails before anything is recorded.
      checkClassIds(op, labels, s.classes, r.ignoreIndex);
    }
    // Sample weights take tf.losses.computeWeightedLoss on the row losses (any broadcastable shape,
    // and their own gradient); ignored rows count as weight 0 there.
    const kernelReduction = sampleWeights !== undefined || r.reduction === 'none' ? 'none' : r.reduction === 'sum' ? 'sum' : 'mean';
    ensureHeadKernels(getBackend());
    const attrs: LinearLossAttrs = {
      op,
      loss: r.spec,
      reduction: kernelReduction,
      bias: bias !== undefined,
      classWeights: classWeights !== undefined,
      device: r.device,
    };
    const inputs = (h: Tensor, y: Tensor): NamedTensorMap => ({
      hidden: h,
      kernel,
      labels: y,
      ...(bias ? { bias } : {}),
      ...(classWeights ? { classWeights } : {}),
    });
    if (s.lead.length === 1 && sampleWeights === undefined) {
      const [value, stats] = engine().runKernel(linearLossKernel(attrs), inputs(hidden, labels), attrs) as Tensor[];
      stats.dispose(); // the gradient keeps its own reference when a tape records
      return value;
    }
    return tidy(() => {
      const h = s.lead.length === 1 ? hidden : reshape(hidden, [s.rows, s.dims]);
      const y = s.lead.length === 1 && labels.rank === 1 ? labels : reshape(labels, [s.rows]);
      const [value] = engine().runKernel(linearLossKernel(attrs), inputs(h, y), attrs) as Tensor[];
      if (sampleWeights === undefined) return kernelReduction === 'none' ? reshape(value, s.lead) : value;
      return weightedRows(reshape(value, s.lead), sampleWeights, labels, s.lead, r.ignoreIndex, r.reduction);
    });
  } finally {
    for (const t of made) t.dispose();
  }
}

/**
 * Any loss of the registry whose gradient is f′·(p − onehot) on the logits hidden · kernel + bias,
 * fused: the logits are computed a tile of classes at a time and never stored. `kind` names it
 * ('mixed', 'mae', 'focal', 'generalizedCE', 'tamedCE'), its parameters by the registry's names
 * (defaults as the loss ops'). Gradients for hidden, kernel and bias under tf.grad and optimizers.
 */
export function linearLoss<O extends LinearLossSpec>(hidden: Hidden, kernel: Kernel, labels: Labels, options: O): LossValue<O> {
  checkOptions('linearLoss', options);
  if (options === undefined || options.kind === undefined)
    fail('linearLoss', "options.kind is required (e.g. {kind: 'mixed', alpha: 1, beta: 1})");
  if (typeof options.kind !== 'string') fail('linearLoss', `kind must be a string, got ${typeof options.kind}`);
  return fusedHead('linearLoss', hidden, kernel, labels, options, options.kind, 'fromOptions', ['kind']) as LossValue<O>;
}

/** Softmax cross entropy of hidden · kernel + bias, fused (PyTorch's F.linear_cross_entropy). */
export function linearCrossEntropy<O extends LinearLossOptions = {}>(
  hidden: Hidden,
  kernel: Kernel,
  labels: Labels,
  options: O = {} as O,
): LossValue<O> {
  checkOptions('linearCrossEntropy', options);
  return fusedHead('linearCrossEntropy', hidden, kernel, labels, options as Record<string, unknown>, 'mixed', {
    alpha: 1,
    beta: 0,
  }) as LossValue<O>;
}

/** α·CE + β·EL of hidden · kernel + bias, fused (defaults α = 1, β = 1, as mixedLoss). */
export function linearMixedLoss<O extends LinearLossOptions & { alpha?: number; beta?: number } = {}>(
  hidden: Hidden,
  kernel: Kernel,
  labels: Labels,
  options: O = {} as O,
): LossValue<O> {
  checkOptions('linearMixedLoss', options);
  return fusedHead('linearMixedLoss', hidden, kernel, labels, options as Record<string, unknown>, 'mixed', 'fromOptions') as LossValue<O>;
}
