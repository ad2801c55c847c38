// The head on a backend whose loss kernels run on its own device (webgpu), where the head has no
// kernel yet: tf.matMul (+ bias) and the kind's fused loss op on that device, the same options.
// The logits [N, C] exist for the step here; tfjs differentiates the product.
import { add, matMul, Reduction as TfReduction, reshape, Tensor, tidy } from '@tensorflow/tfjs-core';

import { fusedLoss } from '../losses/fused';
import { opOfKind } from '../losses/op_table';
import type { LossOptions } from '../losses/types';
import type { HeadShapes } from './inputs';
import type { ResolvedHead } from './options';

export interface StockHeadArgs {
  op: string;
  hidden: Tensor;
  kernel: Tensor;
  bias?: Tensor;
  labels: Tensor;
  classWeights?: Tensor;
  sampleWeights?: Tensor;
  shapes: HeadShapes;
  resolved: ResolvedHead;
}

const OPTION_KEYS = ['zLoss', 'labelSmoothing', 'ignoreIndex', 'softcap'];

export function stockHead(a: StockHeadArgs): Tensor {
  const { kind, ...rest } = a.resolved.spec;
  const params: Record<string, number> = {};
  const options: LossOptions = {
    reduction: a.resolved.reduction === 'nonzero' ? TfReduction.SUM_BY_NONZERO_WEIGHTS : a.resolved.reduction,
  };
  for (const [k, v] of Object.entries(rest)) {
    if (OPTION_KEYS.includes(k)) (options as Record<string, unknown>)[k] = v;
    else params[k] = v as number;
  }
  if (a.classWeights !== undefined) options.classWeights = a.classWeights;
  if (a.sampleWeights !== undefined) options.weights = a.sampleWeights;
  const op = opOfKind(kind) as string;
  return tidy(() => {
    const h = a.shapes.lead.length === 1 ? a.hidden : reshape(a.hidden, [a.shapes.rows, a.shapes.dims]);
    const z = matMul(h, a.kernel);
    const logits = a.bias === undefined ? z : add(z, a.bias);
    const shaped = a.shapes.lead.length === 1 ? logits : reshape(logits, [...a.shapes.lead, a.shapes.classes]);
    return fusedLoss(op, shaped, a.labels, options, { params, own: [] });
  });
}
