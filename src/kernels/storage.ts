// How a kernel reaches tensor memory on a backend:
//   cpu   the tensors' own TypedArrays (zero-copy);
//   wasm  views on the WebAssembly heap (zero-copy);
//   any other backend: readSync / write (one copy each way).
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

export interface Output {
  /**
   * The memory to write. On wasm this is a view on the heap, which any later heap
   * allocation can detach: allocate every output first, then take views.
   */
  data(): Float32Array;
  /** The finished tensor (after data() has been written). */
  finish(): TensorInfo;
  /** Frees an output that will never be finished. */
  discard(): void;
}

export interface Storage {
  /**
   * Moves an input onto this backend if it lives on another (tfjs moves data on first
   * access). Call it for every input before allocating outputs or taking views: on wasm the
   * move allocates, which can grow the heap and detach views already taken.
   */
  resident(t: TensorInfo): void;
  floats(t: TensorInfo): Float32Array;
  labels(t: TensorInfo): Int32Array | Float32Array;
  output(shape: number[]): Output;
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

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** An output in a JS array, handed to the backend by `finish`. */
function arrayOutput(shape: number[], finish: (data: Float32Array) => TensorInfo): Output {
  const data = new Float32Array(sizeOf(shape));
  return { data: () => data, finish: () => finish(data), discard: () => undefined };
}

interface CpuBackendLike extends KernelBackend {
  data: { get(id: DataId): { values?: Values } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function cpuStorage(backend: KernelBackend): Storage {
  const cpu = backend as CpuBackendLike;
  const values = (t: TensorInfo) => cpu.data.get(t.dataId).values ?? cpu.readSync(t.dataId);
  return {
    resident: (t) => { cpu.data.get(t.dataId); },
    floats: (t) => asFloats(values(t)),
    labels: (t) => asLabels(values(t)),
    output: (shape) => arrayOutput(shape, (data) => cpu.makeTensorInfo(shape, 'float32', data)),
  };
}

interface WasmBackendLike extends KernelBackend {
  dataIdMap: { get(id: DataId): unknown };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Values;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export function wasmStorage(backend: KernelBackend): Storage {
  const wasm = backend as WasmBackendLike;
  return {
    resident: (t) => { wasm.dataIdMap.get(t.dataId); },
    floats: (t) => asFloats(wasm.typedArrayFromHeap(t)),
    labels: (t) => asLabels(wasm.typedArrayFromHeap(t)),
    output(shape) {
      const info = wasm.makeOutput(shape, 'float32');
      return {
        data: () => wasm.typedArrayFromHeap(info) as Float32Array,
        finish: () => info,
        discard: () => { wasm.disposeData(info.dataId, true); },
      };
    },
  };
}

export function genericStorage(backend: KernelBackend): Storage {
  return {
    resident: () => undefined,  // readSync moves what it reads, and nothing here holds a view
    floats: (t) => asFloats(backend.readSync(t.dataId)),
    labels: (t) => asLabels(backend.readSync(t.dataId)),
    output: (shape) => arrayOutput(shape, (data) => ({ dataId: backend.write(data, shape, 'float32'), shape, dtype: 'float32' })),
  };
}
