// Where an op's kernels run: the device option checked against the backend and, for 'auto',
// the measured crossover to CUDA. Shared by every op that runs the fused kernels.
import { getBackend } from '@tensorflow/tfjs-core';

import { cudaStatus } from '../cuda';
import { hasDeviceKernels } from '../kernels/register';
import { described, fail } from '../validate';

let cudaAvailable: boolean | undefined;

/** B·C from which 'auto' uses CUDA: set from the GPU benchmark's measured crossover. Read once. */
const cudaCrossover: number | undefined = (() => {
  const v = Number(process.env.MIXLOSS_CUDA_MIN_ELEMENTS);
  return Number.isFinite(v) && v > 0 ? v : undefined;
})();

/** The device for this call: 'cpu' or 'cuda' (the op resolves 'auto' here). */
export function resolveDevice(op: string, device: unknown, rows: number, classes: number): 'cpu' | 'cuda' {
  if (hasDeviceKernels(getBackend())) {
    // The kernels run on the backend's own device (webgpu); 'cpu' and 'cuda' are for cpu and wasm.
    if (device !== 'auto') {
      fail(
        op,
        `device ${described(device)} applies to the cpu and wasm backends; on the ${getBackend()} backend the kernels run on ` +
          "its GPU: leave device as 'auto'",
      );
    }
    return 'cpu';
  }
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda') {
    const status = cudaStatus();
    if (!status.available) fail(op, `device 'cuda' was requested but CUDA is not available: ${status.error}`);
    return 'cuda';
  }
  if (device !== 'auto') fail(op, `device must be 'auto', 'cpu' or 'cuda', got ${described(device)}`);
  if (cudaCrossover === undefined || rows * classes < cudaCrossover) return 'cpu';
  if (cudaAvailable === undefined) cudaAvailable = cudaStatus().available;
  return cudaAvailable ? 'cuda' : 'cpu';
}
