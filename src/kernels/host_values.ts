// The values of a tensor that may be read to check them before any kernel runs. On the webgpu
// backend a tensor that lives on the GPU cannot be read synchronously in Node (tfjs' readSync
// needs OffscreenCanvas), and a read would stall the queue anyway: there only data the host
// still holds (written from JS and not yet uploaded, or already read back) is read, and the
// webgpu kernels check the rest on the GPU (a bad row gets NaN; see webgpu/kernel.ts).
import { engine } from '@tensorflow/tfjs-core';
import type { Tensor, TensorInfo } from '@tensorflow/tfjs-core';

/** A backend that may keep a tensor's values on the host (tfjs-backend-webgpu's tensorMap). */
export interface HostHolding {
  tensorMap: { get(id: unknown): { values?: ArrayLike<number> | null; dtype?: string } | undefined };
}

/** The values the backend holds on the host for this data id, or undefined. */
export function heldOnHost(backend: HostHolding, dataId: unknown): ArrayLike<number> | undefined {
  return backend.tensorMap.get(dataId)?.values ?? undefined;
}

interface EngineInternals {
  state?: { tensorInfo?: { get(id: unknown): { backend?: unknown } | undefined } };
  registry?: Record<string, unknown>;
}

/** The webgpu backend holding t's data, or undefined when another backend holds it. */
function webgpuHolder(t: Pick<TensorInfo, 'dataId'>): HostHolding | undefined {
  const e = engine() as unknown as EngineInternals;
  const holder = e.state?.tensorInfo?.get(t.dataId)?.backend;
  return holder !== undefined && holder === e.registry?.webgpu ? (holder as HostHolding) : undefined;
}

/** The tensor's values, or undefined where reading them would mean a GPU read-back. */
export function checkableValues(t: Tensor): ArrayLike<number> | undefined {
  const gpu = webgpuHolder(t);
  return gpu === undefined ? t.dataSync() : heldOnHost(gpu, t.dataId);
}

/**
 * Whether t's values cannot be read synchronously here: they live only in GPU memory on the
 * webgpu backend, and this runtime has no OffscreenCanvas (Node), which tfjs' readSync needs.
 */
export function unreadableHere(t: Tensor): boolean {
  const gpu = webgpuHolder(t);
  return (
    gpu !== undefined &&
    typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas === 'undefined' &&
    heldOnHost(gpu, t.dataId) === undefined
  );
}

/**
 * The type a tensor's values are stored as on the webgpu backend (undefined elsewhere), where a
 * cast from int32 or bool to float32 shares the int32 buffer (tfjs-backend-webgpu's cast).
 */
export function webgpuStoredDtype(t: Pick<TensorInfo, 'dataId' | 'dtype'>): string | undefined {
  const gpu = webgpuHolder(t);
  return gpu === undefined ? undefined : (gpu.tensorMap.get(t.dataId)?.dtype ?? t.dtype);
}
