// The paper's analysis tools: Fig. 1's curves and the p_y-bucket analysis.
export { focusCurves } from './focus_curves';
export type { FocusCurve } from './focus_curves';
export { bucketTransitions, targetProbabilities } from './buckets';
export type { Bucket, BucketTransitions } from './buckets';
