// Every public loss op with the parameters the suites try, beside its float64 reference: the
// one table the reference, numerics and backend suites iterate over.
import {
  crossEntropy,
  expectationLoss,
  focalLoss,
  generalizedCrossEntropy,
  maeLoss,
  mixedLoss,
  polyLoss,
  tamedCrossEntropy,
} from '../../src';
import type { LossOptions } from '../../src';
import { isLinear } from '../../src/kernels/registry';
import type { LossOpInfo } from '../../src/losses/op_table';
import { RowLoss, rowLosses } from './reference';
import * as tfc from '@tensorflow/tfjs';

import type { tf } from './tf';

type CaseOp = ((logits: tf.Tensor, labels: tf.Tensor | number[], options?: LossOptions) => tf.Tensor) & LossOpInfo;

interface Row {
  name: string;
  /** The op as a user calls it, with this case's parameters and the given options. */
  op: CaseOp;
  reference: RowLoss;
  /** The same loss in stock tfjs ops, from log p_y [B] (tfjs autodiff differentiates it). */
  stock: (lp: tf.Tensor) => tf.Tensor;
}

export interface LossCase extends Row {
  /** The registry's kind the op runs. */
  kind: string;
  /** Accepts dense [B, C] targets (the registry: linear in the targets). */
  dense: boolean;
}

const stock = {
  mixed: (alpha: number, beta: number) => (lp: tf.Tensor) => tfc.add(tfc.mul(-alpha, lp), tfc.mul(beta, tfc.sub(1, tfc.exp(lp)))),
  focal:
    (gamma: number, alpha = 1) =>
    (lp: tf.Tensor) =>
      tfc.mul(-alpha, tfc.mul(tfc.pow(tfc.sub(1, tfc.exp(lp)), gamma), lp)),
  // where p <= k (a constant mask: a comparison has no gradient on every backend) L_q(k), else L_q(p).
  truncatedGCE: (q: number, k: number) => (lp: tf.Tensor) => {
    const below = tfc.tensor(
      Array.from(lp.dataSync(), (v) => (Math.exp(v) <= k ? 1 : 0)),
      lp.shape,
      'float32',
    );
    const lq = tfc.div(tfc.sub(1, tfc.exp(tfc.mul(q, lp))), q);
    return tfc.add(tfc.mul(below, -Math.expm1(q * Math.log(k)) / q), tfc.mul(tfc.sub(1, below), lq));
  },
  generalizedCE: (q: number) => (lp: tf.Tensor) => tfc.div(tfc.sub(1, tfc.exp(tfc.mul(q, lp))), q),
  tamedCE: (a: number) => (lp: tf.Tensor) => {
    const u = tfc.sub(1, lp);
    return a === 1 ? tfc.log(u) : tfc.div(tfc.sub(tfc.pow(u, 1 - a), 1), 1 - a);
  },
};

const withParams = <P extends object>(
  fn: ((q: tf.Tensor, y: tf.Tensor | number[], o: LossOptions & P) => tf.Tensor) & LossOpInfo,
  params: P,
): CaseOp =>
  Object.assign((q: tf.Tensor, y: tf.Tensor | number[], options: LossOptions = {}) => fn(q, y, { ...options, ...params }), {
    lossKind: fn.lossKind,
    denseForm: fn.denseForm,
  });

/**
 * One case per loss and parameter value, defaults included (the op called with no parameter).
 * Every kind of the registry whose gradient is the seam's alone (not MPCE's argmax term or complement
 * entropy's, which have suites of their own) needs a row here (test/registry.test.ts checks).
 */
const ROWS: Row[] = [
  { name: 'crossEntropy', op: crossEntropy, reference: rowLosses.mixed(1, 0), stock: stock.mixed(1, 0) },
  { name: 'expectationLoss', op: expectationLoss, reference: rowLosses.mixed(0, 1), stock: stock.mixed(0, 1) },
  { name: 'mixedLoss (default α=1 β=1)', op: mixedLoss, reference: rowLosses.mixed(1, 1), stock: stock.mixed(1, 1) },
  {
    name: 'mixedLoss α=0.3 β=2.5',
    op: withParams(mixedLoss, { alpha: 0.3, beta: 2.5 }),
    reference: rowLosses.mixed(0.3, 2.5),
    stock: stock.mixed(0.3, 2.5),
  },
  { name: 'polyLoss (default ε=1)', op: polyLoss, reference: rowLosses.mixed(1, 1), stock: stock.mixed(1, 1) },
  { name: 'polyLoss ε=2.5', op: withParams(polyLoss, { epsilon: 2.5 }), reference: rowLosses.mixed(1, 2.5), stock: stock.mixed(1, 2.5) },
  { name: 'polyLoss ε=-1', op: withParams(polyLoss, { epsilon: -1 }), reference: rowLosses.mixed(1, -1), stock: stock.mixed(1, -1) },
  { name: 'maeLoss', op: maeLoss, reference: rowLosses.mae(), stock: stock.mixed(0, 2) },
  {
    name: 'focalLoss γ=2 α=0.25 (kornia)',
    op: withParams(focalLoss, { gamma: 2, alpha: 0.25 }),
    reference: rowLosses.scaledFocal(2, 0.25),
    stock: stock.focal(2, 0.25),
  },
  { name: 'focalLoss (default γ=2)', op: focalLoss, reference: rowLosses.focal(2), stock: stock.focal(2) },
  { name: 'focalLoss γ=0', op: withParams(focalLoss, { gamma: 0 }), reference: rowLosses.focal(0), stock: stock.focal(0) },
  { name: 'focalLoss γ=0.5', op: withParams(focalLoss, { gamma: 0.5 }), reference: rowLosses.focal(0.5), stock: stock.focal(0.5) },
  { name: 'focalLoss γ=5', op: withParams(focalLoss, { gamma: 5 }), reference: rowLosses.focal(5), stock: stock.focal(5) },
  {
    name: 'generalizedCrossEntropy (default q=0.7)',
    op: generalizedCrossEntropy,
    reference: rowLosses.generalizedCE(0.7),
    stock: stock.generalizedCE(0.7),
  },
  {
    name: 'generalizedCrossEntropy q=0.2',
    op: withParams(generalizedCrossEntropy, { q: 0.2 }),
    reference: rowLosses.generalizedCE(0.2),
    stock: stock.generalizedCE(0.2),
  },
  {
    name: 'generalizedCrossEntropy q=1',
    op: withParams(generalizedCrossEntropy, { q: 1 }),
    reference: rowLosses.generalizedCE(1),
    stock: stock.generalizedCE(1),
  },
  {
    name: 'generalizedCrossEntropy q=0.7 truncation=0.5',
    op: withParams(generalizedCrossEntropy, { q: 0.7, truncation: 0.5 }),
    reference: rowLosses.truncatedGCE(0.7, 0.5),
    stock: stock.truncatedGCE(0.7, 0.5),
  },
  { name: 'tamedCrossEntropy (default a=0.5)', op: tamedCrossEntropy, reference: rowLosses.tamedCE(0.5), stock: stock.tamedCE(0.5) },
  { name: 'tamedCrossEntropy a=0', op: withParams(tamedCrossEntropy, { a: 0 }), reference: rowLosses.tamedCE(0), stock: stock.tamedCE(0) },
  { name: 'tamedCrossEntropy a=1', op: withParams(tamedCrossEntropy, { a: 1 }), reference: rowLosses.tamedCE(1), stock: stock.tamedCE(1) },
  { name: 'tamedCrossEntropy a=2', op: withParams(tamedCrossEntropy, { a: 2 }), reference: rowLosses.tamedCE(2), stock: stock.tamedCE(2) },
];

/** The rows with their kind and whether it takes dense targets, both from the registry. */
export const LOSSES: LossCase[] = ROWS.map((r) => ({ ...r, kind: r.op.lossKind, dense: isLinear(r.op.lossKind) }));
