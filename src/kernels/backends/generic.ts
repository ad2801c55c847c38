// Any other backend (webgpu, webgl, ...): readSync / write, one copy each way.
import type { KernelBackend } from '@tensorflow/tfjs-core';

import { arrayOutput, asFloats, asLabels, Storage } from '../storage';

export function genericStorage(backend: KernelBackend): Storage {
  return {
    resident: () => undefined, // readSync moves what it reads, and nothing here holds a view
    floats: (t) => asFloats(backend.readSync(t.dataId)),
    labels: (t) => asLabels(backend.readSync(t.dataId)),
    output: (shape) => arrayOutput(shape, (data) => ({ dataId: backend.write(data, shape, 'float32'), shape, dtype: 'float32' })),
  };
}
