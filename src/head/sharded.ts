// The class-sharded head: what a head split over devices or processes needs (Megatron's
// vocab-parallel cross entropy, CCE's vocab-parallel mode). Each shard computes its rows'
// statistics over its own columns of the kernel; merged in any order (exactly: the merge is
// associative), they finish into the loss and give each shard its gradients. Host arrays in
// and out (these are not tape ops: they are the contract across devices).
import { backend_util, broadcastTo, Tensor, tensor, tidy } from '@tensorflow/tfjs-core';

import type { Labels } from '../losses/types';
import { checkNumber, sampleWeightTensor, shapeOf } from '../losses/checks';
import { statsLayout } from '../kernels/registry';
import { native } from '../native';
import type { NativeHeadCall, NativeHeadLoss } from '../native';
import { checkOptions } from '../losses/checks';
import { fail, named } from '../validate';
import { meanPlan } from './divisor';
import { biasTensor, headClassWeights, headLabels, headShapes, hostFloats, hostValues } from './inputs';
import { floatInput, inputShape } from '../losses/inputs';
import { broadcastsTo } from '../losses/weighted_rows';
import type { HeadShapes } from './inputs';
import type { Hidden, Kernel } from './ops';
import { LinearLossOptions, resolveHead, ResolvedHead } from './options';

/** The options of the sharded API: the loss (kind: default cross entropy), the head's options, the shard. */
export interface HeadShardOptions extends Omit<LinearLossOptions, 'device'> {
  /** The loss kind (as linearLoss's) and its parameters; cross entropy when left out. */
  kind?: string;
  /** The shard's first class in the head (default 0). */
  classOffset?: number;
  /** The head's class count C over every shard (smoothing's ε/C, the class ids' range, classWeights' length). */
  numClasses: number;
  [param: string]: unknown;
}

const SHARD = ['classOffset', 'numClasses'];

/**
 * Rows' statistics of a shard [..., S]: hidden's rows' shape (hidden's shape without D; [1] for an
 * unbatched row), then S = headStatisticsWidth().
 */
export type HeadStatistics = Tensor;

/** Floats per row of a shard's statistics. */
export function headStatisticsWidth(): number {
  return native().headLayout().shardStats;
}

function resolve(op: string, options: HeadShardOptions, extra: string[]): ResolvedHead {
  checkOptions(op, options);
  if (options.kind !== undefined && typeof options.kind !== 'string') fail(op, `kind must be a string, got ${typeof options.kind}`);
  if (options.device !== undefined) fail(op, 'unknown option device: the sharded head runs on the CPU kernels, on host arrays');
  return options.kind === undefined
    ? resolveHead(op, 'mixed', options, { alpha: 1, beta: 0 }, extra)
    : resolveHead(op, options.kind, options, 'fromOptions', ['kind', ...extra]);
}

function numClassesOf(op: string, options: HeadShardOptions): number {
  if (options.numClasses === undefined) fail(op, "options.numClasses (the head's C over every shard) is required");
  return checkNumber(op, 'numClasses', options.numClasses, (v) => Number.isInteger(v) && v >= 1, '(an integer >= 1)');
}

/**
 * Sample weights broadcast to the rows, as a host array [N]. Weights that would grow the rows'
 * shape (tf.losses' broadcasting, [N] rows by [N, 1] weights) have no per-row form in the
 * statistics: an Error.
 */
function rowWeights(op: string, w: unknown, lead: number[]): Float32Array | undefined {
  if (w === undefined) return undefined;
  const t = sampleWeightTensor(op, w, lead);
  try {
    if (!broadcastsTo(t.shape, lead)) {
      fail(
        op,
        `weights of shape ${shapeOf(t.shape)} would grow the rows ${shapeOf(lead)} to ${shapeOf(backend_util.assertAndGetBroadcastShape(lead, t.shape))}; ` +
          `the sharded head weights each row: pass weights that broadcast to ${shapeOf(lead)}`,
      );
    }
    const rows = tidy(() => broadcastTo(t, lead.length === 0 ? [1] : lead));
    try {
      return Float32Array.from(hostFloats(op, 'weights', rows));
    } finally {
      rows.dispose();
    }
  } finally {
    if (t !== w) t.dispose();
  }
}

interface ShardCall {
  call: NativeHeadCall & { classOffset: number; totalClasses: number };
  shapes: HeadShapes;
  resolved: ResolvedHead;
}

/** A shard's call: hidden [..., D], its kernel [D, C_shard] and bias [C_shard], class ids of the whole head. */
function shardCall(
  op: string,
  hiddenIn: Hidden,
  kernelIn: Kernel,
  labelsIn: Labels,
  options: HeadShardOptions,
  extra: string[] = [],
): ShardCall {
  const resolved = resolve(op, options, [...SHARD, ...extra]);
  const numClasses = numClassesOf(op, options);
  const classOffset =
    options.classOffset === undefined
      ? 0
      : checkNumber(op, 'classOffset', options.classOffset, (v) => Number.isInteger(v) && v >= 0, '(an integer >= 0)');
  const made: Tensor[] = [];
  try {
    const hidden = floatInput(op, 'hidden', hiddenIn, made);
    const kernel = floatInput(op, 'kernelShard', kernelIn, made);
    const s = headShapes(op, hidden, kernel, 'kernelShard');
    if (classOffset + s.classes > numClasses) {
      fail(op, `the shard's classes [${classOffset}, ${classOffset + s.classes}) pass the head's numClasses ${numClasses}`);
    }
    const bias = biasTensor(op, options.bias, s.classes, made);
    const labels = headLabels(op, labelsIn, { ...s, classes: numClasses }, resolved.ignoreIndex, made);
    const classWeights = headClassWeights(op, options.classWeights, numClasses, made);
    const weights = rowWeights(op, options.weights, s.lead);
    const call = {
      hidden: hostFloats(op, 'hidden', hidden),
      kernel: hostFloats(op, 'kernelShard', kernel),
      ...(bias ? { bias: hostFloats(op, 'bias', bias) } : {}),
      rows: s.rows,
      dims: s.dims,
      classes: s.classes,
      labels: labelsArray(op, labels),
      loss: resolved.spec,
      ...(classWeights ? { classWeights: hostFloats(op, 'classWeights', classWeights) } : {}),
      ...(weights ? { weights } : {}),
      classOffset,
      totalClasses: numClasses,
    };
    return { call, shapes: s, resolved };
  } finally {
    for (const t of made) t.dispose();
  }
}

function labelsArray(op: string, labels: Tensor): Int32Array | Float32Array {
  if (labels.dtype !== 'int32') return hostFloats(op, 'labels', labels);
  const v = hostValues(op, 'labels', labels);
  return v instanceof Int32Array || v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * A shard's statistics of every row [..., S] (hidden's rows, then S) over its classes
 * [classOffset, classOffset + C_shard) of the head's numClasses: its max, Σ exp, the smoothing
 * sums, and the target's logit when the target is one of its classes. Pass the same options (softcap, labelSmoothing, classWeights,
 * ignoreIndex) to every call of one step.
 */
export function headStatistics(hidden: Hidden, kernelShard: Kernel, labels: Labels, options: HeadShardOptions): HeadStatistics {
  const op = 'headStatistics';
  const { call, shapes } = shardCall(op, hidden, kernelShard, labels, options);
  const out = new Float32Array(shapes.rows * headStatisticsWidth());
  try {
    native().headShardStatistics({ ...call, out });
  } catch (e) {
    throw named(e, op);
  }
  return tensor(out, [...statsLead(shapes.lead), headStatisticsWidth()]);
}

/** The rows' shape statistics take: hidden's rows (one unbatched row as [1]). */
function statsLead(lead: number[]): number[] {
  return lead.length === 0 ? [1] : lead;
}

function statsArray(op: string, name: string, t: unknown, rows?: number): { values: Float32Array; rows: number; shape: number[] } {
  const width = headStatisticsWidth();
  if (!(t instanceof Tensor)) fail(op, `${name} must be a tensor [..., ${width}] from headStatistics`);
  if (t.isDisposed) fail(op, `${name} is a disposed tensor`);
  if (t.rank < 2 || t.shape[t.rank - 1] !== width || t.dtype !== 'float32') {
    fail(op, `${name} must be float32 [..., ${width}] (headStatistics' output), got ${t.dtype} ${shapeOf(t.shape)}`);
  }
  const count = t.size / width;
  if (rows !== undefined && count !== rows) fail(op, `${name} has ${count} rows, expected ${rows}`);
  return { values: hostFloats(op, name, t), rows: count, shape: t.shape };
}

/** Merges shards' statistics (exact and associative: any order, any grouping, uneven shards). */
export function mergeHeadStatistics(stats: HeadStatistics[] | HeadStatistics, ...more: HeadStatistics[]): HeadStatistics {
  const op = 'mergeHeadStatistics';
  if (stats instanceof Tensor) stats = [stats, ...more]; // mergeHeadStatistics(a, b, ...) too
  if (!Array.isArray(stats) || stats.length === 0) fail(op, 'takes a non-empty array of headStatistics outputs');
  const first = statsArray(op, 'stats[0]', stats[0]);
  const out = Float32Array.from(first.values);
  for (let i = 1; i < stats.length; i++) {
    const next = statsArray(op, `stats[${i}]`, stats[i], first.rows);
    native().headMergeStatistics({ a: out, b: next.values, rows: first.rows, out });
  }
  return tensor(out, first.shape);
}

/** The finished rows: each row's statistics for the backward pass and its loss; fails on a target no shard holds. */
function finish(op: string, merged: Float32Array, loss: NativeHeadLoss, totalClasses: number, r: ResolvedHead) {
  const width = headStatisticsWidth();
  if (r.smoothing > 0 && loss.classWeights === undefined) {
    for (let row = 0; row < loss.rows; row++) {
      const y = loss.labels[row];
      if (y !== r.ignoreIndex && merged[row * width + 4] === 0) {
        fail(op, 'the statistics were computed without labelSmoothing: pass the same labelSmoothing to headStatistics');
      }
    }
  }
  const stats = new Float32Array(loss.rows * statsLayout().perRow);
  const rowLoss = new Float32Array(loss.rows);
  try {
    const total = native().headFinish({ ...loss, merged, totalClasses, stats, rowLoss });
    return { stats, rowLoss, total };
  } catch (e) {
    throw named(e, op);
  }
}

/** What 'mean' divides by here (the loss ops' rules) and the spec the kernels then run. */
function reductionPlan(op: string, loss: NativeHeadLoss, classes: number, r: ResolvedHead) {
  if (r.reduction === 'none' || r.reduction === 'sum') return { divisor: 1, loss };
  try {
    // The labels' first read by the native side here (a bad class id is its Error, named for op).
    if (loss.weights === undefined) {
      const plan = meanPlan(loss.loss, loss.labels, loss.rows, classes, loss.classWeights);
      return { divisor: plan.divisor, loss: { ...loss, loss: plan.loss } };
    }
    const d = native().meanDivisors({ ...loss, classes, dense: false });
    return { divisor: r.reduction === 'nonzero' ? d.nonzero : d.sampleWeights, loss };
  } catch (e) {
    throw named(e, op);
  }
}

/** The loss from merged statistics (every shard's): 'mean', 'sum' or the rows ('none'), as linearLoss. */
export function headLoss(merged: HeadStatistics, labels: Labels, options: Partial<HeadShardOptions> = {}): Tensor {
  const op = 'headLoss';
  const r = resolve(op, options as HeadShardOptions, SHARD);
  // numClasses: given, or the class weights' length; without either (and without smoothing, which
  // needs it) the shards' ownership of each row's class is the whole check of the labels.
  const weightsLength =
    options.classWeights instanceof Tensor
      ? options.classWeights.size
      : Array.isArray(options.classWeights) || ArrayBuffer.isView(options.classWeights)
        ? (options.classWeights as ArrayLike<number>).length
        : undefined;
  if (options.numClasses === undefined && weightsLength === undefined && r.smoothing > 0)
    fail(op, "labelSmoothing needs options.numClasses (the head's C over every shard)");
  const numClasses = options.numClasses !== undefined ? numClassesOf(op, options as HeadShardOptions) : (weightsLength ?? 2 ** 31 - 1);
  if (options.bias !== undefined) fail(op, "bias belongs to headStatistics and headGradients (the shard's own bias)");
  const m = statsArray(op, 'merged', merged);
  const made: Tensor[] = [];
  try {
    // The rows' shape: the labels' own (hidden's rows, flattened in the statistics), less the
    // axis of 1 of a column of class ids; tensors, nested arrays and TypedArrays alike.
    // Statistics of more than one axis of rows say the rows' shape themselves (a column of
    // class ids [N, 1] is then told apart from rows [N, 1]).
    // (Anything else is refused by headLabels, with its own message.)
    const given = inputShape(labels);
    const own = m.shape.length > 2 ? m.shape.slice(0, -1) : undefined;
    const column = given.length > 1 && given[given.length - 1] === 1;
    const lead = own ?? (column ? given.slice(0, -1) : given);
    const size = lead.reduce((a, b) => a * b, 1);
    if (size !== m.rows) fail(op, `labels ${shapeOf(given)} have ${size} rows but merged has ${m.rows}`);
    const y = headLabels(op, labels, { lead, rows: m.rows, dims: 1, classes: numClasses }, r.ignoreIndex, made);
    const classWeights = headClassWeights(op, options.classWeights, numClasses, made);
    const weights = rowWeights(op, options.weights, lead);
    const base: NativeHeadLoss = {
      rows: m.rows,
      labels: labelsArray(op, y),
      loss: r.spec,
      ...(classWeights ? { classWeights: hostFloats(op, 'classWeights', classWeights) } : {}),
      ...(weights ? { weights } : {}),
    };
    const plan = reductionPlan(op, base, numClasses, r);
    const { rowLoss, total } = finish(op, m.values, plan.loss, numClasses, r);
    if (r.reduction === 'none') return tensor(rowLoss, lead);
    return tensor(total / plan.divisor);
  } finally {
    for (const t of made) t.dispose();
  }
}

/** A shard's gradients. hidden's is the shard's part: sum it over the shards. */
export interface HeadGradients {
  hidden: Tensor;
  kernel: Tensor;
  bias?: Tensor;
}

/**
 * A shard's gradients of the loss ('mean' or 'sum'; sample weights scale rows) from the merged
 * statistics: with respect to hidden (this shard's part), its kernel columns and its bias.
 */
export function headGradients(
  hidden: Hidden,
  kernelShard: Kernel,
  labels: Labels,
  merged: HeadStatistics,
  options: HeadShardOptions,
): HeadGradients {
  const op = 'headGradients';
  const { call, shapes, resolved } = shardCall(op, hidden, kernelShard, labels, options);
  if (resolved.reduction === 'none') fail(op, "reduction 'none' has no single gradient: use 'sum' with the upstream gradients as weights");
  const m = statsArray(op, 'merged', merged, shapes.rows);
  const { hidden: _h, kernel: _k, bias: _b, dims: _d, classes: _c, classOffset, totalClasses, ...loss } = call;
  const plan = reductionPlan(op, loss, totalClasses, resolved);
  const { stats } = finish(op, m.values, plan.loss, totalClasses, resolved);
  const gradHidden = new Float32Array(shapes.rows * shapes.dims);
  const gradKernel = new Float32Array(shapes.dims * shapes.classes);
  const gradBias = call.bias !== undefined ? new Float32Array(shapes.classes) : undefined;
  try {
    native().headShardBackward({
      ...call,
      loss: plan.loss.loss,
      classOffset,
      totalClasses,
      stats,
      dy: new Float32Array([1]),
      dyScale: plan.divisor === 0 ? 0 : 1 / plan.divisor,
      gradHidden,
      gradKernel,
      ...(gradBias ? { gradBias } : {}),
    });
  } catch (e) {
    throw named(e, op);
  }
  return {
    hidden: tensor(gradHidden, [...shapes.lead, shapes.dims]),
    kernel: tensor(gradKernel, [shapes.dims, shapes.classes]),
    ...(gradBias ? { bias: tensor(gradBias, [shapes.classes]) } : {}),
  };
}
