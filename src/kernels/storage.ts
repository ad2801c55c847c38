// How a kernel reaches tensor memory on a tfjs backend: the Storage interface, and helpers the
// backends' storages share. Each backend's own storage is in backends/<name>.ts.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

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
  /**
   * An output that holds a gradient [B, C], which a backend may take from memory it reuses
   * across steps (cpu: backends/cpu_pool.ts). Where absent, output().
   */
  gradient?(shape: number[]): Output;
}

/** The output for a gradient on this storage. */
export function gradientOutput(storage: Storage, shape: number[]): Output {
  return storage.gradient !== undefined ? storage.gradient(shape) : storage.output(shape);
}

export type Values = ArrayLike<number> | unknown;

// tfjs stores a tensor in whatever TypedArray produced it (cast int32 → float32 shares an
// Int32Array; tf.oneHot's int32 tensor is a Float32Array): branch on what is there.
export function asFloats(v: Values): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

export function asLabels(v: Values): Int32Array | Float32Array {
  if (v instanceof Int32Array || v instanceof Float32Array) return v;
  return Float32Array.from(v as ArrayLike<number>);
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** An output in a JS array, handed to the backend by `finish`. */
export function arrayOutput(shape: number[], finish: (data: Float32Array) => TensorInfo): Output {
  const data = new Float32Array(sizeOf(shape));
  return { data: () => data, finish: () => finish(data), discard: () => undefined };
}

/** Makes a backend's Storage. */
export type StorageFactory = (backend: KernelBackend) => Storage;
