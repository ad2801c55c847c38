// The six methods of the paper's Table 4 as per-epoch loss weights: cross entropy, the three
// CE + EL mixtures (the focus schedules F = 0, F = 0,0.5 and F = 0-0.5), the expectation loss
// alone, and focal loss with the setting of the kornia version the paper used (γ = 2, α = 0.25).
import { focusSchedule } from '../../src';

export const METHODS = ['ce', 'F=0', 'F=0,0.5', 'F=0-0.5', 'el', 'focal'] as const;
export type Method = (typeof METHODS)[number];

/** The labels of the paper's Table 4. */
export const PAPER_LABEL: Record<Method, string> = {
  ce: 'CE',
  'F=0': 'CE+EL, F=0',
  'F=0,0.5': 'CE+EL, F=0,0.5',
  'F=0-0.5': 'CE+EL, F=0-0.5',
  el: 'EL',
  focal: 'Focal',
};

/** Focal loss as the paper ran it: kornia's softmax focal loss, γ = 2 and α = 0.25 as a global scale. */
export const FOCAL = { gamma: 2, alpha: 0.25 };

/** A training step's loss: ce·CE + el·EL + focal·Focal(γ = 2, α = 0.25). */
export interface LossWeights {
  ce: number;
  el: number;
  focal: number;
}

/** The loss weights of `method` in 0-based epoch `epoch` of `epochs` (the authors' phase boundaries). */
export function lossWeights(method: Method, epoch: number, epochs: number): LossWeights {
  switch (method) {
    case 'ce':
      return { ce: 1, el: 0, focal: 0 };
    case 'el':
      return { ce: 0, el: 1, focal: 0 };
    case 'focal':
      return { ce: 0, el: 0, focal: 1 };
    default: {
      const { alpha, beta } = focusSchedule(method).atEpochAuthors(epoch, epochs);
      return { ce: alpha, el: beta, focal: 0 };
    }
  }
}

export function checkMethod(name: string): Method {
  if (!(METHODS as readonly string[]).includes(name)) throw new Error(`unknown method '${name}'; known: ${METHODS.join(', ')}`);
  return name as Method;
}
