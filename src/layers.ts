// tfjs-layers integration: a loss for model.compile that reads mutable mixture weights, and
// a callback that moves those weights through a focus schedule during model.fit.
import type { Tensor } from '@tensorflow/tfjs-core';

import { FocusPoint, FocusSchedule, focusSchedule, ScheduleSpec, FocusOptions } from './focus';
import { mixedLoss } from './ops';
import { callbackBase } from './callback_base';
import { noteCallback, noteLossStep, watchSchedule } from './schedule_watch';
import { checkNonNegative, checkOptionNames, described, fail, layersTensors, optionsObject } from './validate';

/** Mixture weights that a compiled loss reads at every step; change them between batches. */
export class MixtureState {
  alpha: number;
  beta: number;
  /** The focus these weights came from, when set from a schedule. */
  F: number | undefined;

  constructor(alpha = 1, beta = 1) {
    this.alpha = checkNonNegative('MixtureState', 'alpha', alpha);
    this.beta = checkNonNegative('MixtureState', 'beta', beta);
    this.F = undefined;
  }

  set(point: { alpha: number; beta: number; F?: number }): void {
    if (point === null || typeof point !== 'object')
      fail('MixtureState.set', `point must be an object {alpha, beta, F?} (a FocusPoint), got ${described(point)}`);
    if (point.F !== undefined && (typeof point.F !== 'number' || !Number.isFinite(point.F)))
      fail('MixtureState.set', `F must be a finite number or left out, got ${described(point.F)}`);
    this.alpha = checkNonNegative('MixtureState.set', 'alpha', point.alpha);
    this.beta = checkNonNegative('MixtureState.set', 'beta', point.beta);
    this.F = point.F;
  }
}

/**
 * A loss for `model.compile({loss})` on a model that outputs logits (no softmax layer).
 * yTrue may be one-hot / probability targets [B, C] (what `model.fit` passes) or class ids
 * [B] / [B, 1] (`fitDataset`). Returns per-example losses [B], so tfjs-layers applies sample
 * weights before its mean.
 */
export function mixedLossForLayers(weights?: MixtureState | { alpha?: number; beta?: number }) {
  const given = weights instanceof MixtureState ? weights : optionsObject('mixedLossForLayers', weights);
  const state = given instanceof MixtureState ? given : new MixtureState(given.alpha ?? 1, given.beta ?? 1);
  const loss = (yTrue: Tensor, yPred: Tensor): Tensor => {
    layersTensors('mixedLossForLayers', yTrue, yPred);
    return mixedLoss(yPred, yTrue, { alpha: state.alpha, beta: state.beta, reduction: 'none' });
  };
  // A meaningful name: tfjs-layers keys metrics and history by the function's name.
  Object.defineProperty(loss, 'name', { value: 'mixedLoss' });
  return Object.assign(loss, { state });
}

export interface ScheduleCallbackOptions {
  /** Move the weights at each epoch (the paper) or at each batch. Default 'epoch'. */
  per?: 'epoch' | 'batch';
  /** 'exact' phase fractions, or 'authors' for the integer epoch boundaries of the paper's code. */
  boundaries?: 'exact' | 'authors';
}

export interface ScheduleRecord extends FocusPoint {
  epoch: number;
  batch?: number;
}

/**
 * Sets a MixtureState from a focus schedule before each epoch (or batch) of `model.fit` /
 * `fitDataset`; the change takes effect at the next training step. `history` records every
 * change.
 */
export class FocusScheduleCallback extends callbackBase('FocusScheduleCallback') {
  readonly history: ScheduleRecord[] = [];
  private readonly per: 'epoch' | 'batch';
  private readonly boundaries: 'exact' | 'authors';
  private epoch = 0;
  private last: FocusPoint | undefined;
  private warned = false;

  constructor(
    readonly state: MixtureState,
    readonly schedule: FocusSchedule,
    given?: ScheduleCallbackOptions,
  ) {
    super();
    const options = optionsObject('FocusScheduleCallback', given);
    checkOptionNames('FocusScheduleCallback', options, ['per', 'boundaries']);
    if (!(state instanceof MixtureState)) fail('FocusScheduleCallback', 'state must be a MixtureState');
    if (!(schedule instanceof FocusSchedule)) fail('FocusScheduleCallback', 'schedule must be a FocusSchedule (see focusSchedule())');
    this.per = options.per ?? 'epoch';
    this.boundaries = options.boundaries ?? 'exact';
    if (this.per !== 'epoch' && this.per !== 'batch')
      fail('FocusScheduleCallback', `per must be 'epoch' or 'batch', got ${described(this.per)}`);
    if (this.boundaries !== 'exact' && this.boundaries !== 'authors') {
      fail('FocusScheduleCallback', `boundaries must be 'exact' or 'authors', got ${described(this.boundaries)}`);
    }
    if (this.per === 'batch' && this.boundaries === 'authors') {
      fail('FocusScheduleCallback', "the authors' boundaries are per epoch: use per: 'epoch'");
    }
    // tfjs-layers wraps every entry of a callbacks array as a plain-object config when the
    // first entry is not a Callback, calling these hooks unbound: bound, they can at least
    // say what went wrong (epochs() below).
    this.onTrainBegin = this.onTrainBegin.bind(this);
    this.onEpochBegin = this.onEpochBegin.bind(this);
    this.onBatchBegin = this.onBatchBegin.bind(this);
  }

  private epochs(): number {
    const epochs = Number(this.params?.epochs);
    if (!Number.isInteger(epochs) || epochs < 1) {
      fail(
        'FocusScheduleCallback',
        'model.fit did not give this callback its parameters. In a callbacks array, ' +
          'tfjs-layers needs every entry to be a Callback when the first one is: wrap plain objects in ' +
          'new tf.CustomCallback({...}), or put this callback first',
      );
    }
    return epochs;
  }

  private stepsPerEpoch(): number {
    const p = this.params ?? {};
    const steps = p.steps != null ? Number(p.steps) : Math.ceil(Number(p.samples) / Number(p.batchSize));
    if (!Number.isInteger(steps) || steps < 1) {
      fail('FocusScheduleCallback', "per: 'batch' needs the number of batches per epoch (fitDataset: pass batchesPerEpoch)");
    }
    return steps;
  }

  private apply(point: FocusPoint, epoch: number, batch?: number): void {
    if (this.last && this.last.alpha === point.alpha && this.last.beta === point.beta) return;
    this.state.set(point);
    this.last = point;
    this.history.push(batch === undefined ? { epoch, ...point } : { epoch, batch, ...point });
  }

  /** Called at each of this callback's hooks (scheduledMixedLoss watches whether fit runs it). */
  onWatch: (() => void) | undefined;

  override async onTrainBegin(): Promise<void> {
    this.onWatch?.();
    this.last = undefined;
    this.warnOfSkippedPhases();
  }

  /**
   * Warns once when some phase of the schedule gets no epoch (or batch) of this fit: its α/β
   * would never be used ('F=0,0.5' over 12 epochs never reaches F = 0.5 per epoch).
   */
  private warnOfSkippedPhases(): void {
    if (this.warned || this.params?.epochs == null) return;
    const epochs = this.epochs();
    const total = this.per === 'epoch' ? epochs : epochs * this.stepsPerEpoch();
    if (total > 1e6) return; // each phase surely gets steps; not worth the walk
    const reached = new Set<number>();
    for (let step = 0; step < total; step++) {
      reached.add(
        (this.per === 'epoch' && this.boundaries === 'authors'
          ? this.schedule.atEpochAuthors(step, epochs)
          : this.schedule.atStep(step, total)
        ).F,
      );
    }
    const skipped = this.schedule.phases.filter((p) => !reached.has(p.F)).map((p) => p.F);
    if (skipped.length === 0) return;
    this.warned = true;
    console.warn(
      `mixloss.FocusScheduleCallback: over ${total} ${this.per === 'epoch' ? 'epochs' : 'batches'} the schedule never ` +
        `reaches F = ${skipped.join(', ')} (a phase shorter than one ${this.per}); ` +
        (this.per === 'epoch' ? "use per: 'batch' to move α/β within epochs, or train for more epochs" : 'train for more batches'),
    );
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.onWatch?.();
    this.epoch = epoch;
    if (this.per !== 'epoch') return;
    const epochs = this.epochs();
    const e = Math.min(epoch, epochs - 1);
    this.apply(this.boundaries === 'authors' ? this.schedule.atEpochAuthors(e, epochs) : this.schedule.atStep(e, epochs), epoch);
  }

  override async onBatchBegin(batch: number): Promise<void> {
    if (this.per !== 'batch') return;
    const steps = this.stepsPerEpoch();
    const total = this.epochs() * steps;
    const step = Math.min(this.epoch * steps + batch, total - 1);
    this.apply(this.schedule.atStep(step, total), this.epoch, batch);
  }
}

/**
 * The whole setup in one call: a compiled-model loss and the callback that schedules it.
 *
 *   const mix = scheduledMixedLoss('F=0-0.5');
 *   model.compile({optimizer: 'adam', loss: mix.loss});
 *   await model.fit(x, y, {epochs: 12, callbacks: [mix.callback]});
 */
export function scheduledMixedLoss(spec: ScheduleSpec | FocusSchedule, given?: ScheduleCallbackOptions & FocusOptions) {
  const options = optionsObject('scheduledMixedLoss', given);
  checkOptionNames('scheduledMixedLoss', options, ['per', 'boundaries', 'normalizePeak']);
  const { normalizePeak, ...perStep } = options;
  const schedule = spec instanceof FocusSchedule ? spec : focusSchedule(spec, normalizePeak === undefined ? {} : { normalizePeak });
  const state = new MixtureState();
  state.set(schedule.at(0));
  // A fit that trains this loss without its callback gets a warning at its first epoch's end.
  const watch = watchSchedule();
  const compiled = mixedLossForLayers(state);
  const loss = Object.assign(
    (yTrue: Tensor, yPred: Tensor): Tensor => {
      noteLossStep(watch);
      return compiled(yTrue, yPred);
    },
    { state },
  );
  Object.defineProperty(loss, 'name', { value: 'mixedLoss' });
  const callback = new FocusScheduleCallback(state, schedule, perStep);
  callback.onWatch = () => noteCallback(watch);
  return { loss, callback, state, schedule };
}
