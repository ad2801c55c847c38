// tfjs-layers loss functions for every kind: `model.compile({loss: layersLosses.focalLoss({gamma: 2})})`
// on a model that outputs logits (no softmax layer). yTrue may be one-hot targets [B, C] (what
// model.fit passes) or class ids [B] / [B, 1] (fitDataset). Each returns per-example losses [B],
// so tfjs-layers applies its sample weights before its mean; each function is named after its op.
import { argMax, Tensor, tidy } from '@tensorflow/tfjs-core';

import {
  complementEntropy, crossEntropy, expectationLoss, focalLoss, generalizedCrossEntropy, maeLoss, mixedLoss, mpceLoss, polyLoss, tamedCrossEntropy,
} from './losses';
import type { FocalLossOptions, GeneralizedCEOptions, LossOptions, MixedLossOptions } from './losses';
import { labelsAreDense } from './validate';

type Op<O> = (logits: Tensor, labels: Tensor, options: O) => Tensor;
export type LayersLoss = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * Wraps an op for tfjs-layers. Losses linear in the targets take one-hot or soft targets as they
 * are; the others take class ids, so one-hot targets are read as the class of their largest
 * entry (argMax: soft targets are not meaningful for them).
 */
function forLayers<O extends LossOptions>(name: string, op: Op<O>, linear: boolean) {
  return (options: Omit<O, 'reduction'> = {} as O): LayersLoss => {
    if ('reduction' in options) throw new Error(`mixloss.layersLosses.${name}: tfjs-layers reduces the per-example losses itself; drop the reduction option`);
    const loss = (yTrue: Tensor, yPred: Tensor): Tensor => {
      const classes = yPred.shape[yPred.rank - 1];
      if (linear || !labelsAreDense(yTrue.shape, yTrue.dtype, classes, yPred.rank - 1)) {
        return op(yPred, yTrue, { ...options, reduction: 'none' } as unknown as O);
      }
      return tidy(() => op(yPred, argMax(yTrue, -1), { ...options, reduction: 'none' } as unknown as O));
    };
    Object.defineProperty(loss, 'name', { value: name });
    return loss;
  };
}

/** tfjs-layers losses (per-example) for every kind. */
export const layersLosses = {
  crossEntropy: forLayers<LossOptions>('crossEntropy', crossEntropy, true),
  expectationLoss: forLayers<LossOptions>('expectationLoss', expectationLoss, true),
  mixedLoss: forLayers<MixedLossOptions>('mixedLoss', mixedLoss, true),
  polyLoss: forLayers<LossOptions & { epsilon?: number }>('polyLoss', polyLoss, true),
  maeLoss: forLayers<LossOptions>('maeLoss', maeLoss, true),
  focalLoss: forLayers<FocalLossOptions>('focalLoss', focalLoss, false),
  generalizedCrossEntropy: forLayers<GeneralizedCEOptions>('generalizedCrossEntropy', generalizedCrossEntropy, false),
  tamedCrossEntropy: forLayers<LossOptions & { a?: number }>('tamedCrossEntropy', tamedCrossEntropy, false),
  mpceLoss: forLayers<LossOptions>('mpceLoss', mpceLoss, false),
  complementEntropy: forLayers<LossOptions>('complementEntropy', complementEntropy, false),
};
