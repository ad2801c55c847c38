// Gradient memory for the cpu backend, reused across training steps. A fresh
// [B, C] Float32Array per step costs more than the loss: the allocator hands large arrays out
// as fresh pages, zeroed and faulted in on first touch. Gradients the kernel wrote are handed
// to tfjs as ordinary tensors; when tfjs frees one (the backend's disposeData, after its last
// reference), its array comes back here and the next gradient of the same size reuses it.
//
// Safety: an array comes back only when the backend has deleted its data id, and never when
// it may still be reachable from outside: read out through readSync (dataSync(), data(),
// arraySync(), a move to another backend: callers get the backend's own array) or stored under
// another data id (a kernel that made a view of it, as an in-place slice does). Bounded by
// maxBytes; emptied after idleMs without use.
import type { BackendValues, DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import { described, isOptionsObject, optionsShown } from '../../validate';

export interface GradientPoolOptions {
  /** Most bytes of free arrays kept (0 turns reuse off). Default 256 MiB. */
  maxBytes?: number;
  /** Free arrays are dropped after this long without a gradient taken or returned. Default 2000 ms. */
  idleMs?: number;
}

export interface GradientPoolStats {
  /** Gradients whose array came from the pool / was newly allocated. */
  reused: number;
  allocated: number;
  /** Arrays that came back; left to the garbage collector because they were read out or shared; dropped over maxBytes. */
  returned: number;
  escaped: number;
  dropped: number;
  /** Free arrays held now, and their bytes. */
  freeArrays: number;
  freeBytes: number;
}

const settings = { maxBytes: 256 * 2 ** 20, idleMs: 2000, poison: false };
const counts = { reused: 0, allocated: 0, returned: 0, escaped: 0, dropped: 0 };
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
let lastUse = 0;
let idleTimer: ReturnType<typeof setInterval> | undefined;

/**
 * Sets the pool's bounds. `poison: true` fills every returned array with NaN, a debugging aid:
 * a kernel that relied on zeroed memory then shows NaN instead of passing by luck.
 */
export function configureGradientPool(options: GradientPoolOptions & { poison?: boolean }): void {
  if (!isOptionsObject(options)) {
    throw new Error(`mixloss.configureGradientPool: options must be an object {maxBytes, idleMs}, got ${optionsShown(options)}`);
  }
  for (const [name, value] of Object.entries(options)) {
    if (name === 'poison') {
      settings.poison = Boolean(value);
      continue;
    }
    if (name !== 'maxBytes' && name !== 'idleMs')
      throw new Error(`mixloss.configureGradientPool: unknown option '${name}' (it takes: maxBytes, idleMs)`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`mixloss.configureGradientPool: ${name} must be a finite number >= 0, got ${described(value)}`);
    }
    settings[name] = value;
  }
  trim();
}

export function gradientPoolStats(): GradientPoolStats {
  let arrays = 0;
  for (const list of free.values()) arrays += list.length;
  return { ...counts, freeArrays: arrays, freeBytes };
}

/** Drops every free array (they go to the garbage collector). */
export function clearGradientPool(): void {
  free.clear();
  freeBytes = 0;
  if (idleTimer !== undefined) clearInterval(idleTimer);
  idleTimer = undefined;
}

function trim(): void {
  if (freeBytes <= settings.maxBytes) return;
  for (const [length, list] of free) {
    while (list.length > 0 && freeBytes > settings.maxBytes) freeBytes -= (list.pop() as Float32Array).byteLength;
    if (list.length === 0) free.delete(length);
  }
}

function take(length: number): Float32Array {
  lastUse = Date.now();
  const list = free.get(length);
  const reused = list?.pop();
  if (reused !== undefined) {
    freeBytes -= reused.byteLength;
    counts.reused++;
    return reused;
  }
  counts.allocated++;
  return new GradientArray(length);
}

function give(array: Float32Array): void {
  lastUse = Date.now();
  if (freeBytes + array.byteLength > settings.maxBytes) {
    counts.dropped++; // over the bound: left to the garbage collector
    return;
  }
  if (settings.poison) array.fill(NaN);
  const list = free.get(array.length);
  if (list === undefined) free.set(array.length, [array]);
  else list.push(array);
  freeBytes += array.byteLength;
  counts.returned++;
  if (idleTimer === undefined) {
    idleTimer = setInterval(
      () => {
        if (Date.now() - lastUse >= settings.idleMs) clearGradientPool();
      },
      Math.max(10, settings.idleMs / 2),
    );
    idleTimer.unref?.();
  }
}

interface CpuBackendLike extends KernelBackend {
  data: { get(id: DataId): { values?: unknown }; has(id: DataId): boolean };
  write(values: BackendValues, shape: number[], dtype: 'float32'): DataId;
  readSync(id: DataId): BackendValues;
  disposeData(id: DataId, force?: boolean): boolean;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** Per backend instance: the gradient arrays it holds, by data id. */
const held = new WeakMap<KernelBackend, WeakMap<DataId, Float32Array>>();
/** Buffers of arrays handed to tfjs, and those that may be reachable from elsewhere. */
const handedOut = new WeakSet<ArrayBufferLike>();
const escaped = new WeakSet<ArrayBufferLike>();
let ownWrite = false;

/**
 * The arrays gradients are written in, so that the backend's write tells a gradient's memory from
 * other arrays by class alone (reading `.buffer` of every array written would cost each small
 * tensor of the program ~1 µs: V8 keeps a small array inside its object and moves the data out
 * when its buffer is read). A view of one (tfjs's cpu slice of a gradient is a subarray) marks the
 * memory shared when it is made. Derived arrays (subarray, slice, map) are plain Float32Arrays,
 * and readSync hands out a plain view: callers never see this class.
 */
class GradientArray extends Float32Array {
  static get [Symbol.species]() {
    return Float32Array;
  }

  subarray(begin?: number, end?: number) {
    escaped.add(this.buffer);
    return super.subarray(begin, end);
  }
}

/** Watches a cpu backend's write, readSync and disposeData (once per backend instance). */
function instrument(cpu: CpuBackendLike): WeakMap<DataId, Float32Array> {
  const known = held.get(cpu);
  if (known !== undefined) return known;
  const ours = new WeakMap<DataId, Float32Array>();
  held.set(cpu, ours);
  const { write, readSync, disposeData } = cpu;
  cpu.write = function (values, shape, dtype) {
    // Another data id over a gradient's memory (a view, or the array itself): it is shared now.
    if (!ownWrite && values instanceof GradientArray && handedOut.has(values.buffer)) escaped.add(values.buffer);
    return write.call(this, values, shape, dtype);
  };
  cpu.readSync = function (dataId) {
    const values = readSync.call(this, dataId);
    if (!(values instanceof GradientArray)) return values;
    // The caller gets the backend's own memory (as tfjs's readSync gives), as a plain Float32Array.
    escaped.add(values.buffer);
    return new Float32Array(values.buffer, values.byteOffset, values.length);
  };
  cpu.disposeData = function (dataId, force) {
    const array = ours.get(dataId);
    const result = disposeData.call(this, dataId, force);
    if (array !== undefined && !this.data.has(dataId)) {
      ours.delete(dataId);
      handedOut.delete(array.buffer);
      if (escaped.has(array.buffer)) counts.escaped++;
      else give(array);
    }
    return result;
  };
  return ours;
}

/** A gradient output on the cpu backend: a pooled array, handed to tfjs by finish(). */
export function pooledGradient(backend: KernelBackend, shape: number[]) {
  const cpu = backend as CpuBackendLike;
  const ours = instrument(cpu);
  const length = shape.reduce((a, b) => a * b, 1);
  const data = settings.maxBytes > 0 ? take(length) : new GradientArray(length);
  return {
    data: () => data,
    finish(): TensorInfo {
      ownWrite = true;
      try {
        const info = cpu.makeTensorInfo(shape, 'float32', data);
        ours.set(info.dataId, data);
        handedOut.add(data.buffer);
        return info;
      } finally {
        ownWrite = false;
      }
    },
    discard: () => {
      if (settings.maxBytes > 0) give(data);
    },
  };
}
