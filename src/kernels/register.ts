// Registers the kernels for a backend on first use (a kernel registered after a backend was
// set up still works: nothing here depends on a setupFunc), and the gradient once.
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import { engine, getKernel, KernelBackend, registerGradient, registerKernel, Tensor, zeros } from '@tensorflow/tfjs-core';

import { FUSED_LOSS, FUSED_LOSS_GRAD, FUSED_LOSS_WEIGHTED, FusedLossAttrs } from './attrs';
import { fusedLossForward, fusedLossGrad } from './fused_loss';
import { denseTargetGradient } from './target_gradient';
import { genericStorage, ZERO_COPY } from './backends';
import type { StorageFactory } from './storage';

/** Forces another storage for a backend (tests drive the generic path on cpu and wasm). */
export const storageOverrides: Record<string, StorageFactory> = {};

function storageFor(backendName: string): StorageFactory {
  return (backend) => (storageOverrides[backendName] ?? ZERO_COPY[backendName] ?? genericStorage)(backend);
}

// The kernel's gradient. The class-weighted kernel is registered under its own name because
// tfjs saves every input listed in inputsToSave and an optional input cannot be listed.
function gradient(kernelName: string, inputsToSave: string[]) {
  registerGradient({
    kernelName,
    inputsToSave,
    // The row statistics, not a [B, C] gradient: the engine would hand a zero [B, C] dy to
    // every extra output on each backward step.
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as FusedLossAttrs;
      const [logits, labels] = saved;
      const stats = saved[saved.length - 1];
      const dLoss = Array.isArray(dy) ? dy[0] : dy;
      const inputs: NamedTensorMap = { logits, labels, stats, dy: dLoss };
      if (a.classWeights) inputs.classWeights = saved[2];
      return {
        logits: () => engine().runKernel(FUSED_LOSS_GRAD, inputs, a) as Tensor,
        // Class weights are treated as constants: asking for their gradient is an error, not a zero.
        classWeights: () => {
          throw new Error('mixloss: the gradient with respect to classWeights is not implemented; pass constant class weights');
        },
        // Dense targets get their real gradient (asked for only when they depend on what is
        // differentiated). Class ids are indices and have none; the engine still wants a
        // float32 tensor of their shape, as for tf.gather's indices.
        labels: () => (a.dense ? denseTargetGradient(logits, dLoss, a) : zeros(labels.shape, 'float32')),
      };
    },
  });
}

let gradientRegistered = false;

function registerFusedLossGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  gradient(FUSED_LOSS, ['logits', 'labels']);
  gradient(FUSED_LOSS_WEIGHTED, ['logits', 'labels', 'classWeights']);
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
    kernelName: FUSED_LOSS_WEIGHTED,
    backendName,
    kernelFunc: (args) => fusedLossForward(storage(args.backend as KernelBackend), args),
  });
  registerKernel({
    kernelName: FUSED_LOSS_GRAD,
    backendName,
    kernelFunc: (args) => fusedLossGrad(storage(args.backend as KernelBackend), args),
  });
}
