// The head's tensors, checked before any kernel runs: hidden [..., D], kernel [D, C] (a Dense
// layer's layout), bias [C], class ids of hidden's rows. Tensor-likes become tensors (`made`).
import { Tensor } from '@tensorflow/tfjs-core';

import { unreadableHere } from '../kernels/host_values';
import { checkLabels, classWeightTensor, shapeOf } from '../losses/checks';
import { floatInput, labelsTensor } from '../losses/inputs';
import { fail } from '../validate';

export interface HeadShapes {
  /** hidden's rows' shape (hidden's shape without D). */
  lead: number[];
  rows: number;
  dims: number;
  classes: number;
}

/** hidden [..., D] and kernel [D, C]: their shapes checked against each other. */
export function headShapes(op: string, hidden: Tensor, kernel: Tensor, kernelName = 'kernel'): HeadShapes {
  if (hidden.rank < 1) fail(op, `hidden must be [N, D] or [..., D], got a scalar`);
  if (kernel.rank !== 2) fail(op, `${kernelName} must be [D, C] (a Dense layer's kernel), got shape ${shapeOf(kernel.shape)}`);
  const dims = hidden.shape[hidden.rank - 1];
  const lead = hidden.shape.slice(0, -1);
  const [kd, classes] = kernel.shape;
  if (kd !== dims) {
    const transposed = classes === dims ? ` (a [C, D] kernel, PyTorch's nn.Linear weight layout? pass tf.transpose(${kernelName}))` : '';
    fail(
      op,
      `${kernelName} ${shapeOf(kernel.shape)} must be [D, C] with D = ${dims}, hidden's last axis (hidden ${shapeOf(hidden.shape)})${transposed}`,
    );
  }
  const rows = lead.reduce((a, b) => a * b, 1);
  if (rows === 0) fail(op, `empty batch: hidden has 0 rows (shape ${shapeOf(hidden.shape)})`);
  if (dims === 0) fail(op, 'hidden has D = 0 features');
  if (classes === 0) fail(op, `${kernelName} has 0 classes`);
  return { lead, rows, dims, classes };
}

/** The bias [C], or undefined. */
export function biasTensor(op: string, x: unknown, classes: number, made: Tensor[]): Tensor | undefined {
  if (x === undefined) return undefined;
  const b = floatInput(op, 'bias', x, made);
  if (b.rank !== 1 || b.shape[0] !== classes) fail(op, `bias must have shape [${classes}] (one per class), got ${shapeOf(b.shape)}`);
  return b;
}

/** Class ids of hidden's rows: shape lead (or lead and 1), int32 or integral float32. */
export function headLabels(op: string, y: unknown, s: HeadShapes, ignoreIndex: number | undefined, made: Tensor[]): Tensor {
  const labels = labelsTensor(op, y, s.lead, s.classes, ignoreIndex, made);
  let dense: boolean;
  try {
    dense = checkLabels(op, labels.shape, labels.dtype, s.lead, s.classes).dense;
  } catch (e) {
    if (e instanceof Error) e.message = e.message.replace(/logits'/g, "hidden's").replace(/logits/g, 'hidden');
    throw e;
  }
  if (dense) fail(op, `the fused head takes class ids ${shapeOf(s.lead)}, got targets ${shapeOf(labels.shape)}: pass the class ids`);
  return labels;
}

/** Class weights [C] (float32, finite, >= 0), or undefined. */
export function headClassWeights(op: string, x: unknown, classes: number, made: Tensor[]): Tensor | undefined {
  if (x === undefined) return undefined;
  const w = classWeightTensor(op, 'classWeights', x, classes);
  if (w !== x) made.push(w);
  return w;
}

/**
 * A tensor's values on the host, for the calls that run on host arrays (the sharded head, top-k):
 * on webgpu in Node a tensor that lives on the GPU cannot be read synchronously, which is an Error
 * that says what to do.
 */
export function hostFloats(op: string, name: string, t: Tensor): Float32Array {
  const v = hostValues(op, name, t);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** hostFloats' values in the tensor's own TypedArray. */
export function hostValues(op: string, name: string, t: Tensor): ArrayLike<number> {
  if (unreadableHere(t)) {
    fail(
      op,
      `${name} lives on the GPU (webgpu backend), which cannot be read synchronously here: ${op} runs on host arrays; pass tensors made on the cpu backend (e.g. from await ${name}.data())`,
    );
  }
  return t.dataSync() as ArrayLike<number>;
}
