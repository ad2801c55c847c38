// Complement entropy (kind 'complementEntropy', COT: Chen et al. 2019, the paper's Eq. 6) and
// its authors' training scheme: a CE step, then a complement-entropy step.
import type { Optimizer, Scalar, Tensor } from '@tensorflow/tfjs-core';

import { fusedLoss } from './fused';
import { lossOp } from './op_table';
import type { Labels, Logits, LossOptions, LossValue } from './types';
import { crossEntropy } from './mixed';
import { checkOptionNames, fail, optionsObject, shown } from '../validate';
import { checkReduction } from './checks';

const STEP = 'complementObjectiveStep';

/** Something with tf.train's minimize (an Optimizer), or an Error that names `name`. */
function checkOptimizer(name: string, value: unknown): Optimizer {
  if (value === null || typeof value !== 'object' || typeof (value as { minimize?: unknown }).minimize !== 'function') {
    fail(STEP, `${name} must be a tf.train optimizer (tf.train.sgd(0.1), say), got ${shown(value)}`);
  }
  return value as Optimizer;
}

/**
 * (1/C)·Σ_{j≠y} r_j log r_j with r_j = p_j/(1 − p_y): the negative entropy of the prediction
 * over the wrong classes, divided by the class count, as the authors' code minimizes it (it is
 * ≤ 0 and lowest when the wrong classes are equally likely). Class ids only.
 */
export const complementEntropy = lossOp('complementEntropy', function complementEntropy<
  O extends LossOptions = {},
>(logits: Logits, labels: Labels, options: O = {} as O): LossValue<O> {
  return fusedLoss('complementEntropy', logits, labels, options, { params: {}, own: [] }) as LossValue<O>;
});

export interface ComplementStepOptions {
  /** The optimizer of the complement step (default: the CE step's). The authors use a second SGD. */
  complementOptimizer?: Optimizer;
  /** Options of both losses (reduction, classWeights, ignoreIndex, device, ...). */
  lossOptions?: LossOptions;
}

/**
 * One iteration of Complement Objective Training: `optimizer.minimize` of CE, then of the
 * complement entropy, each on a fresh forward pass of `predict` (two forward/backward passes,
 * as the paper describes). Returns both losses (before their steps).
 */
export function complementObjectiveStep(
  optimizer: Optimizer,
  predict: () => Tensor,
  labels: Labels,
  options: ComplementStepOptions = {},
): { crossEntropy: number; complementEntropy: number } {
  checkOptimizer('optimizer', optimizer);
  if (typeof predict !== 'function') fail(STEP, `predict must be a function that returns the logits, got ${shown(predict)}`);
  const given = optionsObject(STEP, options);
  checkOptionNames(STEP, given, ['complementOptimizer', 'lossOptions']);
  const second = given.complementOptimizer === undefined ? optimizer : checkOptimizer('complementOptimizer', given.complementOptimizer);
  const lossOptions = given.lossOptions === undefined ? {} : optionsObject(`${STEP}: lossOptions`, given.lossOptions);
  // Each step minimizes a scalar.
  if (lossOptions.reduction !== undefined && checkReduction(STEP, lossOptions.reduction) === 'none') {
    fail(STEP, "lossOptions.reduction 'none' gives no scalar to minimize: use 'mean' or 'sum'");
  }
  const ce = optimizer.minimize(() => crossEntropy(predict(), labels, lossOptions) as Scalar, true) as Scalar;
  const cot = second.minimize(() => complementEntropy(predict(), labels, lossOptions) as Scalar, true) as Scalar;
  const out = { crossEntropy: ce.dataSync()[0], complementEntropy: cot.dataSync()[0] };
  ce.dispose();
  cot.dispose();
  return out;
}
