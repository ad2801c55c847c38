// The call of the fused kernel that every loss op shares: the options applied (stock tfjs ops
// around the kernel for the few it does not take itself), every check done first (checks.ts,
// device.ts), the kernel run with its named attributes. Each loss kind's op is a few lines in
// its own file beside this one.
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import {
  add,
  cast,
  div,
  engine,
  getBackend,
  losses,
  mul,
  notEqual,
  Reduction as TfReduction,
  reshape,
  tanh,
  Tensor,
  tidy,
} from '@tensorflow/tfjs-core';

import { FusedLossAttrs, fusedLossKernel, LossSpec, Reduction } from '../kernels/attrs';
import { ensureKernels } from '../kernels/register';
import { native } from '../native';
import { checkOptionNames, fail } from '../validate';
import { checkLabels, checkLogits, checkNumber, checkReduction, classWeightTensor, sampleWeightTensor, shapeOf, toTensor } from './checks';
import { resolveDevice } from './device';
import { linearOpNames, lossOps } from './op_table';
import { isLinear } from './registry';
import type { Labels, LossOptions, OpLoss } from './types';

const COMMON_OPTIONS = ['reduction', 'weights', 'classWeights', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'device'];

/** Runs the fused kernel for one op: every option applied, every check done first. */
export function fusedLoss(op: string, logits: Tensor, labels: Labels, options: LossOptions, loss: OpLoss): Tensor {
  const kind = lossOps().get(op);
  if (kind === undefined) throw new Error(`mixloss: ${op} is not a loss op (lossOp in src/losses/op_table.ts)`);
  checkOptionNames(op, options, [...loss.own, ...COMMON_OPTIONS]);
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const { lead, rows, classes } = checkLogits(op, logits);
  const device = resolveDevice(op, options.device ?? 'auto', rows, classes);
  const smoothing =
    options.labelSmoothing === undefined
      ? 0
      : checkNumber(op, 'labelSmoothing', options.labelSmoothing, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  const zLoss = options.zLoss === undefined ? 0 : checkNumber(op, 'zLoss', options.zLoss, (v) => v >= 0, '>= 0');
  const softcap = options.softcap === undefined ? undefined : checkNumber(op, 'softcap', options.softcap, (v) => v > 0, '> 0');
  const ignoreIndex =
    options.ignoreIndex === undefined
      ? undefined
      : checkNumber(op, 'ignoreIndex', options.ignoreIndex, (v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31, '(a 32-bit integer)');
  if (options.classWeights !== undefined && loss.classWeights !== undefined) {
    fail(op, 'takes its per-class weights once: as alpha or as classWeights, not both');
  }
  const weightOption = loss.classWeights !== undefined ? 'alpha' : 'classWeights';
  const classWeightsGiven = options.classWeights ?? loss.classWeights;

  if (smoothing > 0 && !isLinear(kind)) {
    fail(op, `labelSmoothing needs a loss that is linear in the targets (${linearOpNames()}); ${op} is not`);
  }
  const given = toTensor(op, labels, classes, ignoreIndex);
  const made: Tensor[] = given !== labels ? [given] : [];
  try {
    const { dense } = checkLabels(op, given, lead, classes);
    if (dense && !isLinear(kind)) fail(op, `takes class ids [batch] only, got targets ${shapeOf(given.shape)}`);
    if (dense && ignoreIndex !== undefined) fail(op, 'ignoreIndex is for class ids; dense targets have no class id to ignore');
    const classWeights = classWeightsGiven === undefined ? undefined : classWeightTensor(op, weightOption, classWeightsGiven, classes);
    if (classWeights !== undefined && classWeights !== classWeightsGiven) made.push(classWeights);
    const sampleWeights = options.weights === undefined ? undefined : sampleWeightTensor(op, options.weights, lead);
    if (sampleWeights !== undefined && sampleWeights !== options.weights) made.push(sampleWeights);
    const spec: LossSpec = { kind, ...loss.params };
    if (zLoss > 0) spec.zLoss = zLoss;
    if (smoothing > 0 && !dense) spec.labelSmoothing = smoothing;
    if (ignoreIndex !== undefined) spec.ignoreIndex = ignoreIndex;
    const problem = native().checkLoss({ loss: spec, dense, classWeights: classWeights !== undefined && !dense });
    if (problem !== null) fail(op, problem);
    ensureKernels(getBackend());
    // Sample weights of the rows' own shape go into the kernel (a named input: each row's loss
    // and gradient scaled there, the mean's divisor computed natively); other broadcastable
    // shapes take tf.losses.computeWeightedLoss on the row losses.
    const perRow =
      sampleWeights !== undefined && sampleWeights.shape.length === lead.length && sampleWeights.shape.every((d, i) => d === lead[i]);
    const stockWeights = sampleWeights !== undefined && !perRow;
    const kernelReduction: Reduction = stockWeights || reduction === 'none' ? 'none' : reduction === 'sum' ? 'sum' : 'mean';
    const meanOver = perRow ? (reduction === 'nonzero' ? 'nonzero' : 'sampleWeights') : (loss.meanOver ?? 'classWeights');
    const attrs: FusedLossAttrs = {
      op,
      loss: spec,
      reduction: kernelReduction,
      meanOver,
      dense,
      checkTargets: dense && smoothing === 0 && classWeights === undefined,
      classWeights: classWeights !== undefined && !dense,
      sampleWeights: perRow,
      device,
    };
    const kernelInputs = (q: Tensor, y: Tensor): NamedTensorMap => {
      const inputs: NamedTensorMap = { logits: q, labels: y };
      if (attrs.classWeights) inputs.classWeights = classWeights as Tensor;
      if (perRow) inputs.weights = lead.length === 1 ? (sampleWeights as Tensor) : reshape(sampleWeights as Tensor, [rows]);
      return inputs;
    };
    const simple = lead.length === 1 && !stockWeights && softcap === undefined && !(dense && (smoothing > 0 || classWeights !== undefined));
    if (simple) {
      // Class ids [B, 1] go to the kernel as they are (it reads B values): no reshape is recorded
      // on a gradient tape before the kernel's own label check, so a bad label leaks nothing.
      const [value, stats] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(logits, given), attrs) as Tensor[];
      stats.dispose(); // the gradient keeps its own reference when a tape records
      return value;
    }
    return tidy(() => {
      let targets = given;
      if (dense) {
        // tf.losses.softmaxCrossEntropy's smoothing, then PyTorch's Σ_c w_c t_c ℓ_c.
        if (smoothing > 0) targets = add(mul(cast(targets, 'float32'), 1 - smoothing), smoothing / classes);
        if (classWeights !== undefined) targets = mul(cast(targets, 'float32'), classWeights);
      }
      const capped = softcap === undefined ? logits : mul(softcap, tanh(div(logits, softcap)));
      const flatLogits = lead.length === 1 ? capped : reshape(capped, [rows, classes]);
      const flatLabels = lead.length === 1 ? targets : reshape(targets, dense ? [rows, classes] : [rows]);
      const [value] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(flatLogits, flatLabels), attrs) as Tensor[];
      if (!stockWeights) return kernelReduction === 'none' && lead.length > 1 ? reshape(value, lead) : value;
      // tf.losses.computeWeightedLoss on the row losses (ignored rows count as zero weight, so
      // SUM_BY_NONZERO_WEIGHTS and MEAN leave them out).
      const rowLoss = reshape(value, lead);
      let w = sampleWeights as Tensor;
      if (ignoreIndex !== undefined) w = mul(w, cast(notEqual(reshape(given, lead), ignoreIndex), 'float32'));
      const tfReduction = {
        none: TfReduction.NONE,
        sum: TfReduction.SUM,
        mean: TfReduction.MEAN,
        nonzero: TfReduction.SUM_BY_NONZERO_WEIGHTS,
      }[reduction];
      return losses.computeWeightedLoss(rowLoss, w, tfReduction);
    });
  } finally {
    for (const t of made) t.dispose();
  }
}
