// tfjs-layers loss functions for every loss op: `model.compile({loss: layersLosses.focalLoss({gamma: 2})})`
// on a model that outputs logits (no softmax layer). yTrue may be one-hot targets [B, C] (what
// model.fit passes) or class ids [B] / [B, 1] (fitDataset). Each returns per-example losses [B],
// so tfjs-layers applies its sample weights before its mean; each function is named after its op.
// The list is the ops' own (src/losses/index.ts): a new op has its layers loss with no edit here.
import { argMax, cast, equal, fill, logicalAnd, max, sum, Tensor, tidy, where as select } from '@tensorflow/tfjs-core';

import * as ops from './losses';
import { checkableValues } from './kernels/host_values';
import { isLossOp, linearOpNames, takesTargets } from './losses/op_table';
import type { LossOpInfo } from './losses/op_table';
import type { Labels, Logits, LossOptions } from './losses/types';
import { labelsAreDense, layersTensors, optionsObject } from './validate';

export type LayersLoss = (yTrue: Tensor, yPred: Tensor) => Tensor;

type Ops = typeof ops;
type OpName = { [K in keyof Ops]: Ops[K] extends LossOpInfo ? K : never }[keyof Ops];
type OptionsOf<F> = F extends (logits: Logits, labels: Labels, options?: infer O) => unknown ? O : LossOptions;
/** A layers loss per op, taking the op's options but its reduction (tfjs-layers reduces). */
export type LayersLosses = { readonly [K in OpName]: (options?: Omit<OptionsOf<Ops[K]>, 'reduction'>) => LayersLoss };

type AnyOp = (logits: Tensor, labels: Tensor, options: LossOptions) => Tensor;

/**
 * Wraps an op for tfjs-layers. Ops that take targets (kinds linear in them, and focal) take
 * one-hot or soft targets as they are; the others take class ids, so a one-hot row is read as
 * its class. A row of targets that is not one-hot is an Error for them (never the argMax of a
 * soft row); where the targets cannot be read synchronously (webgpu in Node) such a row gets a
 * NaN loss instead, as the webgpu kernels mark rows they cannot take.
 */
function forLayers(name: string, op: AnyOp & LossOpInfo) {
  return (given?: LossOptions): LayersLoss => {
    const options = optionsObject(`layersLosses.${name}`, given);
    if ('reduction' in options)
      throw new Error(`mixloss.layersLosses.${name}: tfjs-layers reduces the per-example losses itself; drop the reduction option`);
    const loss = (yTrue: Tensor, yPred: Tensor): Tensor => {
      layersTensors(`layersLosses.${name}`, yTrue, yPred);
      const classes = yPred.shape[yPred.rank - 1];
      if (takesTargets(op) || !labelsAreDense(yTrue.shape, yTrue.dtype, classes, yPred.rank - 1)) {
        return op(yPred, yTrue, { ...options, reduction: 'none' });
      }
      const values = checkableValues(yTrue);
      if (values !== undefined) {
        for (let r = 0; r < values.length / classes; r++) {
          if (!isOneHot(values, r * classes, classes)) {
            throw new Error(
              `mixloss.layersLosses.${name}: yTrue row ${r} is not one-hot; ${name} takes class ids, and soft targets have no class ` +
                `to take (use a loss that takes targets: ${linearOpNames()}, focalLoss)`,
            );
          }
        }
        return tidy(() => op(yPred, argMax(yTrue, -1), { ...options, reduction: 'none' }));
      }
      return tidy(() => {
        const t = cast(yTrue, 'float32');
        const oneHotRows = logicalAnd(equal(max(t, -1), 1), equal(sum(t, -1), 1));
        const value = op(yPred, argMax(t, -1), { ...options, reduction: 'none' });
        return select(oneHotRows, value, fill(value.shape, NaN));
      });
    };
    Object.defineProperty(loss, 'name', { value: name });
    return loss;
  };
}

/** Whether values[at, at + n) is one 1 and zeros. */
function isOneHot(values: ArrayLike<number>, at: number, n: number): boolean {
  let ones = 0;
  for (let j = at; j < at + n; j++) {
    if (values[j] === 1) ones++;
    else if (values[j] !== 0) return false;
  }
  return ones === 1;
}

/** tfjs-layers losses (per-example) for every loss op. */
export const layersLosses = Object.fromEntries(
  Object.entries(ops as Record<string, unknown>).flatMap(([name, op]) =>
    isLossOp(op) ? [[name, forLayers(name, op as unknown as AnyOp & LossOpInfo)]] : [],
  ),
) as LayersLosses;
