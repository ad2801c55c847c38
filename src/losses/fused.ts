// The call of the fused kernel that every loss op shares: the options applied (stock tfjs ops
// around the kernel for the few it does not take itself), every check done first (checks.ts,
// device.ts), the kernel run with its named attributes. Each loss kind's op is a few lines in
// its own file beside this one.
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import { add, broadcastTo, cast, engine, getBackend, mul, reshape, Tensor, tidy } from '@tensorflow/tfjs-core';

import { FusedLossAttrs, fusedLossKernel, LossSpec, Reduction } from '../kernels/attrs';
import { ensureKernels } from '../kernels/register';
import { checkableValues } from '../kernels/host_values';
import { checkTargetValues, ORDER_HINT } from '../kernels/input_checks';
import { checkOptionNames, described, fail, shown } from '../validate';
import { checkLabels, classWeightTensor, optionValues, sampleWeightTensor, shapeOf } from './checks';
import {
  applyWhere,
  checkClassIds,
  classAxis,
  ignoreExcluded,
  labelsTensor,
  logitsTensor,
  moveClassAxis,
  movedShape,
  movedValues,
  WHERE_IGNORED,
  whereMask,
} from './inputs';
import { resolveDevice } from './device';
import { broadcastsTo, sameShape, weightedRows } from './weighted_rows';
import { DenseRows, stockDenseLoss } from './stock_dense';
import { linearOpNames, lossOps } from './op_table';
import { checkLossSpec, isLinear } from './registry';
import type { Labels, Logits, LossOptions, OpLoss } from './types';
import { withTapeRollback } from '../kernels/tape';

const COMMON_OPTIONS = [
  'reduction',
  'weights',
  'classWeights',
  'ignoreIndex',
  'labelSmoothing',
  'zLoss',
  'softcap',
  'device',
  'axis',
  'where',
  'checkTargets',
];

/**
 * Runs check(); when it throws and the arguments look swapped (labels of a higher rank than the
 * logits, or int32 logits beside float labels: tf.losses' order), adds the argument-order hint.
 */
function withOrderHint<T>(check: () => T, logits: unknown, labels: unknown): T {
  try {
    return check();
  } catch (e) {
    const swapped =
      logits instanceof Tensor &&
      labels instanceof Tensor &&
      (labels.rank > logits.rank || (logits.dtype === 'int32' && labels.dtype === 'float32' && labels.rank >= 2));
    if (swapped && e instanceof Error) e.message += ` (${ORDER_HINT})`;
    throw e;
  }
}

/**
 * Runs the fused kernel for one op: every option applied, every check done first. What the op
 * records on a gradient tape before it throws (a broadcast of the weights, a reshape, a transpose)
 * leaves the tape with it.
 */
export function fusedLoss(op: string, logitsIn: Logits, labelsIn: Labels, options: LossOptions, loss: OpLoss): Tensor {
  return withTapeRollback(() => fusedLossOnTape(op, logitsIn, labelsIn, options, loss));
}

function fusedLossOnTape(op: string, logitsIn: Logits, labelsIn: Labels, options: LossOptions, loss: OpLoss): Tensor {
  const kind = lossOps().get(op);
  if (kind === undefined) throw new Error(`mixloss: ${op} is not a loss op (lossOp in src/losses/op_table.ts)`);
  checkOptionNames(op, options, [...loss.own, ...COMMON_OPTIONS]);
  const { reduction, smoothing, zLoss, softcap, ignoreIndex } = optionValues(op, options as Record<string, unknown>);
  if (options.checkTargets !== undefined && typeof options.checkTargets !== 'boolean') {
    fail(op, `checkTargets must be true or false, got ${shown(options.checkTargets)}`);
  }
  const linear = isLinear(kind);
  // Dense targets: through the fused kernels for kinds linear in them, through stock ops for a
  // kind that gives its dense form (focal), else an Error.
  const takesTargets = linear || loss.denseRows !== undefined;
  if (options.checkTargets !== undefined && !takesTargets) fail(op, `checkTargets is for dense targets; ${op} takes class ids only`);
  const checkTargets = options.checkTargets ?? true;
  if (options.classWeights !== undefined && loss.classWeights !== undefined) {
    fail(op, 'takes its per-class weights once: as alpha or as classWeights, not both');
  }
  const weightOption = loss.classWeights !== undefined ? 'alpha' : 'classWeights';
  const classWeightsGiven = options.classWeights ?? loss.classWeights;
  if (smoothing > 0 && !takesTargets) {
    fail(op, `labelSmoothing needs a loss that is linear in the targets (${linearOpNames()}) or focalLoss; ${op} is neither`);
  }
  const made: Tensor[] = [];
  try {
    const logits = withOrderHint(() => logitsTensor(op, logitsIn, made), logitsIn, labelsIn);
    if (logits.rank < 1) fail(op, 'logits must have a class axis: [classes], [batch, classes] or [batch, ..., classes]');
    const axis = classAxis(op, options.axis, logits.rank);
    const moved = movedShape(logits.shape, axis);
    const classes = moved[moved.length - 1];
    const lead = moved.slice(0, -1);
    const rows = lead.reduce((a: number, b: number) => a * b, 1);
    if (rows === 0) fail(op, `empty batch: logits has 0 rows (shape ${shapeOf(logits.shape)})`);
    if (classes === 0) fail(op, 'logits has 0 classes');
    const device = resolveDevice(op, options.device ?? 'auto', rows, classes);
    const given = labelsTensor(op, labelsIn, lead, classes, ignoreIndex, made);
    // Targets have the logits' own shape (their class axis moves with the logits'); class ids the rows'.
    const targetsShaped = axis.perm !== undefined && given.rank === logits.rank && given.shape.every((d, i) => d === logits.shape[i]);
    const { dense } = withOrderHint(
      () => checkLabels(op, targetsShaped ? movedShape(given.shape, axis) : given.shape, given.dtype, lead, classes),
      logits,
      given,
    );
    if (dense && !takesTargets) fail(op, `takes class ids [batch] only, got targets ${shapeOf(given.shape)}`);
    if (dense && axis.perm !== undefined && !targetsShaped) {
      // Targets in the moved layout ([..., classes] with the class axis last) would be moved again.
      fail(
        op,
        `targets must have the logits' own shape ${shapeOf(logits.shape)} (the class axis where axis ${described(options.axis)} names it), got ${shapeOf(given.shape)}; class ids have the logits' shape without the class axis`,
      );
    }
    if (dense && ignoreIndex !== undefined) fail(op, 'ignoreIndex is for class ids; dense targets have no class id to ignore');
    const mask = options.where === undefined ? undefined : whereMask(op, options.where, logits.shape, axis, made);
    if (mask !== undefined && !mask.perRow && smoothing > 0 && !dense) {
      fail(op, 'labelSmoothing on class ids with a per-class where mask: pass the smoothed targets [..., C] instead');
    }
    const classWeights = classWeightsGiven === undefined ? undefined : classWeightTensor(op, weightOption, classWeightsGiven, classes);
    if (classWeights !== undefined && classWeights !== classWeightsGiven) made.push(classWeights);
    let sampleWeights = options.weights === undefined ? undefined : sampleWeightTensor(op, options.weights, lead);
    if (sampleWeights !== undefined && sampleWeights !== options.weights) made.push(sampleWeights);
    if (sampleWeights !== undefined && !sameShape(sampleWeights.shape, lead) && broadcastsTo(sampleWeights.shape, lead)) {
      // Weights that broadcast to the rows' shape (a number, [1], [B, 1] for rows [B, T]) are
      // per-row weights: one path, so every form of the same weights gives the same value and gradient.
      sampleWeights = broadcastTo(sampleWeights, lead);
      made.push(sampleWeights);
    }
    // The caller's own dense targets are checked before smoothing, class weights or a `where`
    // mask change them (the kernel checks the targets it is given, when they are the caller's own
    // or smoothed; a mask zeroes the targets of the classes it leaves out, so their rows need not
    // sum to 1 there: targets on the GPU under a mask go unchecked).
    const stockDense = !linear && (dense || smoothing > 0);
    if (dense && checkTargets && (smoothing > 0 || classWeights !== undefined || stockDense || mask !== undefined)) {
      const values = checkableValues(given);
      // Read row by row with the class axis last, as the kernel reads them.
      if (values !== undefined)
        checkTargetValues(op, axis.perm === undefined ? values : movedValues(values, given.shape, axis.perm), rows, classes);
    }
    // Class ids that stock ops read (one-hot for the dense form) or change (`where`'s rows) before
    // the kernel would check them: checked here.
    const idsChecked = !dense && (stockDense || mask !== undefined) && checkClassIds(op, given, classes, ignoreIndex);
    if (stockDense) {
      // The kind's own parameters checked by the registry; its dense form in stock ops.
      const problem = checkLossSpec({ kind, ...loss.params }, false, false);
      if (problem !== null) fail(op, problem);
      return stockDenseLoss({
        logits,
        labels: given,
        dense,
        idsChecked,
        axis,
        mask,
        lead,
        rows,
        classes,
        smoothing,
        zLoss,
        softcap,
        ignoreIndex,
        classWeights,
        meanOverClassWeights: (loss.meanOver ?? 'classWeights') === 'classWeights',
        sampleWeights,
        reduction,
        denseRows: loss.denseRows as DenseRows,
      });
    }
    const spec: LossSpec = { kind, ...loss.params };
    if (zLoss > 0) spec.zLoss = zLoss;
    // Soft-capping inside the kernels' loops (cpu, wasm, webgpu and CUDA).
    if (softcap !== undefined) spec.softcap = softcap;
    if (smoothing > 0 && !dense) spec.labelSmoothing = smoothing;
    // Rows `where` leaves out are ignored class ids, or (targets) rows of weight 0.
    const ignored = ignoreIndex ?? (mask !== undefined && !dense ? WHERE_IGNORED : undefined);
    if (ignored !== undefined) spec.ignoreIndex = ignored;
    const problem = checkLossSpec(spec, dense, classWeights !== undefined && !dense);
    if (problem !== null) fail(op, problem);
    ensureKernels(getBackend());
    // Sample weights of the rows' own shape go into the kernel (a named input: each row's loss
    // and gradient scaled there, the mean's divisor computed natively); other broadcastable
    // shapes take tf.losses.computeWeightedLoss on the row losses. Targets under a where mask
    // take the mask's rows as weights (times the caller's).
    // Weights that grow the rows' shape (tf.losses takes them) weight the row losses in stock ops.
    const stockWeights = sampleWeights !== undefined && !sameShape(sampleWeights.shape, lead);
    const maskWeights = mask !== undefined && dense && !stockWeights;
    const perRow = maskWeights || (sampleWeights !== undefined && !stockWeights);
    const kernelReduction: Reduction = stockWeights || reduction === 'none' ? 'none' : reduction === 'sum' ? 'sum' : 'mean';
    const meanOver = perRow ? (reduction === 'nonzero' ? 'nonzero' : 'sampleWeights') : (loss.meanOver ?? 'classWeights');
    const attrs: FusedLossAttrs = {
      op,
      loss: spec,
      reduction: kernelReduction,
      meanOver,
      dense,
      checkTargets: dense && checkTargets && classWeights === undefined && mask === undefined,
      classWeights: classWeights !== undefined && !dense,
      sampleWeights: perRow,
      device,
    };
    const kernelInputs = (q: Tensor, y: Tensor, w: Tensor | undefined): NamedTensorMap => {
      const inputs: NamedTensorMap = { logits: q, labels: y };
      if (attrs.classWeights) inputs.classWeights = classWeights as Tensor;
      if (perRow) inputs.weights = lead.length === 1 ? (w as Tensor) : reshape(w as Tensor, [rows]);
      return inputs;
    };
    const simple =
      lead.length === 1 &&
      axis.perm === undefined &&
      mask === undefined &&
      !stockWeights &&
      !(dense && (smoothing > 0 || classWeights !== undefined));
    if (simple) {
      // Class ids [B, 1] go to the kernel as they are (it reads B values): no reshape is recorded
      // on a gradient tape before the kernel's own label check, so a bad label leaks nothing.
      const [value, stats] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(logits, given, sampleWeights), attrs) as Tensor[];
      stats.dispose(); // the gradient keeps its own reference when a tape records
      return value;
    }
    return tidy(() => {
      let q = moveClassAxis(logits, axis);
      let targets = dense ? moveClassAxis(given, axis) : given;
      if (dense) {
        // tf.losses.softmaxCrossEntropy's smoothing, then PyTorch's Σ_c w_c t_c ℓ_c.
        if (smoothing > 0) targets = add(mul(cast(targets, 'float32'), 1 - smoothing), smoothing / classes);
        if (classWeights !== undefined) targets = mul(cast(targets, 'float32'), classWeights);
      }
      let weights = sampleWeights;
      if (mask !== undefined) {
        const applied = applyWhere(mask, axis, logits.shape, q, dense ? cast(targets, 'float32') : undefined);
        q = applied.logits;
        if (dense) {
          targets = applied.targets as Tensor;
          const rowsIn = cast(applied.included, 'float32');
          weights = sampleWeights === undefined ? rowsIn : mul(sampleWeights, rowsIn);
        } else {
          targets = ignoreExcluded(targets, lead, applied.included, ignored as number, idsChecked ? undefined : { classes, ignoreIndex });
        }
      }
      const flatLogits = lead.length === 1 ? q : reshape(q, [rows, classes]);
      const flatLabels = lead.length === 1 && targets.rank <= 2 ? targets : reshape(targets, dense ? [rows, classes] : [rows]);
      const [value] = engine().runKernel(fusedLossKernel(attrs), kernelInputs(flatLogits, flatLabels, weights), attrs) as Tensor[];
      if (!stockWeights) return kernelReduction === 'none' && lead.length !== 1 ? reshape(value, lead) : value;
      return weightedRows(reshape(value, lead), weights as Tensor, targets, lead, ignored, reduction);
    });
  } finally {
    for (const t of made) t.dispose();
  }
}
