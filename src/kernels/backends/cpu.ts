// The cpu backend: kernels read and write the tensors' own TypedArrays (zero-copy).
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

import { arrayOutput, asFloats, asLabels, Storage, Values } from '../storage';
import { pooledGradient } from './cpu_pool';

interface CpuBackendLike extends KernelBackend {
  data: { get(id: DataId): { values?: Values } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function cpuStorage(backend: KernelBackend): Storage {
  const cpu = backend as CpuBackendLike;
  const values = (t: TensorInfo) => cpu.data.get(t.dataId).values ?? cpu.readSync(t.dataId);
  return {
    resident: (t) => {
      cpu.data.get(t.dataId);
    },
    floats: (t) => asFloats(values(t)),
    labels: (t) => asLabels(values(t)),
    output: (shape) => arrayOutput(shape, (data) => cpu.makeTensorInfo(shape, 'float32', data)),
    gradient: (shape) => pooledGradient(cpu, shape),
  };
}
