// Registers the kernels for a backend on first use (a kernel registered after a backend was
// set up still works: nothing here depends on a setupFunc), and the gradient once.
import { engine, getKernel, KernelBackend, registerGradient, registerKernel, Tensor, zeros } from '@tensorflow/tfjs-core';

import { FUSED_LOSS, FUSED_LOSS_GRAD, FusedLossAttrs } from './attrs';
import { fusedLossForward, fusedLossGrad } from './fused_loss';
import { denseTargetGradient } from './target_gradient';
import { cpuStorage, genericStorage, Storage, wasmStorage } from './storage';

type StorageFactory = (backend: KernelBackend) => Storage;

/** Storage per backend name; any backend not named here takes the generic (copying) path. */
const zeroCopy: Record<string, StorageFactory> = {
  cpu: cpuStorage,
  wasm: wasmStorage,
};

/** Forces another storage for a backend (tests drive the generic path on cpu and wasm). */
export const storageOverrides: Record<string, StorageFactory> = {};

function storageFor(backendName: string): StorageFactory {
  return (backend) => (storageOverrides[backendName] ?? zeroCopy[backendName] ?? genericStorage)(backend);
}

let gradientRegistered = false;

function registerFusedLossGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  registerGradient({
    kernelName: FUSED_LOSS,
    inputsToSave: ['logits', 'labels'],
    // The row statistics, not a [B, C] gradient: the engine would hand a zero [B, C] dy to
    // every extra output on each backward step.
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const [logits, labels, stats] = saved;
      const dLoss = Array.isArray(dy) ? dy[0] : dy;
      return {
        logits: () =>
          engine().runKernel(FUSED_LOSS_GRAD, { logits, labels, stats, dy: dLoss }, attrs as FusedLossAttrs) as Tensor,
        // Dense targets get their real gradient (asked for only when they depend on what is
        // differentiated). Class ids are indices and have none; the engine still wants a
        // float32 tensor of their shape, as for tf.gather's indices.
        labels: () =>
          (attrs as FusedLossAttrs).dense
            ? denseTargetGradient(logits, dLoss, attrs as FusedLossAttrs)
            : zeros(labels.shape, 'float32'),
      };
    },
  });
}

/** Makes sure the kernels exist for the active backend. Cheap after the first call. */
export function ensureKernels(backendName: string): void {
  registerFusedLossGradient();
  if (getKernel(FUSED_LOSS, backendName) != null) return;
  const storage = storageFor(backendName);
  registerKernel({
    kernelName: FUSED_LOSS,
    backendName,
    kernelFunc: (args) => fusedLossForward(storage(args.backend as KernelBackend), args),
  });
  registerKernel({
    kernelName: FUSED_LOSS_GRAD,
    backendName,
    kernelFunc: (args) => fusedLossGrad(storage(args.backend as KernelBackend), args),
  });
}
