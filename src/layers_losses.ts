// tfjs-layers loss functions for every loss op: `model.compile({loss: layersLosses.focalLoss({gamma: 2})})`
// on a model that outputs logits (no softmax layer). yTrue may be one-hot targets [B, C] (what
// model.fit passes) or class ids [B] / [B, 1] (fitDataset). Each returns per-example losses [B],
// so tfjs-layers applies its sample weights before its mean; each function is named after its op.
// The list is the ops' own (src/losses/index.ts): a new op has its layers loss with no edit here.
import { argMax, Tensor, tidy } from '@tensorflow/tfjs-core';

import * as ops from './losses';
import { isLossOp } from './losses/op_table';
import type { LossOpInfo } from './losses/op_table';
import { isLinear } from './losses/registry';
import type { Labels, Logits, LossOptions } from './losses/types';
import { labelsAreDense } from './validate';

export type LayersLoss = (yTrue: Tensor, yPred: Tensor) => Tensor;

type Ops = typeof ops;
type OpName = { [K in keyof Ops]: Ops[K] extends LossOpInfo ? K : never }[keyof Ops];
type OptionsOf<F> = F extends (logits: Logits, labels: Labels, options?: infer O) => unknown ? O : LossOptions;
/** A layers loss per op, taking the op's options but its reduction (tfjs-layers reduces). */
export type LayersLosses = { readonly [K in OpName]: (options?: Omit<OptionsOf<Ops[K]>, 'reduction'>) => LayersLoss };

type AnyOp = (logits: Tensor, labels: Tensor, options: LossOptions) => Tensor;

/**
 * Wraps an op for tfjs-layers. Losses linear in the targets take one-hot or soft targets as they
 * are; the others take class ids, so one-hot targets are read as the class of their largest
 * entry (argMax: soft targets are not meaningful for them).
 */
function forLayers(name: string, op: AnyOp & LossOpInfo) {
  return (options: LossOptions = {}): LayersLoss => {
    if ('reduction' in options)
      throw new Error(`mixloss.layersLosses.${name}: tfjs-layers reduces the per-example losses itself; drop the reduction option`);
    const loss = (yTrue: Tensor, yPred: Tensor): Tensor => {
      const classes = yPred.shape[yPred.rank - 1];
      if (isLinear(op.lossKind) || !labelsAreDense(yTrue.shape, yTrue.dtype, classes, yPred.rank - 1)) {
        return op(yPred, yTrue, { ...options, reduction: 'none' });
      }
      return tidy(() => op(yPred, argMax(yTrue, -1), { ...options, reduction: 'none' }));
    };
    Object.defineProperty(loss, 'name', { value: name });
    return loss;
  };
}

/** tfjs-layers losses (per-example) for every loss op. */
export const layersLosses = Object.fromEntries(
  Object.entries(ops as Record<string, unknown>).flatMap(([name, op]) =>
    isLossOp(op) ? [[name, forLayers(name, op as unknown as AnyOp & LossOpInfo)]] : [],
  ),
) as LayersLosses;
