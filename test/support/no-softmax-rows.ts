/**
 * Rows with no softmax (entirely −∞; holding +∞) and a finite row after them, with their class
 * ids: every kind's value and gradient row is NaN for the first three, on every backend.
 */
export const NO_SOFTMAX_ROWS = {
  logits: [
    [-Infinity, -Infinity, -Infinity],
    [-Infinity, Infinity, 1],
    [Infinity, 1, 2],
    [0.5, -1, 2],
  ],
  ids: [0, 1, 0, 2],
  /** How many of the rows lead without a softmax. */
  undefinedRows: 3,
};
