// mixloss: fused softmax losses as TensorFlow.js custom ops, with the focus schedules of
// Battash, Hazan & Wolf ("Mixing between the Cross Entropy and the Expectation Loss Terms").
// The loss ops (src/losses/index.ts lists them), lossKinds() and their option types.
export * from './losses';
/** Drop-in for tf.losses: `tf.losses.softmaxCrossEntropy(...)` → `mixloss.losses.softmaxCrossEntropy(...)`. */
export * as losses from './losses/drop_in';
export { cudaLoss, cudaStatus, DeviceTensor } from './cuda';
export type { CudaLossOptions, CudaStatus } from './cuda';
export { FocusSchedule, focusSchedule, focusToWeights, peakGradient } from './focus';
export type { FocusOptions, FocusPoint, MixtureWeights, Phase, ScheduleSpec } from './focus';
export { layersLosses } from './layers_losses';
export { metrics } from './metrics';
export type { LayersLoss } from './layers_losses';
export { FocusScheduleCallback, MixtureState, mixedLossForLayers, scheduledMixedLoss } from './layers';
export type { ScheduleCallbackOptions, ScheduleRecord } from './layers';
export { getNumThreads, nativeInfo, setNumThreads } from './native';
export { clearGradientPool, configureGradientPool, gradientPoolStats } from './kernels/backends/cpu_pool';
export type { GradientPoolOptions, GradientPoolStats } from './kernels/backends/cpu_pool';
export type { NativeInfo } from './native';
export { FUSED_LOSS, FUSED_LOSS_GRAD } from './kernels/attrs';
export type { LossSpec, Reduction } from './kernels/attrs';
export * from './information';
export type { RenyiEntropies } from './native';
export * from './head';
export * from './analysis';
