// The focus F of Battash, Hazan & Wolf and the schedules that move it through training.
import { checkOptionNames, described, fail, optionsObject, shown } from './validate';

export interface MixtureWeights {
  alpha: number;
  beta: number;
}

export interface FocusPoint extends MixtureWeights {
  F: number;
}

export interface FocusOptions {
  /**
   * Scale α and β so that the peak of |∂L/∂q_y| is 1 in every phase. The paper does not:
   * its F = 0.5 phase has a 7.2× smaller peak than F = 0.4 (the peak is (α + β)²/(4β)).
   */
  normalizePeak?: boolean;
}

/** Peak over p_y of |∂L/∂q_y| = (α + β p_y)(1 − p_y), the gradient scale of a phase. */
export function peakGradient(weights: MixtureWeights): number {
  if (weights === null || typeof weights !== 'object')
    fail('peakGradient', `weights must be an object {alpha, beta}, got ${shown(weights)}`);
  const { alpha, beta } = weights;
  for (const [name, v] of [
    ['alpha', alpha],
    ['beta', beta],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('peakGradient', `${name} must be a finite number, got ${shown(v)}`);
  }
  if (beta <= alpha) return alpha; // peak at p_y = 0 when β ≤ α
  return ((alpha + beta) * (alpha + beta)) / (4 * beta);
}

/**
 * Eq. 14: the weights that put the peak of the true-class gradient at p_y = F.
 * F < 0.5: α = 1, β = 1/(1 − 2F); F = 0.5: α = 0, β = 1 (pure expectation loss).
 */
export function focusToWeights(F: number, options?: FocusOptions): MixtureWeights {
  const o = optionsObject('focusToWeights', options);
  checkOptionNames('focusToWeights', o, ['normalizePeak']);
  if (typeof F !== 'number' || !(F >= 0 && F <= 0.5)) fail('focusToWeights', `F must be a number in [0, 0.5], got ${described(F)}`);
  const w = F === 0.5 ? { alpha: 0, beta: 1 } : { alpha: 1, beta: 1 / (1 - 2 * F) };
  if (!o.normalizePeak) return w;
  const peak = peakGradient(w);
  return { alpha: w.alpha / peak, beta: w.beta / peak };
}

export interface Phase {
  /** The focus for this phase. */
  F: number;
  /** Fraction of training at which the phase ends (the last one ends at 1). */
  until: number;
}

export type ScheduleSpec = 'F=0' | 'F=0,0.5' | 'F=0-0.5' | number[] | { phases: Phase[] };

/** The paper's schedules, and the constant of its authors' code that places their boundaries. */
const PRESETS: Record<string, { phases: Phase[]; authorsHf: number }> = {
  'F=0': { phases: [{ F: 0, until: 1 }], authorsHf: 1 },
  'F=0,0.5': {
    phases: [
      { F: 0, until: 0.95 },
      { F: 0.5, until: 1 },
    ],
    authorsHf: 1.9,
  },
  'F=0-0.5': { phases: equalPhases([0, 0.1, 0.2, 0.3, 0.4, 0.5]), authorsHf: 1 },
};

function equalPhases(Fs: number[]): Phase[] {
  return Fs.map((F, k) => ({ F, until: k === Fs.length - 1 ? 1 : (k + 1) / Fs.length }));
}

export class FocusSchedule {
  readonly phases: readonly Phase[];
  private readonly authorsHf: number;

  constructor(phases: Phase[], options?: FocusOptions & { authorsHf?: number }) {
    const op = 'focusSchedule';
    const o = optionsObject(op, options);
    checkOptionNames(op, o, ['normalizePeak', 'authorsHf']);
    if (!Array.isArray(phases) || phases.length === 0) fail(op, 'needs at least one phase');
    let previous = 0;
    phases.forEach((p, k) => {
      if (p === null || typeof p !== 'object') fail(op, `phase ${k} must be an object {F, until}, got ${shown(p)}`);
      if (typeof p.F !== 'number' || !(p.F >= 0 && p.F <= 0.5)) fail(op, `phase ${k}: F must be a number in [0, 0.5], got ${shown(p.F)}`);
      if (typeof p.until !== 'number' || !(p.until > previous && p.until <= 1)) {
        fail(op, `phase ${k}: until must be a number increasing within (0, 1], got ${shown(p.until)}`);
      }
      previous = p.until;
    });
    if (previous !== 1) fail(op, `the last phase must end at 1, got ${previous}`);
    this.phases = phases.map((p) => ({ ...p }));
    this.options = { normalizePeak: o.normalizePeak ?? false };
    this.authorsHf = o.authorsHf ?? 1;
  }

  private readonly options: FocusOptions;

  private point(k: number): FocusPoint {
    if (!Number.isInteger(k) || k < 0 || k >= this.phases.length)
      fail(
        'FocusSchedule',
        `phase index must be an integer in [0, ${this.phases.length}), got ${shown(k)} (use at, atStep or atEpochAuthors)`,
      );
    const F = this.phases[k].F;
    return { F, ...focusToWeights(F, this.options) };
  }

  /** F, α, β at a fraction of training done, progress in [0, 1]. */
  at(progress: number): FocusPoint {
    if (typeof progress !== 'number' || !(progress >= 0 && progress <= 1)) {
      fail('FocusSchedule.at', `progress must be in [0, 1], got ${described(progress)}`);
    }
    // A boundary is reached when progress is within rounding of it (40/240 is 1/6).
    const k = this.phases.findIndex((p) => progress < p.until * (1 - 1e-12));
    return this.point(k < 0 ? this.phases.length - 1 : k);
  }

  /** F, α, β at 0-based step `step` of `total` (epochs or batches), with exact boundaries. */
  atStep(step: number, total: number): FocusPoint {
    if (!Number.isInteger(total) || total < 1) fail('FocusSchedule.atStep', `total must be a positive integer, got ${described(total)}`);
    if (!Number.isInteger(step) || step < 0 || step >= total) {
      fail('FocusSchedule.atStep', `step must be an integer in [0, ${total}), got ${described(step)}`);
    }
    return this.at(step / total);
  }

  /**
   * The phase boundaries of the authors' public code for 0-based epoch `epoch` of `epochs`
   * (integer truncation: with 90 epochs, 'F=0,0.5' switches at epoch 85; with 200, the six
   * phases of 'F=0-0.5' start at 0, 33, 67, 100, 134, 167). Reproduces the paper's runs.
   */
  atEpochAuthors(epoch: number, epochs: number): FocusPoint {
    const op = 'FocusSchedule.atEpochAuthors';
    if (!Number.isInteger(epochs) || epochs < 1) fail(op, `epochs must be a positive integer, got ${described(epochs)}`);
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= epochs)
      fail(op, `epoch must be an integer in [0, ${epochs}), got ${described(epoch)}`);
    const K = this.phases.length;
    const hf = this.authorsHf;
    const fpart = Math.trunc((epochs * hf) / K);
    const k = epoch < fpart ? Math.trunc((epoch * K) / (epochs * hf)) : 1 + Math.trunc(((epoch - fpart) * (K - 1)) / (epochs - fpart));
    return this.point(Math.min(K - 1, k));
  }
}

/**
 * A focus schedule: the paper's 'F=0' (α = β = 1 throughout), 'F=0,0.5' (F = 0.5 for the
 * last 5%) and 'F=0-0.5' (six equal phases 0, 0.1, …, 0.5), equal phases of the given F
 * values, or explicit phases `{phases: [{F, until}]}`.
 */
export function focusSchedule(spec: ScheduleSpec, given?: FocusOptions): FocusSchedule {
  const options = optionsObject('focusSchedule', given);
  checkOptionNames('focusSchedule', options, ['normalizePeak']);
  if (typeof spec === 'string') {
    const preset = PRESETS[spec];
    if (!preset)
      fail('focusSchedule', `unknown schedule ${described(spec)}; use 'F=0', 'F=0,0.5', 'F=0-0.5', an array of F values or {phases}`);
    return new FocusSchedule(preset.phases, { ...options, authorsHf: preset.authorsHf });
  }
  if (Array.isArray(spec)) return new FocusSchedule(equalPhases(spec), options);
  if (spec && Array.isArray((spec as { phases: Phase[] }).phases)) return new FocusSchedule(spec.phases, options);
  return fail('focusSchedule', 'spec must be a preset name, an array of F values or {phases: [{F, until}]}');
}
