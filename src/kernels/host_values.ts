// The values of a tensor that an op may read to check them before any kernel runs. On the
// webgpu backend a tensor that lives on the GPU cannot be read synchronously in Node (tfjs'
// readSync needs OffscreenCanvas), and a read would stall the queue anyway: there only data the
// host still holds (written from JS, not yet uploaded) is read, and the webgpu kernels check the
// rest on the GPU (a bad row gets NaN; see webgpu/kernel.ts).
import { engine } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

interface HostHolding {
  tensorMap: { get(id: unknown): { values?: ArrayLike<number> | null } | undefined };
}

interface EngineInternals {
  state?: { tensorInfo?: { get(id: unknown): { backend?: unknown } | undefined } };
  registry?: Record<string, unknown>;
}

/** The tensor's values, or undefined where reading them would mean a GPU read-back. */
export function checkableValues(t: Tensor): ArrayLike<number> | undefined {
  const e = engine() as unknown as EngineInternals;
  const holder = e.state?.tensorInfo?.get(t.dataId)?.backend;
  if (holder === undefined || holder !== e.registry?.webgpu) return t.dataSync();
  return (holder as HostHolding).tensorMap.get(t.dataId)?.values ?? undefined;
}
