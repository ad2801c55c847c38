// How a kernel reaches tensor memory on a backend. The cpu backend hands out the tensors'
// own TypedArrays (zero-copy); any other backend goes through readSync/write (one copy each).
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

export interface Output {
  /** Memory the kernel writes the result into. */
  data: Float32Array;
  /** The finished tensor (after `data` has been written). */
  finish(): TensorInfo;
}

export interface Storage {
  floats(t: TensorInfo): Float32Array;
  labels(t: TensorInfo): Int32Array | Float32Array;
  output(shape: number[]): Output;
  /** A tensor made from an array the kernel already filled (a gradient kept from forward). */
  adopt(shape: number[], data: Float32Array): TensorInfo;
}

type Values = ArrayLike<number> | unknown;

// tfjs stores a tensor in whatever TypedArray produced it (cast int32 → float32 shares an
// Int32Array; tf.oneHot's int32 tensor is a Float32Array): branch on what is there.
function asFloats(v: Values): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

function asLabels(v: Values): Int32Array | Float32Array {
  if (v instanceof Int32Array || v instanceof Float32Array) return v;
  return Float32Array.from(v as ArrayLike<number>);
}

interface CpuBackendLike extends KernelBackend {
  data: { get(id: DataId): { values?: Values } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function cpuStorage(backend: KernelBackend): Storage {
  const cpu = backend as CpuBackendLike;
  const values = (t: TensorInfo) => {
    const v = cpu.data.get(t.dataId).values;
    return v ?? cpu.readSync(t.dataId);
  };
  return {
    floats: (t) => asFloats(values(t)),
    labels: (t) => asLabels(values(t)),
    output(shape) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      return { data, finish: () => cpu.makeTensorInfo(shape, 'float32', data) };
    },
    adopt: (shape, data) => cpu.makeTensorInfo(shape, 'float32', data),
  };
}

export function genericStorage(backend: KernelBackend): Storage {
  return {
    floats: (t) => asFloats(backend.readSync(t.dataId)),
    labels: (t) => asLabels(backend.readSync(t.dataId)),
    output(shape) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      return { data, finish: () => ({ dataId: backend.write(data, shape, 'float32'), shape, dtype: 'float32' }) };
    },
    adopt: (shape, data) => ({ dataId: backend.write(data, shape, 'float32'), shape, dtype: 'float32' }),
  };
}
