// The spec's worked values (float64, checked against central differences to 1e-9): one row per
// case, the op as a user calls it, its value and gradient. Shared by the cpu/wasm suite
// (worked-values.test.ts) and the webgpu suite.
import {
  crossEntropy, expectationLoss, focalLoss, focusToWeights, generalizedCrossEntropy, mixedLoss, polyLoss,
  complementEntropy, maeLoss, mpceLoss, tamedCrossEntropy,
} from '../../src';
import type { tf } from './tf';

export type LossFn = (logits: tf.Tensor, labels: tf.Tensor) => tf.Tensor;

export const WORKED_CASES: Array<{ name: string; fn: LossFn; logits: number[]; label: number; value: number; grad: number[] }> = [
  { name: 'CE', fn: (q, y) => crossEntropy(q, y), logits: [2, 1, 0.1], label: 0, value: 0.417030016278,
    grad: [-0.340998861114, 0.242432970705, 0.098565890409] },
  { name: 'EL', fn: (q, y) => expectationLoss(q, y), logits: [2, 1, 0.1], label: 0, value: 0.340998861114,
    grad: [-0.224718637833, 0.159763603798, 0.064955034035] },
  { name: 'mixed α=1 β=1', fn: (q, y) => mixedLoss(q, y, { alpha: 1, beta: 1 }), logits: [2, 1, 0.1], label: 0,
    value: 0.758028877392, grad: [-0.565717498947, 0.402196574503, 0.163520924444] },
  { name: 'mixed F=0.3', fn: (q, y) => mixedLoss(q, y, focusToWeights(0.3)), logits: [0.5, -1, 3, 0], label: 1,
    value: 6.600115043186, grad: [0.074207723556, -1.023252127133, 0.904035144054, 0.045009259524] },
  { name: 'mixed F=0.5', fn: (q, y) => mixedLoss(q, y, focusToWeights(0.5)), logits: [0.5, -1, 3, 0], label: 2,
    value: 0.130576692059, grad: [0.062047795043, 0.013844734445, -0.11352641955, 0.037633890061] },
  { name: 'focal γ=2', fn: (q, y) => focalLoss(q, y, { gamma: 2 }), logits: [2, 1, 0.1], label: 1,
    value: 0.813244584667, grad: [0.721216826337, -0.829088231212, 0.107871404875] },
  { name: 'GCE q=0.7', fn: (q, y) => generalizedCrossEntropy(q, y, { q: 0.7 }), logits: [2, 1, 0.1], label: 2,
    value: 1.146401573792, grad: [0.130165178961, 0.047885093296, -0.178050272257] },
  { name: 'Poly-1 ε=1', fn: (q, y) => polyLoss(q, y, { epsilon: 1 }), logits: [1, 2, 3], label: 0,
    value: 3.317575391274, grad: [-0.991894495895, 0.266761515575, 0.72513298032] },
  { name: 'tamed CE a=0.5', fn: (q, y) => tamedCrossEntropy(q, y, { a: 0.5 }), logits: [1, 2, 3], label: 0,
    value: 1.691940391959, grad: [-0.492949143389, 0.132574443286, 0.360374700103] },
  { name: 'MAE', fn: (q, y) => maeLoss(q, y), logits: [2, 1, 0.1], label: 0, value: 0.681997722228,
    grad: [-0.449437275618, 0.31952720736, 0.129910068036] },
  { name: 'MPCE (k ≠ y)', fn: (q, y) => mpceLoss(q, y), logits: [2, 1, 0.1], label: 1, value: 0.590289598139,
    grad: [0.819341774372, -0.802218766915, -0.017123007512] },
  { name: 'MPCE (4 classes)', fn: (q, y) => mpceLoss(q, y), logits: [0.5, -1, 3, 0], label: 0, value: 2.106809946532,
    grad: [-1.079860492581, -0.020840643433, 1.157351878778, -0.056650742319] },
  { name: 'MPCE (k = y: zero)', fn: (q, y) => mpceLoss(q, y), logits: [0.5, -1, 3, 0], label: 2, value: 0, grad: [0, 0, 0, 0] },
  { name: 'complement entropy (5 classes)', fn: (q, y) => complementEntropy(q, y), logits: [2, 1, 0.1, -1, 3], label: 1,
    value: -0.156459084436, grad: [-0.0297727073, 0, -0.018960804954, -0.009107360893, 0.057840873174] },
  { name: 'complement entropy (3 classes)', fn: (q, y) => complementEntropy(q, y), logits: [2, 1, 0.1], label: 0,
    value: -0.200433107457, grad: [0, 0.061650092212, -0.061650092198] },
  { name: 'truncated GCE above k', fn: (q, y) => generalizedCrossEntropy(q, y, { q: 0.7, truncation: 0.5 }), logits: [1, 2, 3], label: 2,
    value: 0.354613557821, grad: [0.067682329741, 0.183979647378, -0.251661977368] },
  { name: 'truncated GCE below k', fn: (q, y) => generalizedCrossEntropy(q, y, { q: 0.7, truncation: 0.5 }), logits: [1, 2, 3], label: 0,
    value: 0.549182561896, grad: [0, 0, 0] },
];
