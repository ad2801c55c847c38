// The dense form of a kind that is not linear in the targets, in stock tfjs ops: Σ_c t_c ℓ(p_c)
// for focal loss on one-hot or soft targets and with label smoothing (keras'
// CategoricalFocalCrossentropy). The fused kernels take dense targets only for kinds linear in
// them, where the row statistics suffice; ℓ(p_c) of every class needs the row's normalizer first
// and a class-by-class sum after, so this path forms log p [rows, C] (one more tensor of the
// logits' size, as stock losses do) and tfjs differentiates it. The options mean here what they
// mean on the fused path.
import {
  add,
  cast,
  expandDims,
  fill,
  logSoftmax,
  logSumExp,
  mul,
  notEqual,
  oneHot,
  ones,
  onesLike,
  reshape,
  square,
  sum,
  Tensor,
  tidy,
  where as select,
  zerosLike,
} from '@tensorflow/tfjs-core';

import type { Reducing } from './checks';
import { applyWhere, ClassAxis, moveClassAxis, validClassIds, WhereMask } from './inputs';
import { softcapLogits } from './softcap';
import { meanOf, reduceWeighted } from './weighted_rows';

/** A kind's row value Σ_c t_c ℓ(p_c) from log p [rows, C] and targets t [rows, C]: [rows]. */
export type DenseRows = (logp: Tensor, targets: Tensor) => Tensor;

export interface StockDenseCall {
  logits: Tensor;
  /** targets of the logits' shape, or class ids of the rows' shape (made targets here: one-hot, smoothed) */
  labels: Tensor;
  /** class ids already checked on the host; if not (on the GPU), a row with an invalid one is NaN */
  idsChecked: boolean;
  dense: boolean;
  axis: ClassAxis;
  mask?: WhereMask;
  lead: number[];
  rows: number;
  classes: number;
  smoothing: number;
  zLoss: number;
  softcap?: number;
  ignoreIndex?: number;
  classWeights?: Tensor;
  /** class ids under 'mean' divide by their rows' class weights (PyTorch), else by the rows */
  meanOverClassWeights: boolean;
  sampleWeights?: Tensor;
  reduction: Reducing;
  denseRows: DenseRows;
}

export function stockDenseLoss(c: StockDenseCall): Tensor {
  return tidy(() => {
    let q = moveClassAxis(c.logits, c.axis);
    // Rows that count (1) or not (0: an ignored class id, a row `where` leaves out).
    let counted: Tensor;
    let t: Tensor;
    let ids: Tensor | undefined;
    let validRows: Tensor | undefined;
    if (c.dense) {
      t = cast(moveClassAxis(c.labels, c.axis), 'float32');
      counted = ones(c.lead);
    } else {
      if (!c.idsChecked) validRows = validClassIds(reshape(c.labels, c.lead), c.classes, c.ignoreIndex);
      const y = cast(reshape(c.labels, c.lead), 'int32');
      if (c.ignoreIndex === undefined) {
        ids = y;
        counted = ones(c.lead);
      } else {
        const kept = notEqual(y, c.ignoreIndex);
        ids = select(kept, y, zerosLike(y));
        counted = cast(kept, 'float32');
      }
      t = mul(oneHotIds(ids, c.classes), reshape(counted, [...c.lead, 1]));
    }
    if (c.smoothing > 0) t = add(mul(t, 1 - c.smoothing), c.smoothing / c.classes);
    if (c.classWeights !== undefined) t = mul(t, c.classWeights);
    if (c.mask !== undefined) {
      const applied = applyWhere(c.mask, c.axis, c.logits.shape, q, t);
      q = applied.logits;
      t = applied.targets as Tensor;
      counted = mul(counted, cast(applied.included, 'float32'));
    }
    if (c.softcap !== undefined) q = softcapLogits(q, c.softcap);
    const flatQ = reshape(q, [c.rows, c.classes]);
    let value = c.denseRows(logSoftmax(flatQ), reshape(t, [c.rows, c.classes]));
    if (c.zLoss > 0) value = add(value, mul(c.zLoss, square(logSumExp(flatQ, -1))));
    const flatCounted = reshape(counted, [c.rows]);
    value = reshape(select(cast(flatCounted, 'bool'), value, zerosLike(value)), c.lead);
    // As the webgpu kernels mark a row whose class id they find invalid.
    if (validRows !== undefined) value = select(validRows, value, fill(value.shape, NaN));
    if (c.sampleWeights !== undefined) {
      return reduceWeighted(value, mul(c.sampleWeights, counted), c.lead, c.reduction);
    }
    if (c.reduction === 'none') return value;
    const total = sum(value);
    if (c.reduction === 'sum') return total;
    // 'mean': over the counted rows, or (class ids with class weights, PyTorch) their weights; 0/0 is NaN.
    const divisor =
      c.meanOverClassWeights && ids !== undefined && c.classWeights !== undefined
        ? sum(mul(counted, reshape(gatherWeights(c.classWeights, ids), counted.shape)))
        : sum(counted);
    return meanOf(total, divisor);
  });
}

/** classWeights[ids] without tf.gather's int32 requirement on the weights. */
function gatherWeights(w: Tensor, ids: Tensor): Tensor {
  return sum(mul(oneHotIds(reshape(ids, [-1]), w.shape[0]), w), -1);
}

/** tf.oneHot, which refuses a depth of 1 (where every class id is 0: a column of ones). */
function oneHotIds(ids: Tensor, depth: number): Tensor {
  return depth === 1 ? expandDims(onesLike(ids), -1) : oneHot(ids, depth);
}
