// The mutual-information regularizer of Zaugg et al. (Rényi's matrix-based entropy).
export { renyiEntropy, renyiInformation, renyiMutualInformation } from './renyi';
export type { ClassLabels, RenyiOptions } from './renyi';
export { alignmentCandidates, kernelAlignment, silvermanWidth, WidthSelector } from './width';
export type { LayerData, WidthRecord, WidthRule, WidthSelectorOptions } from './width';
export { informationLoss, informationLossForLayers, InformationLossCallback, InformationLossState, transitionFactor } from './training';
export type { InformationLossOptions, TransitionRecord } from './training';
export { informationChart, InformationDiagnostics } from './diagnostics';
export type { DiagnosticsOptions, InformationRecord } from './diagnostics';
export { RENYI_ENTROPY, RENYI_MUTUAL_INFORMATION } from './kernels';
