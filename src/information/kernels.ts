// The Rényi information measures as tfjs kernels with registered gradients, on the same
// Storage as the fused losses (zero-copy on cpu and wasm, one copy each way elsewhere). The
// native core (native/core/information) computes the value and, while a gradient tape records,
// ∂/∂layer in the same call: the eigendecomposition is not repeated in the backward pass.
import type { NamedAttrMap, NamedTensorInfoMap, NamedTensorMap, TensorInfo } from '@tensorflow/tfjs-core';
import { engine, getKernel, KernelBackend, mul, registerGradient, registerKernel, Tensor, zeros } from '@tensorflow/tfjs-core';

import { recordingGradients } from '../kernels/fused_loss';
import { storageFor } from '../kernels/register';
import type { Output, Storage } from '../kernels/storage';
import { native } from '../native';
import { named } from '../validate';

export const RENYI_MUTUAL_INFORMATION = 'MixlossRenyiMutualInformation';
export const RENYI_ENTROPY = 'MixlossRenyiEntropy';

export interface RenyiAttrs {
  alpha: number;
  width: number;
  /** Class count (mutual information only): the labels input holds int32 ids in [0, classes). */
  classes: number;
  /** The op that called, for error messages. */
  op: string;
  /** Compute ∂/∂layer even without a recording tape (the backward pass of a forward that had none). */
  withGradient: boolean;
}

function ids(storage: Storage, t: TensorInfo): Int32Array {
  const v = storage.labels(t);
  return v instanceof Int32Array ? v : Int32Array.from(v);
}

/** Outputs: the value (a scalar, bits) and ∂value/∂layer [rows, dims] (or [0] when not wanted). */
function forward(storage: Storage, kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap | undefined): TensorInfo[] {
  const a = attrs as unknown as RenyiAttrs;
  const layer = inputs.layer as TensorInfo;
  const labels = inputs.labels as TensorInfo;
  const [rows, dims] = layer.shape;
  const wantGradient = a.withGradient || recordingGradients();
  for (const t of kernelName === RENYI_MUTUAL_INFORMATION ? [layer, labels] : [layer]) storage.resident(t);
  // Every allocation before any view (a wasm allocation may move the heap).
  const outputs: Output[] = [];
  try {
    outputs.push(storage.output([]), storage.output(wantGradient ? [rows, dims] : [0]));
    const [value, grad] = outputs;
    const args = {
      layer: storage.floats(layer),
      rows,
      dims,
      alpha: a.alpha,
      width: a.width,
      ...(wantGradient ? { grad: grad.data() } : {}),
    };
    const v =
      kernelName === RENYI_MUTUAL_INFORMATION
        ? native().renyiInformation({ ...args, labels: ids(storage, labels), classes: a.classes }).mutualInformation
        : native().renyiEntropy(args);
    value.data()[0] = v;
    return [value.finish(), grad.finish()];
  } catch (e) {
    for (const o of outputs) o.discard();
    throw named(e, a.op);
  }
}

function registerGradients(): void {
  for (const kernelName of [RENYI_MUTUAL_INFORMATION, RENYI_ENTROPY]) {
    const hasLabels = kernelName === RENYI_MUTUAL_INFORMATION;
    registerGradient({
      kernelName,
      inputsToSave: hasLabels ? ['labels', 'layer'] : ['layer'],
      outputsToSave: [false, true],
      gradFunc: (dy, saved, attrs) => {
        const d = Array.isArray(dy) ? dy[0] : dy;
        const layer = saved[hasLabels ? 1 : 0];
        const inGrad = saved[saved.length - 1];
        const gradient = (): Tensor => {
          if (inGrad.size > 0) return mul(d, inGrad);
          // The forward ran without a tape: run it again for the gradient.
          const inputs: NamedTensorMap = hasLabels ? { labels: saved[0], layer } : { layer };
          const [value, grad] = engine().runKernel(kernelName, inputs, { ...attrs, withGradient: true }) as Tensor[];
          value.dispose();
          return mul(d, grad);
        };
        // Class ids are indices: no gradient (the engine still wants a float tensor of their shape).
        const grads: Record<string, () => Tensor> = { layer: gradient };
        if (hasLabels) grads.labels = () => zeros(saved[0].shape, 'float32');
        return grads;
      },
    });
  }
}

let gradientsRegistered = false;

/** Registers the kernels for a backend on first use, and the gradients once. */
export function ensureInformationKernels(backendName: string): void {
  if (!gradientsRegistered) {
    gradientsRegistered = true;
    registerGradients();
  }
  if (getKernel(RENYI_ENTROPY, backendName) != null) return;
  const storage = storageFor(backendName);
  for (const kernelName of [RENYI_MUTUAL_INFORMATION, RENYI_ENTROPY]) {
    registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => forward(storage(backend as KernelBackend), kernelName, inputs, attrs),
    });
  }
}
