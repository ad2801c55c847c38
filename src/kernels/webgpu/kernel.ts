// The fused-loss kernels of the webgpu backend: the programs of ./programs.ts run through
// runWebGPUProgram on the tensors' own GPU buffers (no read-back, no copy). Checks that need
// the data run on the host only where the data still is on the host (a tensor written from JS
// and not yet uploaded): there they throw as on cpu and wasm. Data that lives only on the GPU
// cannot be read synchronously in Node (tfjs' readSync needs OffscreenCanvas), so the programs
// check it themselves: a row with a bad class id, a negative or non-finite weight, or (for the
// caller's own dense targets) a row that is not a distribution gets NaN statistics, a NaN loss
// and a NaN gradient. Free of Node APIs: a browser bundle can register these kernels.
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { named } from '../../validate';
import { FusedLossAttrs } from '../attrs';
import { isTargetRow, notTargets } from '../input_checks';
import { WGSL_KINDS } from './losses';
import {
  gradProgram, GRAD_SLICE, mergeProgram, pickProgram, reduceProgram, rowLossProgram, Scalars, statsProgram, uniformData, Variant,
} from './programs';
import type { WgslKind } from './wgsl/row_math';
import { STATS_PER_ROW } from './wgsl/row_math';

/** What the kernels use of tfjs-backend-webgpu's WebGPUBackend. */
export interface WebGPUBackendLike {
  device: { limits: { maxStorageBufferBindingSize: number; maxComputeWorkgroupsPerDimension: number } };
  tensorMap: { get(id: unknown): { values?: ArrayLike<number> | null; dtype?: string } | undefined };
  runWebGPUProgram(program: unknown, inputs: TensorInfo[], dtype: 'float32', uniforms?: unknown[], output?: TensorInfo): TensorInfo;
  makeTensorInfo(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

export interface WebGPUKernelArgs {
  inputs: NamedTensorInfoMap;
  attrs?: NamedAttrMap;
  backend: unknown;
}

function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`mixloss: kernel input ${name} is missing`);
  return t;
}

/** The data of a tensor the host still holds (written from JS, not yet uploaded), or undefined. */
function hostValues(backend: WebGPUBackendLike, t: TensorInfo): ArrayLike<number> | undefined {
  return backend.tensorMap.get(t.dataId)?.values ?? undefined;
}

function kindOf(a: FusedLossAttrs): WgslKind {
  const kind = WGSL_KINDS.get(a.loss.kind);
  if (kind === undefined) {
    throw new Error(`mixloss: the loss kind '${a.loss.kind}' has no WGSL kernel yet (src/kernels/webgpu/losses); ` +
      "use the cpu or wasm backend for it");
  }
  return kind;
}

const sizeOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/**
 * WebGPU's limits, checked before any program runs: every buffer a program binds must fit the
 * device's maxStorageBufferBindingSize, and indices are 32-bit.
 */
function checkLimits(backend: WebGPUBackendLike, named: Array<[string, TensorInfo]>, rows: number, classes: number): void {
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  for (const [name, t] of named) {
    const bytes = sizeOf(t.shape) * 4;
    if (bytes > limit) {
      throw new Error(`mixloss: ${name} ${JSON.stringify(t.shape)} takes ${bytes} bytes, more than this WebGPU device binds in one ` +
        `buffer (maxStorageBufferBindingSize = ${limit} bytes); split the batch into parts of at most ` +
        `${Math.max(1, Math.floor(limit / 4 / classes))} rows, or use the cpu or wasm backend`);
    }
  }
  if (rows * classes >= 2 ** 31) {
    throw new Error(`mixloss: ${rows} × ${classes} elements exceed WebGPU's 32-bit indices; split the batch`);
  }
}

/** The class-id checks of the cpu kernels, on labels the host still holds. */
function checkHostLabels(values: ArrayLike<number>, classes: number, ignoreIndex: number | undefined): void {
  for (let r = 0; r < values.length; r++) {
    const y = values[r];
    if (y === ignoreIndex) continue;
    if (!(y >= 0 && y < classes && Math.floor(y) === y)) {
      throw new Error(`mixloss: label ${y} at row ${r} is not a class id in [0, ${classes})` +
        (ignoreIndex !== undefined ? ` nor ignoreIndex ${ignoreIndex}` : ''));
    }
  }
}

/** Dense targets the host still holds: each row a distribution (input_checks.ts's rule and error). */
function checkHostTargets(op: string, values: ArrayLike<number>, rows: number, classes: number): void {
  for (let r = 0; r < rows; r++) {
    let mass = 0;
    let min = Infinity;
    for (let j = r * classes; j < (r + 1) * classes; j++) {
      const t = values[j];
      mass += t;
      if (!(t >= min)) min = t;
    }
    if (!isTargetRow(min, mass)) throw notTargets(op, r, min, mass);
  }
}

function needsOf(kind: WgslKind, a: FusedLossAttrs): Variant['needs'] {
  const smoothing = typeof a.loss.labelSmoothing === 'number' && a.loss.labelSmoothing > 0;
  return { targets: a.dense || (smoothing && !a.dense), argmax: kind.argmax === true, expLogit: kind.expLogit === true };
}

function variantOf(gpu: WebGPUBackendLike, a: FusedLossAttrs, labels: TensorInfo): Variant {
  const kind = kindOf(a);
  const smoothing = !a.dense && typeof a.loss.labelSmoothing === 'number' && a.loss.labelSmoothing > 0;
  return {
    kind,
    needs: needsOf(kind, a),
    dense: a.dense,
    labelsFloat: (gpu.tensorMap.get(labels.dataId)?.dtype ?? labels.dtype) === 'float32',
    classWeights: a.classWeights,
    sampleWeights: a.sampleWeights,
    smoothing,
    ignoreIndex: a.loss.ignoreIndex !== undefined,
    checkTargets: a.dense && a.checkTargets,
  };
}

/** Slices per row of the statistics pass: enough workgroups to fill a GPU when rows are few. */
export function statsChunks(rows: number, classes: number): number {
  const byRows = Math.ceil(256 / rows);
  const bySize = Math.ceil(classes / 4096);
  return Math.max(1, Math.min(byRows, bySize));
}

function scalarsOf(kind: WgslKind, a: FusedLossAttrs, rows: number, classes: number): Scalars {
  const params: Record<string, number> = {};
  for (const p of kind.params) {
    const v = a.loss[p];
    if (typeof v !== 'number') throw new Error(`mixloss: loss kind '${kind.name}' needs its parameter '${p}'`);
    params[p] = v;
  }
  const chunks = statsChunks(rows, classes);
  return {
    rows,
    classes,
    chunks,
    chunkLen: Math.ceil(classes / chunks),
    gradChunks: Math.ceil(classes / GRAD_SLICE),
    ignoreIndex: typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : 0,
    zLoss: typeof a.loss.zLoss === 'number' ? a.loss.zLoss : 0,
    smoothing: typeof a.loss.labelSmoothing === 'number' && !a.dense ? a.loss.labelSmoothing : 0,
    params,
  };
}

function optional(inputs: NamedTensorInfoMap, a: FusedLossAttrs): TensorInfo[] {
  return [...(a.classWeights ? [input(inputs, 'classWeights')] : []), ...(a.sampleWeights ? [input(inputs, 'weights')] : [])];
}

/** Forward: [loss, stats], the statistics [rows·16 + 3] laid out as on cpu (plus Σ at the end). */
export function webgpuForward({ inputs, attrs, backend }: WebGPUKernelArgs): TensorInfo[] {
  const a = attrs as FusedLossAttrs;
  const gpu = backend as WebGPUBackendLike;
  try {
    const logits = input(inputs, 'logits');
    const labels = input(inputs, 'labels');
    const [rows, classes] = logits.shape;
    const extra = optional(inputs, a);
    checkLimits(gpu, [['logits', logits], ['labels', labels], ...extra.map((t, i): [string, TensorInfo] => [i === 0 && a.classWeights ? 'classWeights' : 'weights', t])], rows, classes);
    const v = variantOf(gpu, a, labels);
    const s = scalarsOf(v.kind, a, rows, classes);
    const hostLabels = hostValues(gpu, labels);
    if (hostLabels !== undefined) {
      if (!a.dense) checkHostLabels(hostLabels, classes, typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : undefined);
      else if (a.checkTargets) checkHostTargets(a.op, hostLabels, rows, classes);
    }
    const uniforms = uniformData(v.kind, s);
    const run = (program: unknown, ins: TensorInfo[], output?: TensorInfo) => gpu.runWebGPUProgram(program, ins, 'float32', uniforms, output);
    let stats: TensorInfo;
    if (s.chunks === 1) {
      stats = run(statsProgram(v, rows, 1), [logits, labels, ...extra]);
    } else {
      const slices = run(statsProgram(v, rows, s.chunks), [logits, labels, ...extra]);
      try {
        stats = run(mergeProgram(v, rows), [logits, labels, ...extra, slices]);
      } finally {
        gpu.disposeData(slices.dataId);
      }
    }
    try {
      if (a.reduction === 'none') return [run(rowLossProgram(v, rows), [stats, ...(a.sampleWeights ? [input(inputs, 'weights')] : [])]), stats];
      const mean = a.reduction === 'mean';
      run(reduceProgram(v, mean, a.meanOver), [labels, ...extra], stats);
      const loss = run(pickProgram(v, mean), [stats]);
      return [{ ...loss, shape: [] }, stats];
    } catch (e) {
      gpu.disposeData(stats.dataId);
      throw e;
    }
  } catch (e) {
    throw named(e, a.op);
  }
}

/** Backward: the gradient [rows, classes] for dy ([] or [rows]) from the saved statistics. */
export function webgpuGrad({ inputs, attrs, backend }: WebGPUKernelArgs): TensorInfo {
  const a = attrs as FusedLossAttrs;
  const gpu = backend as WebGPUBackendLike;
  const logits = input(inputs, 'logits');
  const labels = input(inputs, 'labels');
  const stats = input(inputs, 'stats');
  const dy = input(inputs, 'dy');
  const [rows, classes] = logits.shape;
  const v = variantOf(gpu, a, labels);
  const s = scalarsOf(v.kind, a, rows, classes);
  if (sizeOf(stats.shape) !== rows * STATS_PER_ROW + 3) throw new Error('mixloss: the saved statistics do not come from the webgpu kernel');
  const program = gradProgram(v, rows, classes, s.gradChunks, sizeOf(dy.shape) !== 1);
  return gpu.runWebGPUProgram(program, [logits, labels, ...optional(inputs, a), stats, dy], 'float32', uniformData(v.kind, s));
}
