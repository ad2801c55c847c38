// Registers the kernels for a backend on first use (a kernel registered after a backend was
// set up still works: nothing here depends on a setupFunc), and the gradient once.
import type { KernelFunc, NamedTensorMap } from '@tensorflow/tfjs-core';
import { engine, getKernel, KernelBackend, registerGradient, registerKernel, Tensor, zeros } from '@tensorflow/tfjs-core';

import { FUSED_LOSS, FUSED_LOSS_GRAD, FUSED_LOSS_KERNELS, FusedLossAttrs } from './attrs';
import { fusedLossForward, fusedLossGrad } from './fused_loss';
import { denseTargetGradient } from './target_gradient';
import { sampleWeightGradient } from './weight_gradient';
import { genericStorage, ZERO_COPY } from './backends';
import { firstOrderOnly } from './tape';
import type { StorageFactory } from './storage';
import { webgpuForward, webgpuGrad } from './webgpu/kernel';

/** Forces another storage for a backend (tests drive the generic path on cpu and wasm). */
export const storageOverrides: Record<string, StorageFactory> = {};

export function storageFor(backendName: string): StorageFactory {
  return (backend) => (storageOverrides[backendName] ?? ZERO_COPY[backendName] ?? genericStorage)(backend);
}

// The gradient of one forward kernel; `optional` are the optional inputs it has.
function gradient(kernelName: string, optional: string[]) {
  registerGradient({
    kernelName,
    inputsToSave: ['logits', 'labels', ...optional],
    // The row statistics, not a [B, C] gradient: the engine would hand a zero [B, C] dy to
    // every extra output on each backward step.
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as FusedLossAttrs;
      const [logits, labels] = saved;
      const stats = saved[saved.length - 1];
      const dLoss = Array.isArray(dy) ? dy[0] : dy;
      const inputs: NamedTensorMap = { logits, labels, stats, dy: dLoss };
      optional.forEach((name, i) => {
        inputs[name] = saved[2 + i];
      });
      return {
        logits: () => engine().runKernel(FUSED_LOSS_GRAD, inputs, a) as Tensor,
        // Class weights are treated as constants: asking for their gradient is an error, not a zero.
        classWeights: () => {
          throw new Error('mixloss: the gradient with respect to classWeights is not implemented; pass constant class weights');
        },
        weights: () => sampleWeightGradient(stats, labels, inputs.weights, dLoss, a),
        // Dense targets get their real gradient (asked for only when they depend on what is
        // differentiated). Class ids are indices and have none; the engine still wants a
        // float32 tensor of their shape, as for tf.gather's indices.
        labels: () => (a.dense ? denseTargetGradient(logits, dLoss, a, stats, inputs.weights) : zeros(labels.shape, 'float32')),
      };
    },
  });
}

let gradientRegistered = false;

function registerFusedLossGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  for (const k of FUSED_LOSS_KERNELS) gradient(k.name, k.inputs);
  firstOrderOnly(FUSED_LOSS_GRAD);
}

/**
 * Backends whose kernels run programs on the tensors' own device buffers instead of reading
 * memory through a Storage (a new one adds its folder beside webgpu/ and one line here).
 */
const DEVICE_KERNELS: Record<string, { forward: KernelFunc; grad: KernelFunc }> = {
  webgpu: { forward: webgpuForward, grad: webgpuGrad },
};

/** Whether a backend's kernels run on its own device (the `device` option then does not apply). */
export function hasDeviceKernels(backendName: string): boolean {
  return DEVICE_KERNELS[backendName] !== undefined;
}

/** The kernels for a backend: its device kernels, or the Storage-based ones on its storage. */
function kernelsFor(backendName: string): { forward: KernelFunc; grad: KernelFunc } {
  const device = DEVICE_KERNELS[backendName];
  if (device !== undefined) return device;
  const storage = storageFor(backendName);
  return {
    forward: (args) => fusedLossForward(storage(args.backend as KernelBackend), args),
    grad: (args) => fusedLossGrad(storage(args.backend as KernelBackend), args),
  };
}

/** Makes sure the kernels exist for the active backend. Cheap after the first call. */
export function ensureKernels(backendName: string): void {
  registerFusedLossGradient();
  if (getKernel(FUSED_LOSS, backendName) != null) return;
  const { forward, grad } = kernelsFor(backendName);
  for (const k of FUSED_LOSS_KERNELS) registerKernel({ kernelName: k.name, backendName, kernelFunc: forward });
  registerKernel({ kernelName: FUSED_LOSS_GRAD, backendName, kernelFunc: grad });
}
