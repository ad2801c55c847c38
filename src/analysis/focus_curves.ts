// The paper's Fig. 1: the mixed loss and the size of its true-class gradient against p_y, for
// each focus F. The peak of |∂L/∂q_y| = (α + β·p_y)(1 − p_y) sits at p_y = F.
import { focusToWeights, FocusOptions } from '../focus';
import { checkOptionNames, described, fail, optionsObject } from '../validate';

export interface FocusCurve {
  F: number;
  alpha: number;
  beta: number;
  /** p_y at each point, in (0, 1]. */
  p: number[];
  /** α·(−log p_y) + β·(1 − p_y). */
  loss: number[];
  /** |∂L/∂q_y| = (α + β·p_y)(1 − p_y), the true-class logit's gradient. */
  gradient: number[];
}

/**
 * The loss and |∂L/∂q_y| of α·CE + β·EL against p_y, one curve per focus F (Eq. 14's α and β),
 * at `points` values of p_y evenly spaced in [1/points, 1].
 */
export function focusCurves(
  Fs: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5],
  options?: FocusOptions & { points?: number },
): FocusCurve[] {
  const given = optionsObject('focusCurves', options);
  checkOptionNames('focusCurves', given, ['points', 'normalizePeak']);
  const { points = 100, ...focus } = given;
  if (!Number.isInteger(points) || points < 2) fail('focusCurves', `points must be an integer >= 2, got ${described(points)}`);
  if (!Array.isArray(Fs) || Fs.length === 0) fail('focusCurves', 'needs at least one F in [0, 0.5]');
  const p = Array.from({ length: points }, (_, i) => (i + 1) / points);
  return Fs.map((F) => {
    const { alpha, beta } = focusToWeights(F, focus);
    return {
      F,
      alpha,
      beta,
      p,
      loss: p.map((q) => alpha * -Math.log(q) + beta * (1 - q)),
      gradient: p.map((q) => (alpha + beta * q) * (1 - q)),
    };
  });
}
