// Training with the mutual-information regularizer of Zaugg et al.:
//   L = f(epoch)·CE − (1 − f(epoch))·I_α(Y; Ŷ),   f(epoch) = (1 + epoch)^−0.5 by default,
// with Ŷ the softmax of the model's logits, CE mixloss's fused kernel, I the native Rényi op,
// and a tfjs-layers callback that advances the epoch (and the kernel width's selection).
import type { Tensor } from '@tensorflow/tfjs-core';
import { mul, softmax, sub, tidy } from '@tensorflow/tfjs-core';

import { callbackBase } from '../callback_base';
import { crossEntropy } from '../ops';
import { checkOptionNames, fail, shown } from '../validate';
import { checkAlpha, classIdsOf, renyiMutualInformation } from './renyi';
import { layerData, WidthRecord, WidthRule, WidthSelector } from './width';

/** The paper's transition factor f(epoch) = (1 + epoch)^−0.5: the weight of CE. */
export function transitionFactor(epoch: number): number {
  if (typeof epoch !== 'number' || !Number.isFinite(epoch) || epoch < 0) {
    fail('transitionFactor', `epoch must be a finite number >= 0, got ${shown(epoch)}`);
  }
  return (1 + epoch) ** -0.5;
}

export interface InformationLossOptions {
  /** Rényi order (default 1.01). */
  alpha?: number;
  /** The kernel width: 'alignment' (default, the paper's), 'silverman', or a fixed number. */
  width?: WidthRule;
  /** Candidates of the alignment search (default 100). */
  candidates?: number;
  /** Re-choose the alignment width after every epoch ('epoch', default) or keep the first epoch's ('once'). */
  reselect?: 'epoch' | 'once';
  /** The weight of CE at each epoch, in [0, 1] (default transitionFactor). */
  schedule?: (epoch: number) => number;
}

export interface TransitionRecord {
  epoch: number;
  /** The weight of CE; 1 − factor weighs −I(Y; Ŷ). */
  factor: number;
}

/** What the loss reads at every step; the callback (or a custom loop) moves it. */
export class InformationLossState {
  epoch = 0;
  factor: number;
  readonly history: TransitionRecord[] = [];

  constructor(
    readonly schedule: (epoch: number) => number,
    readonly width: WidthSelector,
  ) {
    if (typeof schedule !== 'function')
      fail(
        'InformationLossState',
        `schedule must be a function of the epoch returning CE's weight in [0, 1] (transitionFactor, say), got ${shown(schedule)}`,
      );
    if (!(width instanceof WidthSelector))
      fail('InformationLossState', `width must be a WidthSelector (new WidthSelector('alignment')), got ${shown(width)}`);
    this.factor = this.factorAt(0);
  }

  private factorAt(epoch: number): number {
    const f = this.schedule(epoch);
    if (typeof f !== 'number' || !(f >= 0 && f <= 1))
      fail('informationLoss', `schedule(${epoch}) must return a number in [0, 1], got ${shown(f)}`);
    return f;
  }

  /** Enters an epoch: the factor moves to schedule(epoch). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) fail('informationLoss', `epoch must be an integer >= 0, got ${shown(epoch)}`);
    this.epoch = epoch;
    this.factor = this.factorAt(epoch);
    this.history.push({ epoch, factor: this.factor });
  }

  /** Ends an epoch: the alignment width moves to the epoch's best. */
  endEpoch(): void {
    this.width.endEpoch();
  }

  /** The widths chosen per epoch. */
  get widths(): WidthRecord[] {
    return this.width.history;
  }
}

/**
 * The loss for `model.compile({loss})` on a model that outputs logits: per-example values [B]
 * whose mean is f·CE − (1 − f)·I(Y; softmax(logits)). yTrue: one-hot rows (model.fit) or
 * class ids (fitDataset, custom loops).
 */
export function informationLossForLayers(state: InformationLossState, alpha: number) {
  if (!(state instanceof InformationLossState))
    fail('informationLossForLayers', `state must be an InformationLossState (informationLoss() makes one), got ${shown(state)}`);
  checkAlpha('informationLossForLayers', alpha);
  const loss = (yTrue: Tensor, yPred: Tensor): Tensor =>
    tidy(() => {
      const f = state.factor;
      const ce = crossEntropy(yPred, yTrue as never, { reduction: 'none' });
      if (f === 1) return ce;
      const p = softmax(yPred);
      const { ids, classes } = classIdsOf('informationLoss', yTrue, p.shape[0]);
      const width = state.width.widthFor(ids, classes, () => layerData(p));
      const mi = renyiMutualInformation(ids, p, { alpha, width });
      return f === 0 ? mul(mi, -1).broadcastTo(ce.shape) : sub(mul(ce, f), mul(mi, 1 - f));
    });
  Object.defineProperty(loss, 'name', { value: 'informationLoss' });
  return loss;
}

/** Moves an InformationLossState through model.fit: the epoch at its start, the width at its end. */
export class InformationLossCallback extends callbackBase('InformationLossCallback') {
  constructor(readonly state: InformationLossState) {
    super();
    if (!(state instanceof InformationLossState)) fail('InformationLossCallback', 'state must be an InformationLossState');
    this.onEpochBegin = this.onEpochBegin.bind(this);
    this.onEpochEnd = this.onEpochEnd.bind(this);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.state.setEpoch(epoch);
  }

  override async onEpochEnd(): Promise<void> {
    this.state.endEpoch();
  }
}

/**
 * The whole setup in one call, as scheduledMixedLoss:
 *
 *   const info = informationLoss();
 *   model.compile({optimizer: 'adam', loss: info.loss});
 *   await model.fit(x, y, {epochs: 10, callbacks: [info.callback]});
 */
export function informationLoss(options: InformationLossOptions = {}) {
  checkOptionNames('informationLoss', options, ['alpha', 'width', 'candidates', 'reselect', 'schedule']);
  const alpha = checkAlpha('informationLoss', options.alpha);
  const schedule = options.schedule ?? transitionFactor;
  if (typeof schedule !== 'function') fail('informationLoss', `schedule must be a function of the epoch, got ${shown(schedule)}`);
  const width = new WidthSelector(
    options.width ?? 'alignment',
    { candidates: options.candidates, reselect: options.reselect },
    'informationLoss',
  );
  const state = new InformationLossState(schedule, width);
  return { loss: informationLossForLayers(state, alpha), callback: new InformationLossCallback(state), state };
}
