// Every loss op, one file per kind (as tfjs's register_all_kernels.ts lists one kernel per
// file). A new kind adds its file here; see docs/architecture.md.
export { crossEntropy, expectationLoss, mixedLoss, polyLoss } from './mixed';
export type { MixedLossOptions } from './mixed';
export { maeLoss } from './mae';
export { focalLoss } from './focal';
export type { FocalLossOptions } from './focal';
export { generalizedCrossEntropy } from './generalized_ce';
export type { GeneralizedCEOptions } from './generalized_ce';
export { tamedCrossEntropy } from './tamed_ce';
export { mpceLoss } from './mpce';
export { complementEntropy, complementObjectiveStep } from './complement_entropy';
export type { ComplementStepOptions } from './complement_entropy';
export { softmaxCrossEntropy, sparseSoftmaxCrossEntropy } from './drop_in';
export type { Device, Labels, LossOptions } from './fused';
export { lossKinds } from './registry';
