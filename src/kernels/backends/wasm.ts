// The wasm backend: kernels read and write views on the WebAssembly heap (zero-copy).
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import { asFloats, asLabels, Storage, Values } from '../storage';

interface WasmBackendLike extends KernelBackend {
  dataIdMap: { get(id: DataId): unknown };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Values;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export function wasmStorage(backend: KernelBackend): Storage {
  const wasm = backend as WasmBackendLike;
  return {
    resident: (t) => {
      wasm.dataIdMap.get(t.dataId);
    },
    floats: (t) => asFloats(wasm.typedArrayFromHeap(t)),
    labels: (t) => asLabels(wasm.typedArrayFromHeap(t)),
    output(shape) {
      const info = wasm.makeOutput(shape, 'float32');
      return {
        data: () => wasm.typedArrayFromHeap(info) as Float32Array,
        finish: () => info,
        discard: () => {
          wasm.disposeData(info.dataId, true);
        },
      };
    },
  };
}
