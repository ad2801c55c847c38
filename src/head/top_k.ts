// Inference with the head: each row's k best classes as log-probabilities and class ids, a tile of
// classes at a time (the logits [N, C] never exist).
import { Tensor, tensor } from '@tensorflow/tfjs-core';

import { checkNumber } from '../losses/checks';
import { checkOptionNames, fail, named } from '../validate';
import { native } from '../native';
import { biasTensor, floatTensor, headShapes, hostFloats } from './inputs';
import type { Hidden, Kernel } from './ops';

export interface HeadTopKOptions {
  /** The bias [C]. */
  bias?: Tensor | number[] | Float32Array;
  /** The softcap the head trained with (cap·tanh(z/cap)). */
  softcap?: number;
}

export interface HeadTopK {
  /** log p of the k best classes [..., k], best first. */
  values: Tensor;
  /** Their class ids [..., k] (int32); ties go to the lower id. */
  indices: Tensor;
}

/** The k most probable classes of each row of hidden · kernel + bias, and their log-probabilities. */
export function headTopK(hidden: Hidden, kernel: Kernel, k: number, options: HeadTopKOptions = {}): HeadTopK {
  const op = 'headTopK';
  checkOptionNames(op, options, ['bias', 'softcap']);
  const made: Tensor[] = [];
  try {
    const h = floatTensor(op, 'hidden', hidden, made);
    const w = floatTensor(op, 'kernel', kernel, made);
    const s = headShapes(op, h, w);
    checkNumber(op, 'k', k, (v) => Number.isInteger(v) && v >= 1 && v <= s.classes, `(an integer in [1, ${s.classes}], the classes)`);
    if (s.classes > 2 ** 31 - 1) fail(op, 'class ids past 2^31 do not fit int32 indices');
    const bias = biasTensor(op, options.bias, s.classes, made);
    const softcap = options.softcap === undefined ? undefined : checkNumber(op, 'softcap', options.softcap, (v) => v > 0, '> 0');
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
