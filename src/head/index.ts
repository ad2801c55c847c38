// The fused classifier head: linear + loss with the logits never in memory, its class-sharded
// statistics, and top-k inference.
export { linearCrossEntropy, linearLoss, linearMixedLoss } from './ops';
export type { Hidden, Kernel, LinearLossOptions, LinearLossSpec } from './ops';
export { headGradients, headLoss, headStatistics, headStatisticsWidth, mergeHeadStatistics } from './sharded';
export type { HeadGradients, HeadShardOptions, HeadStatistics } from './sharded';
export { headTopK } from './top_k';
export type { HeadTopK, HeadTopKOptions } from './top_k';
