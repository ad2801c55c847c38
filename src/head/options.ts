// The head's options, resolved and checked before any kernel runs: the loss (a kind of the
// registry whose gradient is the seam's c·(p − onehot), its parameters with their ops' defaults
// and the registry's ranges) and the options every loss op takes, as a LossSpec.
import type { Tensor, TensorLike } from '@tensorflow/tfjs-core';

import type { LossSpec } from '../kernels/attrs';
import { kindFacts, lossKinds } from '../kernels/registry';
import { optionValues, Reducing } from '../losses/checks';
import { resolveDevice } from '../losses/device';
import { defaultsOf } from '../losses/op_table';
import { checkLossSpec, registryParam } from '../losses/registry';
import type { LossOptions } from '../losses/types';
import { native } from '../native';
import { checkOptionNames, fail, shown } from '../validate';

/**
 * The options of the head's ops besides the loss's own parameters: the loss ops' own (they mean
 * the same here), a bias, and a device of the head's.
 */
export interface LinearLossOptions extends Pick<
  LossOptions,
  'reduction' | 'weights' | 'classWeights' | 'ignoreIndex' | 'labelSmoothing' | 'zLoss'
> {
  /** The bias [C] (a Dense layer's `bias.read()`); none by default. */
  bias?: Tensor | TensorLike;
  /** Logit soft-capping cap·tanh(z/cap), applied inside the head's tiles. */
  softcap?: number;
  /**
   * Where the head runs on the cpu and wasm backends: 'auto' (default) and 'cpu' take the CPU
   * kernels; 'cuda' the CUDA kernels on copies of the tensors (a build with CUDA and a GPU).
   */
  device?: 'auto' | 'cpu' | 'cuda';
}

/** linearLoss's options: the kind, its parameters (by the registry's names) and the options. */
export interface LinearLossSpec extends LinearLossOptions {
  /** A kind of the registry whose gradient is c·(p − onehot): mixed, mae, focal, generalizedCE, tamedCE. */
  kind: string;
  [param: string]: unknown;
}

export const HEAD_OPTIONS = ['bias', 'reduction', 'weights', 'classWeights', 'ignoreIndex', 'labelSmoothing', 'zLoss', 'softcap', 'device'];

/** The kinds the head takes (the addon's list: those whose gradient is the seam's alone). */
export function headKinds(): string[] {
  return native().headLayout().kinds.split(', ');
}

export interface ResolvedHead {
  spec: LossSpec;
  reduction: Reducing;
  smoothing: number;
  ignoreIndex: number | undefined;
  softcap: number | undefined;
  device: 'cpu' | 'cuda';
}

/**
 * The loss spec of a head op: `kind` with `params` (fixed by the op, e.g. crossEntropy's) or
 * taken from the options by the registry's names (`fromOptions`), every option checked.
 * `extra`: the op's other option names (the sharded API's classOffset, numClasses).
 */
export function resolveHead(
  op: string,
  kind: string,
  options: Record<string, unknown>,
  fixed: Record<string, number> | 'fromOptions',
  extra: string[] = [],
): ResolvedHead {
  if (!lossKinds().has(kind)) fail(op, `kind must be one of ${[...lossKinds().keys()].join(', ')}, got ${shown(kind)}`);
  if (!headKinds().includes(kind)) {
    fail(
      op,
      `the fused head takes the kinds whose gradient is c·(p − onehot) (${headKinds().join(', ')}); '${kind}' is not one: ` +
        `compute the logits with tf.matMul and use its loss op`,
    );
  }
  const paramNames = kindFacts(kind).params.map((p) => p.name);
  const own = fixed === 'fromOptions' ? paramNames : [];
  checkOptionNames(op, options, [...own, ...HEAD_OPTIONS, ...extra]);
  const params: Record<string, number> = {};
  if (fixed === 'fromOptions') {
    const defaults = defaultsOf(kind);
    for (const p of paramNames) {
      if (options[p] === undefined && defaults[p] === undefined) fail(op, `kind '${kind}' needs its parameter ${p}`);
      params[p] = registryParam(op, kind, p, p, options[p], defaults[p]);
    }
  } else {
    Object.assign(params, fixed);
  }
  const { reduction, smoothing, zLoss, softcap, ignoreIndex } = optionValues(op, options);
  // 'auto' keeps the CPU kernels: the head's CUDA kernels have not been measured against them yet.
  const device = resolveDevice(op, options.device ?? 'auto', 0, 0);
  const spec: LossSpec = { kind, ...params };
  if (zLoss > 0) spec.zLoss = zLoss;
  if (smoothing > 0) spec.labelSmoothing = smoothing;
  if (ignoreIndex !== undefined) spec.ignoreIndex = ignoreIndex;
  const problem = checkLossSpec(spec, false, options.classWeights !== undefined);
  if (problem !== null) fail(op, problem);
  if (softcap !== undefined) spec.softcap = softcap;
  return { spec, reduction, smoothing, ignoreIndex, softcap, device };
}
