// CUDA from TypeScript: device status, device-resident tensors, and the fused loss on them.
// Tensors of the tfjs cpu and wasm backends live in host memory; the ops' `device: 'cuda'`
// option stages them through the addon's pinned buffers (cudaLossOnHost below).
import type { LossSpec } from './kernels/attrs';
import { statsLayout } from './kernels/registry';
import { native, NativeCall, NativeDeviceBuffer, NativeDeviceCall } from './native';
import type { CudaStatus } from './native';
import { checkOptionNames, described, fail, labelsAreDense, optionsObject, shown } from './validate';

export type { CudaStatus };

/**
 * CUDA's own words for "this machine has no NVIDIA GPU or driver" (a CUDA runtime with no driver
 * reports an insufficient driver version), said plainly with CUDA's message beside it.
 */
function plainError(error: string | undefined): string | undefined {
  if (error === undefined) return undefined;
  if (/driver version is insufficient|no CUDA-capable device|no CUDA device|driver .*not .*(found|loaded)/i.test(error)) {
    return `no NVIDIA GPU and driver found on this machine (CUDA: ${error})`;
  }
  return error;
}

/** Whether this addon has CUDA kernels and a device to run them on, and if not, why. */
export function cudaStatus(): CudaStatus {
  const status = native().cudaStatus();
  return status.available ? status : { ...status, error: plainError(status.error) };
}

function cudaAddon() {
  const addon = native();
  const status = cudaStatus();
  if (!status.compiled || !addon.DeviceBuffer || !addon.cudaForward || !addon.cudaBackward) {
    fail('cuda', `CUDA is not available: ${status.error ?? 'no CUDA kernels in this build'}`);
  }
  if (!status.available) fail('cuda', `CUDA is not available: ${status.error}`);
  return addon as Required<typeof addon>;
}

/**
 * A tensor in GPU memory (float32 or int32). Free it with dispose(); one that is garbage
 * collected first frees its memory from a finalizer.
 */
/** Only DeviceTensor.empty (and upload, through it) makes a DeviceTensor. */
const MAKE = Symbol('DeviceTensor.make');

export class DeviceTensor {
  private constructor(
    readonly shape: readonly number[],
    readonly dtype: 'float32' | 'int32',
    readonly buffer: NativeDeviceBuffer,
    made?: symbol,
  ) {
    if (made !== MAKE) fail('DeviceTensor', 'make one with DeviceTensor.empty(shape, dtype) or DeviceTensor.upload(data, shape), not new');
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  static empty(shape: readonly number[], dtype: 'float32' | 'int32' = 'float32'): DeviceTensor {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 1))
      fail('DeviceTensor.empty', `shape must be an array of positive integers, got ${described(shape)}`);
    if (dtype !== 'float32' && dtype !== 'int32') fail('DeviceTensor.empty', `dtype must be 'float32' or 'int32', got ${described(dtype)}`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n * 4)) fail('DeviceTensor.empty', `shape [${shape.join(', ')}] has more bytes than a buffer can index`);
    return new DeviceTensor([...shape], dtype, new (cudaAddon().DeviceBuffer)(n * 4), MAKE);
  }

  static upload(data: Float32Array | Int32Array, shape: readonly number[] = [data?.length]): DeviceTensor {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array))
      fail('DeviceTensor.upload', `data must be a Float32Array or an Int32Array, got ${described(data)}`);
    const t = DeviceTensor.empty(shape, data instanceof Int32Array ? 'int32' : 'float32');
    if (t.size !== data.length) {
      t.dispose();
      fail('DeviceTensor.upload', `${data.length} values do not fill shape [${shape.join(', ')}]`);
    }
    t.buffer.upload(data);
    return t;
  }

  /** Waits for the kernels that write this tensor, then copies it to host memory. */
  download(): Float32Array | Int32Array {
    const out = this.dtype === 'int32' ? new Int32Array(this.size) : new Float32Array(this.size);
    return this.buffer.download(out);
  }

  dispose(): void {
    this.buffer.free();
  }
}

// Device buffers reused across calls of the staged path, one per role, grown as needed:
// cudaMalloc/cudaFree on every training step would cost more than small kernels do.
const scratch = new Map<string, NativeDeviceBuffer>();

function scratchBuffer(role: string, bytes: number): NativeDeviceBuffer {
  let b = scratch.get(role);
  if (b === undefined || b.byteLength < bytes) {
    b?.free();
    b = new (cudaAddon().DeviceBuffer)(bytes);
    scratch.set(role, b);
  }
  return b;
}

export interface CudaLossOptions {
  /** The loss by name, as the ops pass it: {kind: 'mixed', alpha: 1, beta: 1}, {kind: 'focal', gamma: 2}, … */
  loss: LossSpec;
  reduction: 'none' | 'sum' | 'mean';
  /** Also compute the gradient (w.r.t. logits) for upstream gradient 1. */
  gradient: boolean;
}

// Upstream gradient 1 on the device, uploaded once.
let unitDy: NativeDeviceBuffer | undefined;

type Launch = Omit<NativeDeviceCall, 'rows' | 'classes'> & {
  rowLoss: NativeDeviceBuffer;
  /** Where the gradient goes, when it is wanted, and its scale. */
  grad?: NativeDeviceBuffer;
  gradScale: number;
};

// Forward, then (when l.grad is given) backward for dy = 1; asynchronous on the addon's stream.
function launch(rows: number, classes: number, l: Launch): void {
  const addon = cudaAddon();
  const { rowLoss, grad, gradScale, ...call } = l;
  addon.cudaForward({ ...call, rows, classes, rowLoss });
  if (grad === undefined) return;
  if (unitDy === undefined) {
    unitDy = new addon.DeviceBuffer(4);
    unitDy.upload(new Float32Array([1]));
  }
  addon.cudaBackward({ ...call, rows, classes, dy: unitDy, dyLength: 1, dyScale: gradScale, grad });
}

const sum = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0);

/**
 * Fused loss (and gradient) on device-resident logits [B, C] and labels ([B] ids or [B, C]
 * targets). Returns the row losses and the reduced value on the host, the statistics and
 * the gradient on the device. 'mean' divides by the rows not ignored (ignoreIndex).
 */
export function cudaLoss(logits: DeviceTensor, labels: DeviceTensor, options: CudaLossOptions) {
  if (!(logits instanceof DeviceTensor)) fail('cudaLoss', `logits must be a DeviceTensor (DeviceTensor.upload), got ${shown(logits)}`);
  if (!(labels instanceof DeviceTensor)) fail('cudaLoss', `labels must be a DeviceTensor (DeviceTensor.upload), got ${shown(labels)}`);
  const given = optionsObject('cudaLoss', options);
  checkOptionNames('cudaLoss', given, ['loss', 'reduction', 'gradient']);
  if (given.loss === null || typeof given.loss !== 'object' || typeof given.loss.kind !== 'string')
    fail('cudaLoss', `loss must be a loss spec such as {kind: 'mixed', alpha: 1, beta: 1}, got ${described(given.loss)}`);
  if (given.reduction !== 'none' && given.reduction !== 'sum' && given.reduction !== 'mean')
    fail('cudaLoss', `reduction must be 'none', 'sum' or 'mean', got ${described(given.reduction)}`);
  if (typeof given.gradient !== 'boolean') fail('cudaLoss', `gradient must be true or false, got ${described(given.gradient)}`);
  if (logits.shape.length !== 2 || logits.dtype !== 'float32') fail('cudaLoss', 'logits must be a float32 DeviceTensor [batch, classes]');
  const [rows, classes] = logits.shape;
  if (labels.shape[0] !== rows) fail('cudaLoss', `labels have ${labels.shape[0]} rows but logits have ${rows}`);
  const dense = labelsAreDense(labels.shape, labels.dtype, classes);
  let divisor = rows;
  if (options.reduction === 'mean' && options.loss.ignoreIndex !== undefined && !dense) {
    const ids = labels.download(); // B values: which rows count
    divisor = 0;
    for (const y of ids) divisor += y === options.loss.ignoreIndex ? 0 : 1;
  }
  const scale = options.reduction === 'mean' ? (divisor === 0 ? 0 : 1 / divisor) : 1;
  const stats = DeviceTensor.empty([rows, statsLayout().perRow]);
  const rowLoss = DeviceTensor.empty([rows]);
  const grad = options.gradient ? DeviceTensor.empty([rows, classes]) : undefined;
  try {
    launch(rows, classes, {
      logits: logits.buffer,
      labels: labels.buffer,
      labelsType: labels.dtype,
      dense,
      loss: options.loss,
      stats: stats.buffer,
      rowLoss: rowLoss.buffer,
      grad: grad?.buffer,
      gradScale: scale,
    });
    const perRow = rowLoss.download() as Float32Array;
    const total = sum(perRow);
    return { rowLoss: perRow, value: options.reduction === 'mean' ? total / divisor : total, stats, grad };
  } finally {
    rowLoss.dispose();
  }
}

/**
 * The fused loss on host arrays through the GPU (what the tfjs ops use for device 'cuda'):
 * row losses and stats back on the host, and the gradient times gradScale when grad is given.
 * Returns Σ row loss.
 */
export function cudaLossOnHost(call: NativeCall & { rowLoss: Float32Array }, gradScale: number, grad: Float32Array | undefined): number {
  const { logits, labels, classWeights, weights, stats, rowLoss, rows, classes } = call;
  const l: Launch = {
    logits: scratchBuffer('logits', logits.byteLength),
    labels: scratchBuffer('labels', labels.byteLength),
    labelsType: labels instanceof Int32Array ? 'int32' : 'float32',
    dense: call.dense,
    loss: call.loss,
    ...(classWeights ? { classWeights: scratchBuffer('classWeights', classWeights.byteLength) } : {}),
    ...(weights ? { weights: scratchBuffer('weights', weights.byteLength) } : {}),
    stats: scratchBuffer('stats', stats.byteLength),
    rowLoss: scratchBuffer('rowLoss', rowLoss.byteLength),
    grad: grad === undefined ? undefined : scratchBuffer('grad', grad.byteLength),
    gradScale,
  };
  l.logits.upload(logits);
  l.labels.upload(labels);
  if (classWeights) l.classWeights?.upload(classWeights);
  if (weights) l.weights?.upload(weights);
  launch(rows, classes, l);
  if (grad !== undefined) l.grad?.download(grad);
  l.stats.download(stats);
  l.rowLoss.download(rowLoss);
  return sum(rowLoss);
}
