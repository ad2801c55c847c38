// The fused head's kernels on the webgpu backend: the programs of ./programs.ts on the tensors'
// own GPU buffers (no read-back, no copy, the logits never stored), then the loss kernels' reduce,
// pick and row-loss programs on the statistics. 'mean' divides by Σ class weights of the rows not
// ignored (their number without class weights), with Liger's z-loss under a class-weighted mean,
// as the head on cpu. Labels the host still holds are checked first (as the loss kernels do);
// labels that live on the GPU and are not class ids give NaN rows.
import type { NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

import { kernelInput as input } from '../../kernels/attrs';
import { heldOnHost, webgpuStoredDtype } from '../../kernels/host_values';
import { kindFacts } from '../../kernels/registry';
import { checkHostLabels, lossOfStats, WebGPUBackendLike } from '../../kernels/webgpu/kernel';
import { Scalars, STATS_LENGTH, uniformData, Variant } from '../../kernels/webgpu/programs';
import { throwShaderErrors } from '../../kernels/webgpu/shader_errors';
import { native } from '../../native';
import { named } from '../../validate';
import type { LinearLossAttrs } from '../kernel_names';
import {
  headHiddenGradProgram,
  headKernelGradProgram,
  headMergeProgram,
  headStatsProgram,
  sumProgram,
  TILE_CLASSES,
  TILE_ROWS,
} from './programs';

export interface WebGPUHeadArgs {
  inputs: NamedTensorInfoMap;
  attrs?: unknown;
  backend: unknown;
}

const sizeOf = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/** The variant the head's programs compile for; labelsFloat: the labels' buffer holds float32. */
export function headVariant(a: LinearLossAttrs, labelsFloat: boolean): Variant {
  const kind = kindFacts(a.loss.kind);
  const smoothing = typeof a.loss.labelSmoothing === 'number' && a.loss.labelSmoothing > 0;
  return {
    kind,
    needs: { ...kind.needs, targets: kind.needs.targets || smoothing },
    dense: false,
    labelsFloat,
    classWeights: a.classWeights,
    sampleWeights: false,
    smoothing,
    ignoreIndex: a.loss.ignoreIndex !== undefined,
    checkTargets: false,
    vec4: false,
    subgroups: false,
    zPerRow: a.reduction === 'mean' && a.classWeights && typeof a.loss.zLoss === 'number' && a.loss.zLoss > 0,
    softcap: typeof a.loss.softcap === 'number' && a.loss.softcap > 0,
  };
}

/**
 * The workgroups a pass over the tiles aims at when rows are few: a GPU's compute units several
 * times over (the class ranges' records cost a merge of a few words per range and row).
 */
const GPU_WORKGROUPS = 256;
/** The statistics' class ranges hold at least this many tiles (the merge reads a record per range). */
const RANGE_TILES = 8;
/** The kernel's gradient splits its rows into groups below this many class tiles. */
const KGRAD_SPLIT_TILES = GPU_WORKGROUPS / 2;

/**
 * `length` split into at most `wanted` parts of whole `unit`s: [parts, part length], every part
 * non-empty (the programs write each part's output on their first pass over it).
 */
function split(length: number, unit: number, wanted: number): [number, number] {
  const units = Math.ceil(length / unit);
  const partLength = Math.ceil(units / Math.max(1, Math.min(units, wanted))) * unit;
  return [Math.ceil(length / partLength), partLength];
}

/** The statistics pass's class ranges per row block (RANGE_TILES tiles at least): GPU_WORKGROUPS in all. */
const statsRanges = (rows: number, classes: number) =>
  split(classes, TILE_CLASSES * RANGE_TILES, Math.ceil(GPU_WORKGROUPS / Math.ceil(rows / TILE_ROWS)));

export function headScalars(v: Variant, a: LinearLossAttrs, rows: number, classes: number): Scalars {
  const params: Record<string, number> = {};
  for (const { name } of v.kind.params) {
    const p = a.loss[name];
    if (typeof p !== 'number') throw new Error(`mixloss: loss kind '${v.kind.name}' needs its parameter '${name}'`);
    params[name] = p;
  }
  const linear = v.kind.linear ? (native().linearCoefficients(a.loss) ?? [0, 0]) : [0, 0];
  const [chunks, chunkLen] = statsRanges(rows, classes);
  return {
    rows,
    classes,
    chunks,
    chunkLen,
    gradChunks: 1,
    ignoreIndex: typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : 0,
    zLoss: typeof a.loss.zLoss === 'number' ? a.loss.zLoss : 0,
    smoothing: typeof a.loss.labelSmoothing === 'number' ? a.loss.labelSmoothing : 0,
    softcap: typeof a.loss.softcap === 'number' ? a.loss.softcap : 0,
    params,
    linear: [linear[0], linear[1]],
  };
}

/** The head's uniforms: the loss kernels' and the depth. */
export const headUniforms = (v: Variant, s: Scalars, dims: number) => [...uniformData(v.kind, s), { type: 'int32', data: [dims] }];

/**
 * WebGPU's limits, checked before any program runs: every buffer a program binds must fit the
 * device's maxStorageBufferBindingSize, and indices are 32-bit.
 */
function checkLimits(gpu: WebGPUBackendLike, rows: number, dims: number, classes: number): void {
  checkBindings(
    gpu,
    [
      ['the hidden [N, D]', rows * dims],
      ['the kernel [D, C] (and its gradient with the bias’s)', (dims + 1) * classes],
      ['the row statistics', STATS_LENGTH(rows) + rows * 8 * statsRanges(rows, classes)[0]],
    ],
    'run the head on the cpu or wasm backend (whole, or split into class shards with headStatistics, mergeHeadStatistics and headGradients)',
  );
}

/** Each [name, floats] buffer must fit one binding and 32-bit indices; else an Error ending in `instead`. */
export function checkBindings(gpu: WebGPUBackendLike, buffers: Array<[string, number]>, instead: string): void {
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  for (const [name, count] of buffers) {
    if (count * 4 > limit || count >= 2 ** 31) {
      throw new Error(
        `mixloss: ${name} takes ${count * 4} bytes, more than this WebGPU device binds in one buffer ` +
          `(maxStorageBufferBindingSize = ${limit} bytes) or 32-bit indices reach; ${instead}`,
      );
    }
  }
}

function headInputsOf(inputs: NamedTensorInfoMap, a: LinearLossAttrs): TensorInfo[] {
  return ['hidden', 'kernel', 'labels', ...(a.bias ? ['bias'] : []), ...(a.classWeights ? ['classWeights'] : [])].map((n) =>
    input(inputs, n),
  );
}

/** What both kernels take from their arguments: shapes, the variant, the scalars and uniforms. */
function headCall({ inputs, attrs, backend }: WebGPUHeadArgs) {
  const a = attrs as LinearLossAttrs;
  const gpu = backend as WebGPUBackendLike;
  throwShaderErrors(gpu.device);
  const [rows, dims] = input(inputs, 'hidden').shape;
  const classes = input(inputs, 'kernel').shape[1];
  const labels = input(inputs, 'labels');
  const v = headVariant(a, (webgpuStoredDtype(labels) ?? labels.dtype) === 'float32');
  const s = headScalars(v, a, rows, classes);
  return { a, gpu, rows, dims, classes, labels, v, s, uniforms: headUniforms(v, s, dims) };
}

/** Forward: [loss, stats], the statistics laid out as the loss kernels' on this backend. */
export function webgpuHeadForward(args: WebGPUHeadArgs): TensorInfo[] {
  try {
    const { a, gpu, rows, dims, classes, labels, v, s, uniforms } = headCall(args);
    checkLimits(gpu, rows, dims, classes);
    const hostLabels = heldOnHost(gpu, labels.dataId);
    if (hostLabels !== undefined)
      checkHostLabels(hostLabels, classes, typeof a.loss.ignoreIndex === 'number' ? a.loss.ignoreIndex : undefined);
    const run = (program: unknown, ins: TensorInfo[], output?: TensorInfo) =>
      gpu.runWebGPUProgram(program, ins, 'float32', uniforms, output);
    const weights = a.classWeights ? [input(args.inputs, 'classWeights')] : [];
    const slices = run(headStatsProgram(v, rows, s.chunks, a.bias), headInputsOf(args.inputs, a));
    let stats: TensorInfo;
    try {
      stats = run(headMergeProgram(v, rows), [labels, ...weights, slices]);
    } finally {
      gpu.disposeData(slices.dataId);
    }
    const reduceInputs = [labels, ...weights];
    return lossOfStats(gpu, run, { v, rows, reduction: a.reduction, meanOver: 'classWeights', stats, reduceInputs, weights: [] });
  } catch (e) {
    throw named(e, (args.attrs as LinearLossAttrs).op);
  }
}

/** What the backward programs take: the backend, the variant, the scalars and the inputs. */
interface GradCall {
  gpu: WebGPUBackendLike;
  v: Variant;
  s: Scalars;
  dims: number;
  bias: boolean;
  perRow: boolean;
  ins: TensorInfo[];
}

/** The head's uniforms with the programs' parts: `chunks` and `chunkLen` as the program reads them. */
const partUniforms = (c: GradCall, chunks: number, chunkLen: number) => headUniforms(c.v, { ...c.s, chunks, chunkLen }, c.dims);

/**
 * The hidden's gradient and (with a bias) the bias's: one program writes the hidden's parts per
 * class range and the bias's per row block, and a sum adds each (enough workgroups for a GPU when
 * rows are few; the hidden's parts take at most 64 MiB beside the result).
 */
function hiddenAndBiasGradients(c: GradCall): TensorInfo[] {
  const { gpu, v, s, dims, bias } = c;
  const blocks = Math.ceil(s.rows / TILE_ROWS);
  const [used, rangeLen] = split(
    s.classes,
    TILE_CLASSES,
    Math.min(Math.ceil(GPU_WORKGROUPS / blocks), Math.floor(2 ** 24 / (s.rows * dims))),
  );
  const program = headHiddenGradProgram(v, s.rows, dims, s.classes, used, bias, c.perRow);
  const parts = gpu.runWebGPUProgram(program, c.ins, 'float32', partUniforms(c, used, rangeLen));
  if (used === 1 && !bias) return [parts];
  const made: TensorInfo[] = [];
  try {
    made.push(gpu.runWebGPUProgram(sumProgram(v, [s.rows, dims], used), [parts], 'float32', partUniforms(c, 0, rangeLen)));
    if (bias)
      made.push(
        gpu.runWebGPUProgram(sumProgram(v, [s.classes], blocks), [parts], 'float32', partUniforms(c, used * s.rows * dims, rangeLen)),
      );
    return made;
  } catch (e) {
    for (const t of made) gpu.disposeData(t.dataId);
    throw e;
  } finally {
    gpu.disposeData(parts.dataId);
  }
}

/**
 * The kernel's gradient: one program over groups of row blocks, then a sum of the parts in order.
 * Groups only where classes are few (under KGRAD_SPLIT_TILES tiles: a GPU would have fewer
 * workgroups than compute units several times over), as the sum costs a pass over the parts (at
 * most 64 MiB).
 */
function kernelGradient(c: GradCall): TensorInfo {
  const { gpu, v, s, dims } = c;
  const tiles = Math.ceil(s.classes / TILE_CLASSES);
  const wanted = tiles >= KGRAD_SPLIT_TILES ? 1 : Math.min(Math.ceil(GPU_WORKGROUPS / tiles), Math.floor(2 ** 24 / (dims * s.classes)));
  const [groups, groupRows] = split(s.rows, TILE_ROWS, wanted);
  const program = headKernelGradProgram(v, dims, s.classes, groups, c.bias, c.perRow);
  const parts = gpu.runWebGPUProgram(program, c.ins, 'float32', partUniforms(c, groups, groupRows));
  if (groups === 1) return parts;
  try {
    return gpu.runWebGPUProgram(sumProgram(v, [dims, s.classes], groups), [parts], 'float32', partUniforms(c, 0, groupRows));
  } finally {
    gpu.disposeData(parts.dataId);
  }
}

/** Backward: [grad hidden, grad kernel, grad bias?] for dy ([] or [rows]) from the saved statistics. */
export function webgpuHeadGrad(args: WebGPUHeadArgs): TensorInfo[] {
  try {
    const { a, gpu, rows, dims, v, s } = headCall(args);
    const stats = input(args.inputs, 'stats');
    const dy = input(args.inputs, 'dy');
    if (sizeOf(stats.shape) !== STATS_LENGTH(rows)) throw new Error('mixloss: the saved statistics do not come from the webgpu head');
    const perRow = sizeOf(dy.shape) !== 1;
    const ins = [...headInputsOf(args.inputs, a), stats, dy];
    const call = { gpu, v, s, dims, bias: a.bias, perRow, ins };
    const gk = kernelGradient(call);
    try {
      const [gh, gb] = hiddenAndBiasGradients(call);
      return gb === undefined ? [gh, gk] : [gh, gk, gb];
    } catch (e) {
      gpu.disposeData(gk.dataId);
      throw e;
    }
  } catch (e) {
    throw named(e, (args.attrs as LinearLossAttrs).op);
  }
}
