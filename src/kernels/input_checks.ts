// Checks of what reaches the kernel that need the data itself, done where the data already is:
// dense targets from the row statistics the forward pass leaves (Σ t and min t per row, at no
// extra pass), and a one-time look at the first rows of the logits for softmax outputs.
import type { FusedLossAttrs } from './attrs';
import { statsLayout, statsSlot } from './registry';

/**
 * The kernels' class-id rule (native is_bad_label), for labels read on the host: the first value
 * that is neither an integer in [0, classes) nor the ignoreIndex, as the kernels word it; null
 * when there is none.
 */
export function classIdProblem(values: ArrayLike<number>, classes: number, ignoreIndex: number | undefined): string | null {
  for (let r = 0; r < values.length; r++) {
    const y = values[r];
    if (y === ignoreIndex || (Number.isInteger(y) && y >= 0 && y < classes)) continue;
    return `label ${y} at row ${r} is not a class id in [0, ${classes})${ignoreIndex !== undefined ? ` nor ignoreIndex ${ignoreIndex}` : ''}`;
  }
  return null;
}

/** How far a row of targets may sum from 1 (float32 softmax outputs of a teacher sum within ~1e-6). */
export const MASS_TOLERANCE = 1e-3;

export const ORDER_HINT =
  "mixloss's ops take (logits, labels); tf.losses and mixloss.losses take (labels, logits): check the argument order";

/**
 * Throws when a row of dense targets is not a distribution: an entry < 0 (or NaN), or a sum
 * that is neither 1 nor 0 (an all-zero row adds nothing, as with tf.losses). Logits passed as
 * the labels (the argument order of tf.losses) fail here.
 */
export function checkTargetRows(a: FusedLossAttrs, stats: Float32Array, rows: number): void {
  if (!a.dense || !a.checkTargets) return;
  const { perRow } = statsLayout();
  const massAt = statsSlot('mass'),
    minAt = statsSlot('t_min');
  for (let r = 0; r < rows; r++) {
    const mass = stats[r * perRow + massAt];
    const min = stats[r * perRow + minAt];
    if (isTargetRow(min, mass)) continue;
    throw notTargets(a.op, r, min, mass);
  }
}

/** Dense targets read on the host [rows, classes]: each row a distribution, or the error for the first that is not. */
export function checkTargetValues(op: string, values: ArrayLike<number>, rows: number, classes: number): void {
  for (let r = 0; r < rows; r++) {
    let mass = 0;
    let min = Infinity;
    for (let j = r * classes; j < (r + 1) * classes; j++) {
      const t = values[j];
      mass += t;
      if (!(t >= min)) min = t;
    }
    if (!isTargetRow(min, mass)) throw notTargets(op, r, min, mass);
  }
}

/** Whether a row with this smallest entry and this sum is a distribution (or all 0). */
export function isTargetRow(min: number, mass: number): boolean {
  return min >= 0 && (mass === 0 || Math.abs(mass - 1) <= MASS_TOLERANCE);
}

/** The error for dense row r that is not a distribution (logits passed as the labels, say). */
export function notTargets(op: string, r: number, min: number, mass: number): Error {
  const what = !(min >= 0) ? `has an entry ${Number(min.toPrecision(6))}` : `sums to ${Number(mass.toPrecision(6))}`;
  return new Error(
    `mixloss.${op}: labels row ${r} ${what}, so the labels are not targets ` +
      `(one-hot or probabilities: entries >= 0, each row summing to 1, or all 0 to add nothing). ${ORDER_HINT}. ` +
      'To weight rows, use the weights option; to take real-valued targets that are not distributions, checkTargets: false.',
  );
}

/** Rows looked at for softmax outputs passed as logits. */
const ROWS_LOOKED_AT = 4;
let warnedProbabilities = false;

/**
 * Warns once per process when the first rows of the logits are already probabilities (every
 * entry in [0, 1], each row summing to 1): a model with a softmax layer in front of a loss that
 * applies its own softmax, which trains poorly.
 */
export function warnIfProbabilities(a: FusedLossAttrs, logits: Float32Array, rows: number, classes: number): void {
  if (warnedProbabilities || classes < 2) return;
  const n = Math.min(rows, ROWS_LOOKED_AT);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let j = r * classes; j < (r + 1) * classes; j++) {
      const v = logits[j];
      if (!(v >= 0)) return; // (entries >= 0 summing to 1 are at most 1)
      sum += v;
    }
    if (Math.abs(sum - 1) > MASS_TOLERANCE) return;
  }
  warnedProbabilities = true;
  process.emitWarning(
    `mixloss.${a.op}: the logits look like probabilities (the first ${n} row(s) lie in [0, 1] and sum to 1). ` +
      'The losses apply their own softmax: pass the scores before it (remove the softmax activation of the last layer). ' +
      'This warning is shown once.',
    { code: 'MIXLOSS_SOFTMAX_AS_LOGITS' },
  );
}

/** Tests reset the once-per-process warning. */
export function resetWarnings(): void {
  warnedProbabilities = false;
}
