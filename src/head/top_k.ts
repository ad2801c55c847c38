// Inference with the head: each row's k best classes as log-probabilities and class ids, a tile of
// classes at a time (the logits [N, C] never exist).
import { dispose, engine, getBackend, NamedTensorMap, Tensor, tensor } from '@tensorflow/tfjs-core';

import { checkNumber } from '../losses/checks';
import { checkOptionNames, fail, named } from '../validate';
import { native } from '../native';
import { biasTensor, headShapes, hostFloats } from './inputs';
import { floatInput } from '../losses/inputs';
import { HEAD_TOP_K } from './kernel_names';
import type { Hidden, Kernel } from './ops';
import { deviceTopK } from './register';
import { WEBGPU_TOP_K_CLASSES, WEBGPU_TOP_K_MAX } from './webgpu/top_k';

export interface HeadTopKOptions {
  /** The bias [C]. */
  bias?: Tensor | number[] | Float32Array;
  /** The softcap the head trained with (cap·tanh(z/cap)). */
  softcap?: number;
}

export interface HeadTopK {
  /** log p of the k best classes [..., k], best first. */
  values: Tensor;
  /**
   * Their class ids [..., k] (int32); equal values go to the lower id (identical kernel columns can
   * differ in their last bits by where they fall in the GEMM's tiles).
   */
  indices: Tensor;
}

/** The k most probable classes of each row of hidden · kernel + bias, and their log-probabilities. */
export function headTopK(hidden: Hidden, kernel: Kernel, k: number, options: HeadTopKOptions = {}): HeadTopK {
  const op = 'headTopK';
  checkOptionNames(op, options, ['bias', 'softcap']);
  const made: Tensor[] = [];
  try {
    const h = floatInput(op, 'hidden', hidden, made);
    const w = floatInput(op, 'kernel', kernel, made);
    const s = headShapes(op, h, w);
    checkNumber(op, 'k', k, (v) => Number.isInteger(v) && v >= 1 && v <= s.classes, `(an integer in [1, ${s.classes}], the classes)`);
    if (s.classes > 2 ** 31 - 1) fail(op, 'class ids past 2^31 do not fit int32 indices');
    const bias = biasTensor(op, options.bias, s.classes, made);
    const softcap = options.softcap === undefined ? undefined : checkNumber(op, 'softcap', options.softcap, (v) => v > 0, '> 0');
    if (deviceTopK(getBackend())) {
      // On the backend's own buffers (webgpu): nothing read back.
      if (k > WEBGPU_TOP_K_MAX)
        fail(
          op,
          `k = ${k} is more than the webgpu kernel keeps (k ≤ ${WEBGPU_TOP_K_MAX}); run headTopK on the cpu or wasm backend for more`,
        );
      if (s.classes >= WEBGPU_TOP_K_CLASSES)
        fail(op, `${s.classes} classes are more than the webgpu kernel indexes (< 2^24); run headTopK on the cpu or wasm backend`);
      const flat = h.rank === 2 ? h : h.reshape([s.rows, s.dims]);
      if (flat !== h) made.push(flat);
      const inputs: NamedTensorMap = { hidden: flat, kernel: w, ...(bias ? { bias } : {}) };
      const [values, indices] = engine().runKernel(HEAD_TOP_K, inputs, {
        op,
        k,
        bias: bias !== undefined,
        softcap: softcap ?? 0,
      }) as Tensor[];
      if (s.lead.length === 1) return { values, indices };
      try {
        return { values: values.reshape([...s.lead, k]), indices: indices.reshape([...s.lead, k]) };
      } finally {
        dispose([values, indices]);
      }
    }
    const values = new Float32Array(s.rows * k);
    const indices = new Int32Array(s.rows * k);
    try {
      native().headTopK({
        hidden: hostFloats(op, 'hidden', h),
        kernel: hostFloats(op, 'kernel', w),
        ...(bias ? { bias: hostFloats(op, 'bias', bias) } : {}),
        rows: s.rows,
        dims: s.dims,
        classes: s.classes,
        k,
        ...(softcap !== undefined ? { softcap } : {}),
        values,
        indices,
      });
    } catch (e) {
      throw named(e, op);
    }
    return { values: tensor(values, [...s.lead, k]), indices: tensor(indices, [...s.lead, k], 'int32') };
  } finally {
    for (const t of made) t.dispose();
  }
}
