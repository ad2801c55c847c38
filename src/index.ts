// mixloss: fused softmax losses as TensorFlow.js custom ops, with the focus schedules of
// Battash, Hazan & Wolf ("Mixing between the Cross Entropy and the Expectation Loss Terms").
export {
  crossEntropy,
  expectationLoss,
  focalLoss,
  generalizedCrossEntropy,
  mixedLoss,
  polyLoss,
  tamedCrossEntropy,
} from './ops';
export type { Device, Labels, LossOptions, MixedLossOptions } from './ops';
export { cudaLoss, cudaStatus, DeviceTensor } from './cuda';
export type { CudaLossOptions, CudaStatus } from './cuda';
export { FocusSchedule, focusSchedule, focusToWeights, peakGradient } from './focus';
export type { FocusOptions, FocusPoint, MixtureWeights, Phase, ScheduleSpec } from './focus';
export { FocusScheduleCallback, MixtureState, mixedLossForLayers, scheduledMixedLoss } from './layers';
export type { ScheduleCallbackOptions, ScheduleRecord } from './layers';
export { getNumThreads, nativeInfo, setNumThreads } from './native';
export type { NativeInfo } from './native';
export { FUSED_LOSS, FUSED_LOSS_GRAD } from './kernels/attrs';
export type { Reduction } from './kernels/attrs';
