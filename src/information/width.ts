// Kernel widths for the Gram matrices K_ij = exp(−‖a_i − a_j‖² / s²): Silverman's rule, and the
// alignment with the labels' Gram matrix over a grid of candidates (Zaugg et al. after
// Wickstrøm et al.), averaged over an epoch's batches and re-chosen per epoch on request.
// Widths are in this package's convention s (= √2·σ of Giraldo et al.'s exp(−d² / 2σ²)).
import { Tensor } from '@tensorflow/tfjs-core';

import { native } from '../native';
import { checkOptionNames, described, fail, named, optionsObject, shown } from '../validate';

/** A layer's rows as the native calls take them. */
export interface LayerData {
  layer: Float32Array;
  rows: number;
  dims: number;
}

/** A tensor's rows as LayerData (any rank ≥ 2, flattened per row): one read of its values. */
export function layerData(x: Tensor): LayerData {
  const rows = x.shape[0];
  // A float32 tensor cast from int32 keeps the int32 values on the cpu backend (tfjs's Cast
  // shares data where nothing is lost): read them as floats.
  const values = x.dataSync();
  return { layer: values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>), rows, dims: x.size / rows };
}

/** LayerData the caller passed, or the rows of a tensor [N, ...]: checked before any use. */
function layerDataOf(op: string, x: unknown): LayerData {
  if (x instanceof Tensor) {
    if (x.isDisposed || x.rank < 2 || x.size === 0)
      fail(op, `layer must be a tf.Tensor [N, D] (rank >= 2, not empty), got shape [${x.shape}]`);
    return layerData(x);
  }
  const d = x as Partial<LayerData> | null;
  const ok =
    d !== null &&
    typeof d === 'object' &&
    d.layer instanceof Float32Array &&
    Number.isInteger(d.rows) &&
    Number.isInteger(d.dims) &&
    (d.rows as number) >= 1 &&
    (d.dims as number) >= 1 &&
    d.layer.length === (d.rows as number) * (d.dims as number);
  if (!ok) fail(op, `layer must be a tf.Tensor [N, D] or {layer: Float32Array, rows, dims} with rows·dims values, got ${shown(x)}`);
  return d as LayerData;
}

/**
 * Silverman's rule of thumb for a d-dimensional Gaussian kernel density estimate,
 * σ = σ̂·(4 / ((d + 2)·N))^(1 / (d + 4)) with σ̂ the root mean of the columns' variances,
 * returned as s = √2·σ. Rows all equal (σ̂ = 0): 1 (the Gram matrix is all ones at any width).
 */
export function silvermanWidth(data: LayerData | Tensor): number {
  const { layer, rows, dims } = layerDataOf('silvermanWidth', data);
  let variance = 0;
  for (let j = 0; j < dims; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += layer[i * dims + j];
    mean /= rows;
    let v = 0;
    for (let i = 0; i < rows; i++) v += (layer[i * dims + j] - mean) ** 2;
    variance += v / Math.max(1, rows - 1);
  }
  const sigmaHat = Math.sqrt(variance / dims);
  if (!(sigmaHat > 0)) return 1;
  return Math.SQRT2 * sigmaHat * (4 / ((dims + 2) * rows)) ** (1 / (dims + 4));
}

/**
 * The candidate widths of the alignment search: `count` points from 0.3 to 10× the mean pairwise
 * distance (Wickstrøm et al.'s grid); from a thousandth of the top when that distance is below
 * 0.045 (the grid would otherwise start above its end).
 */
/** The most candidate widths one search takes (each costs a pass over the batch's pairs). */
const MAX_CANDIDATES = 100_000;

export function alignmentCandidates(data: LayerData | Tensor, count = 100): Float64Array {
  const op = 'alignmentCandidates';
  const checked = layerDataOf(op, data);
  if (!Number.isInteger(count) || count < 1 || count > MAX_CANDIDATES)
    fail(op, `count must be an integer in [1, ${MAX_CANDIDATES}], got ${shown(count)}`);
  let d: number;
  try {
    d = native().meanPairwiseDistance(checked);
  } catch (e) {
    throw named(e, op);
  }
  const hi = 10 * (d > 0 ? d : 1);
  const lo = hi > 0.3 * 1.5 ? 0.3 : hi / 1000;
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = count === 1 ? hi : lo + ((hi - lo) * k) / (count - 1);
  return out;
}

/** ⟨K_Y, K_Z(s)⟩_F / (‖K_Y‖_F ‖K_Z(s)‖_F) for each candidate s. */
export function kernelAlignment(labels: Int32Array, classes: number, data: LayerData | Tensor, widths: Float64Array): Float64Array {
  const op = 'kernelAlignment';
  const checked = layerDataOf(op, data);
  if (!(labels instanceof Int32Array)) fail(op, `labels must be an Int32Array of class ids, got ${shown(labels)}`);
  if (!(widths instanceof Float64Array)) fail(op, `widths must be a Float64Array (alignmentCandidates' output), got ${shown(widths)}`);
  const out = new Float64Array(widths.length);
  try {
    native().kernelAlignment({ ...checked, labels, classes, widths, out });
  } catch (e) {
    throw named(e, op);
  }
  return out;
}

export type WidthRule = number | 'silverman' | 'alignment';

export interface WidthRecord {
  epoch: number;
  width: number;
  /** The epoch's best mean alignment (rule 'alignment'). */
  alignment?: number;
}

export interface WidthSelectorOptions {
  /** Candidates per search (default 100). */
  candidates?: number;
  /** 'epoch' (default): the width is re-chosen after each epoch; 'once': kept after the first. */
  reselect?: 'epoch' | 'once';
}

/**
 * The width a training loss uses at each step. 'alignment': the first batch picks the width it
 * aligns best with; from then on every batch adds its alignment curve (on the epoch's grid)
 * and the end of the epoch moves the width to the best of the epoch's mean curve. 'silverman':
 * each batch's own rule-of-thumb width. A number: fixed.
 */
export class WidthSelector {
  readonly history: WidthRecord[] = [];
  private current: number | undefined;
  private grid: Float64Array | undefined;
  private sum: Float64Array | undefined;
  private batches = 0;
  private epoch = 0;
  private readonly count: number;
  private readonly reselect: 'epoch' | 'once';
  private frozen = false;

  constructor(
    readonly rule: WidthRule,
    given?: WidthSelectorOptions,
    name: string = 'WidthSelector',
  ) {
    // The caller's name in messages (informationLoss passes its own); anything else is ignored.
    const op = typeof name === 'string' ? name : 'WidthSelector';
    const options = optionsObject(op, given);
    checkOptionNames(op, options, ['candidates', 'reselect']);
    if (typeof rule === 'number') {
      if (!(Number.isFinite(rule) && rule > 0))
        fail(op, `width must be a finite number > 0, 'silverman' or 'alignment', got ${described(rule)}`);
      this.current = rule;
    } else if (rule !== 'silverman' && rule !== 'alignment') {
      fail(op, `width must be a finite number > 0, 'silverman' or 'alignment', got ${described(rule)}`);
    }
    this.count = options.candidates ?? 100;
    if (!Number.isInteger(this.count) || this.count < 2 || this.count > MAX_CANDIDATES)
      fail(op, `candidates must be an integer in [2, ${MAX_CANDIDATES}], got ${described(options.candidates)}`);
    this.reselect = options.reselect ?? 'epoch';
    if (this.reselect !== 'epoch' && this.reselect !== 'once')
      fail(op, `reselect must be 'epoch' or 'once', got ${described(options.reselect)}`);
  }

  /**
   * The width for this batch (updating the epoch's alignment statistics). `data` is read only
   * when the rule needs the batch (not for a fixed width, nor once an alignment width is frozen).
   */
  widthFor(labels: Int32Array, classes: number, data: () => LayerData): number {
    if (typeof this.rule === 'number') return this.rule;
    if (this.rule === 'silverman') return silvermanWidth(data());
    if (this.frozen && this.current !== undefined) return this.current;
    const batch = data();
    if (this.grid === undefined) this.grid = alignmentCandidates(batch, this.count);
    const a = kernelAlignment(labels, classes, batch, this.grid);
    if (this.sum === undefined) this.sum = new Float64Array(a.length);
    for (let k = 0; k < a.length; k++) this.sum[k] += a[k];
    this.batches++;
    if (this.current === undefined) this.current = this.grid[argmax(a)];
    return this.current;
  }

  /** Ends an epoch: the width moves to the best of the epoch's mean alignment. */
  endEpoch(): void {
    if (this.rule === 'alignment' && this.sum !== undefined && this.grid !== undefined && !this.frozen) {
      const best = argmax(this.sum);
      this.current = this.grid[best];
      this.history.push({ epoch: this.epoch, width: this.current, alignment: this.sum[best] / this.batches });
      if (this.reselect === 'once') this.frozen = true;
    } else if (this.current !== undefined) {
      this.history.push({ epoch: this.epoch, width: this.current });
    }
    this.grid = undefined;
    this.sum = undefined;
    this.batches = 0;
    this.epoch++;
  }

  /** The width in use (undefined before the first batch under 'alignment' or with 'silverman'). */
  get width(): number | undefined {
    return this.current;
  }
}

function argmax(a: Float64Array): number {
  let best = 0;
  for (let k = 1; k < a.length; k++) if (a[k] > a[best]) best = k;
  return best;
}
