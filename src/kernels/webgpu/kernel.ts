// The fused-loss kernels of the webgpu backend: the programs of ./programs.ts run through
// runWebGPUProgram on the tensors' own GPU buffers (no read-back, no copy). Checks that need
// the data run on the host only where the data still is on the host (a tensor written from JS
// and not yet uploaded): there they throw as on cpu and wasm. Data that lives only on the GPU
// cannot be read synchronously in Node (tfjs' readSync needs OffscreenCanvas), so the programs
// check it themselves: a row with a bad class id, a negative or non-finite weight, or (for the
// caller's own dense targets) a row that is not a distribution gets NaN statistics, a NaN loss
// and a NaN gradient. The kinds' facts and the statistics' layout come from the addon
// (../registry.ts), as for every backend.
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { env } from '@tensorflow/tfjs-core';

import { native } from '../../native';
import type { NativeLossKind } from '../../native';
import { named } from '../../validate';
import { FusedLossAttrs, kernelInput as input } from '../attrs';
import { heldOnHost, HostHolding, webgpuStoredDtype } from '../host_values';
import { checkTargetValues, classIdProblem } from '../input_checks';
import { kindFacts, statsLayout } from '../registry';
import { hoistsDirectives } from './directives';
import { throwShaderErrors } from './shader_errors';
import { KIND_ROWS } from './kind_rows';
import {
  gradProgram,
  GRAD_SLICE,
  mergeProgram,
  optionalInputs,
  pickProgram,
  reduceProgram,
  rowLossProgram,
  Scalars,
  statsProgram,
  STATS_LENGTH,
  uniformData,
  Variant,
} from './programs';

/** What the kernels use of tfjs-backend-webgpu's WebGPUBackend. */
export interface WebGPUBackendLike extends HostHolding {
  device: { limits: { maxStorageBufferBindingSize: number }; features: { has(name: string): boolean } };
  runWebGPUProgram(program: unknown, inputs: TensorInfo[], dtype: 'float32', uniforms?: unknown[], output?: TensorInfo): TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

export interface WebGPUKernelArgs {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
  backend: unknown;
}

/**
 * tf.env() flag: whether the programs may use subgroup operations where the device has them
 * (default true; false takes the plain path everywhere, as on devices without them).
 */
export const SUBGROUPS_FLAG = 'MIXLOSS_WEBGPU_SUBGROUPS';
env().registerFlag(SUBGROUPS_FLAG, () => true);

/** Whether this backend's programs can use subgroups (the feature, directive hoisting, the flag). */
function subgroupsOn(gpu: WebGPUBackendLike): boolean {
  return gpu.device.features.has('subgroups') && hoistsDirectives(gpu.device) && env().getBool(SUBGROUPS_FLAG);
}

/** The registry's kind, which must have a WGSL row: its own kind_row, or linear in the targets. */
function kindOf(a: FusedLossAttrs): NativeLossKind {
  const kind = kindFacts(a.loss.kind);
  if (!kind.linear && KIND_ROWS[kind.name] === undefined) {
    throw new Error(
      `mixloss: the loss kind '${kind.name}' has no WGSL kernel yet (src/kernels/webgpu/kind_rows.ts); ` +
        'use the cpu or wasm backend for it',
    );
  }
  return kind;
}

const sizeOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * WebGPU's limits, checked before any program runs: every buffer a program binds (the inputs,
 * the gradient [B, C] and the statistics) must fit the device's maxStorageBufferBindingSize,
 * and indices are 32-bit.
 */
function checkLimits(backend: WebGPUBackendLike, inputs: Array<[string, TensorInfo]>, rows: number, classes: number): void {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  const buffers: Array<[string, number[]]> = [
    ...inputs.map(([name, t]): [string, number[]] => [name, t.shape]),
    ['the row statistics', [STATS_LENGTH(rows)]],
  ];
  const perRow = 4 * Math.max(classes, statsLayout().perRow); // the largest buffer's bytes per row
  for (const [name, shape] of buffers) {
    const bytes = sizeOf(shape) * 4;
    if (bytes > limit) {
      throw new Error(
        `mixloss: ${name} ${JSON.stringify(shape)} takes ${bytes} bytes, more than this WebGPU device binds in one ` +
          `buffer (maxStorageBufferBindingSize = ${limit} bytes); split the batch into parts of at most ` +
          `${Math.max(1, Math.floor((limit - 64) / perRow))} rows, or use the cpu or wasm backend`,
      );
    }
  }
  if (rows * classes >= 2 ** 31) {
    throw new Error(`mixloss: ${rows} × ${classes} elements exceed WebGPU's 32-bit indices; split the batch`);
  }
}

/** The class-id checks of the cpu kernels (native is_bad_label), on labels the host still holds. */
export function checkHostLabels(values: ArrayLike<number>, classes: number, ignoreIndex: number | undefined): void {
  const problem = classIdProblem(values, classes, ignoreIndex);
  if (problem !== null) throw new Error(`mixloss: ${problem}`);
}

/** Label smoothing on class ids (dense targets arrive smoothed by the op). */
const smoothingOf = (a: FusedLossAttrs) => (!a.dense && typeof a.loss.labelSmoothing === 'number' ? a.loss.labelSmoothing : 0);

function variantOf(gpu: WebGPUBackendLike, a: FusedLossAttrs, labels: TensorInfo, classes: number): Variant {
  const kind = kindOf(a);
  const smoothing = smoothingOf(a) > 0;
  return {
    kind,
    needs: { ...kind.needs, targets: kind.needs.targets || a.dense || smoothing },
    dense: a.dense,
    labelsFloat: (webgpuStoredDtype(labels) ?? labels.dtype) === 'float32',
    classWeights: a.classWeights,
    sampleWeights: a.sampleWeights,
    smoothing,
    ignoreIndex: a.loss.ignoreIndex !== undefined,
    checkTargets: a.checkTargets,
    vec4: classes % 4 === 0,
    subgroups: subgroupsOn(gpu),
    zPerRow:
      a.reduction === 'mean' &&
      a.meanOver === 'classWeights' &&
      a.classWeights &&
      !a.dense &&
      typeof a.loss.zLoss === 'number' &&
      a.loss.zLoss > 0,
    softcap: typeof a.loss.softcap === 'number' && a.loss.softcap > 0,
  };
}

/** Slices per row of the statistics pass: enough workgroups to fill a GPU when rows are few. */
export function statsChunks(rows: number, classes: number): number {
  const byRows = Math.ceil(256 / rows);
  const bySize = Math.ceil(classes / 4096);
  return Math.max(1, Math.min(byRows, bySize));
}

function scalarsOf(kind: NativeLossKind, a: FusedLossAttrs, rows: number, classes: number): Scalars {
  const params: Record<string, number> = {};
  for (const { name } of kind.params) {
    const v = a.loss[name];
    if (typeof v !== 'number') throw new Error(`mixloss: loss kind '${kind.name}' needs its parameter '${name}'`);
    params[name] = v;
  }
  const linear = kind.linear ? (native().linearCoefficients(a.loss) ?? [0, 0]) : [0, 0];
  const chunks = statsChunks(rows, classes);
  return {
    rows,
    classes,
    chunks,
    chunkLen: Math.ceil(classes / chunks),
    gradChunks: Math.ceil(classes / GRAD_SLICE),
    ignoreIndex: typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : 0,
    zLoss: typeof a.loss.zLoss === 'number' ? a.loss.zLoss : 0,
    smoothing: smoothingOf(a),
    softcap: typeof a.loss.softcap === 'number' ? a.loss.softcap : 0,
    params,
    linear: [linear[0], linear[1]],
  };
}

/** The variant's optional inputs (class and sample weights), by name, in the order the programs bind them. */
const optional = (inputs: NamedTensorInfoMap, v: Variant): Array<[string, TensorInfo]> =>
  optionalInputs(v).map((n) => [n, input(inputs, n)]);

/** What follows the statistics pass: the loss from them. */
export interface LossOfStats {
  v: Variant;
  rows: number;
  reduction: FusedLossAttrs['reduction'];
  meanOver: FusedLossAttrs['meanOver'];
  /** the statistics (STATS_LENGTH), written in place by the reduce program */
  stats: TensorInfo;
  /** the labels and the class and sample weights the reduce program binds */
  reduceInputs: TensorInfo[];
  /** the sample weights of reduction 'none' ([] or [weights]) */
  weights: TensorInfo[];
}

/**
 * [loss, stats]: the row losses ('none', times the sample weights), or Σ and the mean's divisor
 * after the statistics and the scalar loss; the statistics are freed if a program throws.
 */
export function lossOfStats(
  gpu: WebGPUBackendLike,
  run: (program: unknown, inputs: TensorInfo[], output?: TensorInfo) => TensorInfo,
  l: LossOfStats,
): TensorInfo[] {
  try {
    if (l.reduction === 'none') return [run(rowLossProgram(l.v, l.rows), [l.stats, ...l.weights]), l.stats];
    const mean = l.reduction === 'mean';
    run(reduceProgram(l.v, l.rows, mean, l.meanOver), l.reduceInputs, l.stats);
    const loss = run(pickProgram(l.v, mean), [l.stats]);
    return [{ ...loss, shape: [] }, l.stats];
  } catch (e) {
    gpu.disposeData(l.stats.dataId);
    throw e;
  }
}

/** Forward: [loss, stats], the statistics laid out as on cpu, with Σ of the row losses after the trailer. */
export function webgpuForward({ inputs, attrs, backend }: WebGPUKernelArgs): TensorInfo[] {
  const a = attrs as FusedLossAttrs;
  const gpu = backend as WebGPUBackendLike;
  try {
    throwShaderErrors(gpu.device);
    const logits = input(inputs, 'logits');
    const labels = input(inputs, 'labels');
    const [rows, classes] = logits.shape;
    const v = variantOf(gpu, a, labels, classes);
    const present = optional(inputs, v);
    checkLimits(gpu, [['logits', logits], ['labels', labels], ...present], rows, classes);
    const extra = present.map(([, t]) => t);
    const s = scalarsOf(v.kind, a, rows, classes);
    const hostLabels = heldOnHost(gpu, labels.dataId);
    if (hostLabels !== undefined) {
      if (!a.dense) checkHostLabels(hostLabels, classes, typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : undefined);
      else if (a.checkTargets) checkTargetValues(a.op, hostLabels, rows, classes);
    }
    const uniforms = uniformData(v.kind, s);
    const run = (program: unknown, ins: TensorInfo[], output?: TensorInfo) =>
      gpu.runWebGPUProgram(program, ins, 'float32', uniforms, output);
    let stats: TensorInfo;
    if (s.chunks === 1) {
      stats = run(statsProgram(v, rows, 1, s.chunkLen), [logits, labels, ...extra]);
    } else {
      const slices = run(statsProgram(v, rows, s.chunks, s.chunkLen), [logits, labels, ...extra]);
      try {
        stats = run(mergeProgram(v, rows), [logits, labels, ...extra, slices]);
      } finally {
        gpu.disposeData(slices.dataId);
      }
    }
    const weights = a.sampleWeights ? [input(inputs, 'weights')] : [];
    return lossOfStats(gpu, run, {
      v,
      rows,
      reduction: a.reduction,
      meanOver: a.meanOver,
      stats,
      reduceInputs: [labels, ...extra],
      weights,
    });
  } catch (e) {
    throw named(e, a.op);
  }
}

/** Backward: the gradient [rows, classes] for dy ([] or [rows]) from the saved statistics. */
export function webgpuGrad({ inputs, attrs, backend }: WebGPUKernelArgs): TensorInfo {
  const a = attrs as FusedLossAttrs;
  const gpu = backend as WebGPUBackendLike;
  throwShaderErrors(gpu.device);
  const logits = input(inputs, 'logits');
  const labels = input(inputs, 'labels');
  const stats = input(inputs, 'stats');
  const dy = input(inputs, 'dy');
  const [rows, classes] = logits.shape;
  const v = variantOf(gpu, a, labels, classes);
  const s = scalarsOf(v.kind, a, rows, classes);
  if (sizeOf(stats.shape) !== STATS_LENGTH(rows)) throw new Error('mixloss: the saved statistics do not come from the webgpu kernel');
  const program = gradProgram(v, rows, classes, s.gradChunks, sizeOf(dy.shape) !== 1);
  return gpu.runWebGPUProgram(
    program,
    [logits, labels, ...optional(inputs, v).map(([, t]) => t), stats, dy],
    'float32',
    uniformData(v.kind, s),
  );
}
