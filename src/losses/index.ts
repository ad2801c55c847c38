// Every loss op, one file per kind (as tfjs's register_all_kernels.ts lists one kernel per
// file): the package's exports and its tfjs-layers losses follow from this list. A new kind adds
// its file here; see docs/architecture.md. (The drop-ins for tf.losses are mixloss.losses.)
export * from './mixed';
export * from './mae';
export * from './focal';
export * from './generalized_ce';
export * from './tamed_ce';
export * from './mpce';
export * from './complement_entropy';
export type { Device, Labels, Logits, LossOptions } from './types';
export { lossKinds } from './registry';
