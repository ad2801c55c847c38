// Registers the head's kernels for a backend on first use, and their gradient once (as
// kernels/register.ts does for the loss ops).
import type { NamedTensorMap } from '@tensorflow/tfjs-core';
import { engine, getKernel, KernelBackend, registerGradient, registerKernel, Tensor, zeros } from '@tensorflow/tfjs-core';

import { storageFor } from '../kernels/register';
import { firstOrderOnly } from '../kernels/tape';
import { linearLossForward, linearLossGrad } from './kernels';
import { webgpuHeadForward, webgpuHeadGrad } from './webgpu/kernels';
import { webgpuHeadTopK } from './webgpu/top_k';
import { HEAD_TOP_K, LINEAR_LOSS, LINEAR_LOSS_GRAD, LINEAR_LOSS_KERNELS, LinearLossAttrs } from './kernel_names';

function gradient(kernelName: string, optional: string[]): void {
  registerGradient({
    kernelName,
    inputsToSave: ['hidden', 'kernel', 'labels', ...optional],
    // The row statistics (lse and the row's scalars), not the logits: backward recomputes each tile.
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as LinearLossAttrs;
      const [hidden, kernel, labels] = saved;
      const stats = saved[saved.length - 1];
      const inputs: NamedTensorMap = { hidden, kernel, labels, stats, dy: Array.isArray(dy) ? dy[0] : dy };
      optional.forEach((name, i) => {
        inputs[name] = saved[3 + i];
      });
      // One backward kernel gives all three gradients (the tiles are recomputed once): run it
      // here, inside the gradient's scope, which frees the ones no input asks for.
      const [gh, gk, gb] = engine().runKernel(LINEAR_LOSS_GRAD, inputs, a) as Tensor[];
      return {
        hidden: () => gh,
        kernel: () => gk,
        bias: () => gb,
        classWeights: () => {
          throw new Error('mixloss: the gradient with respect to classWeights is not implemented; pass constant class weights');
        },
        // Class ids are indices and have no gradient; the engine still wants a float32 tensor.
        labels: () => zeros(labels.shape, 'float32'),
      };
    },
  });
}

let gradientRegistered = false;

/**
 * Backends whose head kernels run programs on the tensors' own device buffers (as the loss ops'
 * DEVICE_KERNELS); others run the native head through their Storage.
 */
const DEVICE_HEADS: Record<string, { forward: (args: never) => unknown; grad: (args: never) => unknown; topK: (args: never) => unknown }> =
  {
    webgpu: { forward: webgpuHeadForward, grad: webgpuHeadGrad, topK: webgpuHeadTopK },
  };

/** Whether headTopK runs as a kernel on this backend's own buffers (else on host arrays). */
export function deviceTopK(backendName: string): boolean {
  if (DEVICE_HEADS[backendName] === undefined) return false;
  ensureHeadKernels(backendName);
  return true;
}

/** Makes sure the head's kernels exist for this backend. Cheap after the first call. */
export function ensureHeadKernels(backendName: string): void {
  if (!gradientRegistered) {
    gradientRegistered = true;
    for (const k of LINEAR_LOSS_KERNELS) gradient(k.name, k.inputs);
    firstOrderOnly(LINEAR_LOSS_GRAD);
  }
  if (getKernel(LINEAR_LOSS, backendName) != null) return;
  const device = DEVICE_HEADS[backendName];
  const storage = device === undefined ? storageFor(backendName) : undefined;
  const forward =
    device?.forward ??
    ((args: Parameters<typeof linearLossForward>[1] & { backend: unknown }) =>
      linearLossForward((storage as ReturnType<typeof storageFor>)(args.backend as KernelBackend), args));
  const grad =
    device?.grad ??
    ((args: Parameters<typeof linearLossGrad>[1] & { backend: unknown }) =>
      linearLossGrad((storage as ReturnType<typeof storageFor>)(args.backend as KernelBackend), args));
  for (const k of LINEAR_LOSS_KERNELS) registerKernel({ kernelName: k.name, backendName, kernelFunc: forward as never });
  registerKernel({ kernelName: LINEAR_LOSS_GRAD, backendName, kernelFunc: grad as never });
  if (device !== undefined) registerKernel({ kernelName: HEAD_TOP_K, backendName, kernelFunc: device.topK as never });
}
