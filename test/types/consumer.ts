// Compiled (not run) by test/types.test.ts: what a TypeScript user writes must type-check.
import * as tf from '@tensorflow/tfjs';

import {
  complementEntropy,
  crossEntropy,
  focalLoss,
  informationLoss,
  layersLosses,
  losses,
  mixedLoss,
  mpceLoss,
  renyiEntropy,
  renyiInformation,
  renyiMutualInformation,
} from '../../src';
import type { LossOptions } from '../../src';

const q = tf.variable(tf.zeros([2, 3]));
const y = tf.tensor1d([0, 1], 'int32');
const opt = tf.train.sgd(0.1);

// A reducing loss is a Scalar: optimizer.minimize and tf.variableGrads accept it.
opt.minimize(() => mixedLoss(q, y));
opt.minimize(() => mixedLoss(q, y, { alpha: 1, beta: 2 }));
opt.minimize(() => crossEntropy(q, y, { reduction: 'sum', labelSmoothing: 0.1 }));
opt.minimize(() => focalLoss(q, y, { gamma: 2, reduction: tf.Reduction.MEAN }));
opt.minimize(() => mpceLoss(q, y, { reduction: tf.Reduction.SUM_BY_NONZERO_WEIGHTS }));
tf.variableGrads(() => complementEntropy(q, y));
const scalar: tf.Scalar = crossEntropy(q, y);

// Per-row losses are a Tensor, not a Scalar; a reduction only known at run time is a Tensor too.
const perRow: tf.Tensor = crossEntropy(q, y, { reduction: 'none' });
// @ts-expect-error per-row losses are not a Scalar
const notScalar: tf.Scalar = crossEntropy(q, y, { reduction: 'none' });
const options: LossOptions = { reduction: 'mean' };
// @ts-expect-error the type of `options` allows 'none'
const unknownReduction: tf.Scalar = crossEntropy(q, y, options);
// @ts-expect-error an option the loss does not have is a type error too
crossEntropy(q, y, { alpha: 1 });

// The drop-in takes tf.losses' arguments.
const dropIn: tf.Tensor = losses.softmaxCrossEntropy(tf.oneHot(y, 3), q, undefined, 0.1, tf.Reduction.MEAN);

// A layers loss for every op, with that op's options (less reduction, which tfjs-layers applies).
const focalForCompile: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor = layersLosses.focalLoss({ gamma: 2, classWeights: [1, 2, 3] });
layersLosses.mixedLoss({ alpha: 1, beta: 2 });
// @ts-expect-error focal's gamma is a number
layersLosses.focalLoss({ gamma: '2' });
// @ts-expect-error tfjs-layers reduces the per-example losses itself
layersLosses.crossEntropy({ reduction: 'sum' });
// @ts-expect-error lossKinds is not a loss op
layersLosses.lossKinds();

// The information measures: a Scalar to minimize, numbers to log, a loss for model.compile.
opt.minimize(() => renyiMutualInformation(y, tf.softmax(q), { width: 0.5 }).neg() as tf.Scalar);
const mi: tf.Scalar = renyiMutualInformation([0, 1], q, { alpha: 2, width: 'silverman' });
const bits: number = renyiInformation(y, q).mutualInformation;
const info = informationLoss({ width: 'alignment', schedule: (e: number) => 1 / (1 + e) });
const lossForCompile: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor = info.loss;
// @ts-expect-error 'alignment' is a training-loss width rule, not an op option
renyiEntropy(q, { width: 'alignment' });

export { bits, dropIn, focalForCompile, lossForCompile, mi, notScalar, perRow, scalar, unknownReduction };
