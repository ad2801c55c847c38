// The paper's p_y-bucket analysis: of the rows misclassified with p_y < 0.2 at some epoch, how
// many are classified correctly at the end (3.35% in their CIFAR-100 run), beside the rows
// misclassified with p_y >= 0.2 and those already correct.
import { argMax, cast, equal, exp, neg, reshape, Tensor, tidy } from '@tensorflow/tfjs-core';
import { crossEntropy } from '../losses';
import { described, fail, shown } from '../validate';

export interface Bucket {
  /** Rows in the bucket at the earlier epoch. */
  rows: number;
  /** Of those, rows classified correctly at the end. */
  correctAtEnd: number;
}

export interface BucketTransitions {
  threshold: number;
  /** Correct at the earlier epoch. */
  correct: Bucket;
  /** Misclassified with p_y >= threshold. */
  misclassifiedAbove: Bucket;
  /** Misclassified with p_y < threshold: the rows CE's gradient pushes hardest. */
  misclassifiedBelow: Bucket;
}

/** p_y per row (exp of the fused cross entropy's per-row value) and whether argmax = y. */
export function targetProbabilities(logits: Tensor, labels: Tensor): { p: Float32Array; correct: Uint8Array } {
  const op = 'targetProbabilities';
  if (!(logits instanceof Tensor) || logits.rank !== 2) {
    fail(op, `logits must be a tf.Tensor [N, C], got ${logits instanceof Tensor ? `shape [${logits.shape}]` : shown(logits)}`);
  }
  const rows = logits.shape[0];
  if (!(labels instanceof Tensor) || labels.size !== rows || !(labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1))) {
    fail(
      op,
      `labels must be class ids, a tf.Tensor [${rows}] (or [${rows}, 1]), got ${labels instanceof Tensor ? `shape [${labels.shape}]` : shown(labels)}`,
    );
  }
  const [p, correct] = tidy(() => {
    const ce = crossEntropy(logits, labels, { reduction: 'none' });
    return [exp(neg(ce)), equal(argMax(logits, -1), reshape(cast(labels, 'int32'), [rows]))];
  });
  const out = { p: p.dataSync() as Float32Array, correct: Uint8Array.from(correct.dataSync()) };
  p.dispose();
  correct.dispose();
  return out;
}

/** The three groups of rows at an earlier epoch (p_y and correctness there) and their fate at the end. */
export function bucketTransitions(
  at: { p: ArrayLike<number>; correct: ArrayLike<number | boolean> },
  correctAtEnd: ArrayLike<number | boolean>,
  threshold = 0.2,
): BucketTransitions {
  const op = 'bucketTransitions';
  const isArrayLike = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (at === null || typeof at !== 'object' || !isArrayLike(at.p) || !isArrayLike(at.correct)) {
    fail(op, `the earlier epoch must be {p, correct} (targetProbabilities' output), got ${shown(at)}`);
  }
  if (!isArrayLike(correctAtEnd)) fail(op, `correctAtEnd must be an array (targetProbabilities(...).correct), got ${shown(correctAtEnd)}`);
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1))
    fail(op, `threshold must be a number in [0, 1], got ${shown(threshold)}`);
  const n = at.p.length;
  if (at.correct.length !== n || correctAtEnd.length !== n) {
    fail(
      'bucketTransitions',
      `p (${n}), correct (${at.correct.length}) and correctAtEnd (${correctAtEnd.length}) must have one entry per row`,
    );
  }
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1))
    fail('bucketTransitions', `threshold must be in (0, 1), got ${described(threshold)}`);
  const out: BucketTransitions = {
    threshold,
    correct: { rows: 0, correctAtEnd: 0 },
    misclassifiedAbove: { rows: 0, correctAtEnd: 0 },
    misclassifiedBelow: { rows: 0, correctAtEnd: 0 },
  };
  for (let i = 0; i < n; i++) {
    const b = at.correct[i] ? out.correct : at.p[i] >= threshold ? out.misclassifiedAbove : out.misclassifiedBelow;
    b.rows++;
    if (correctAtEnd[i]) b.correctAtEnd++;
  }
  return out;
}
