// A scheduled loss trained without its callback stays at its first phase (F = 0) for every
// epoch, silently. A callback that tfjs-layers makes for every model.fit and fitDataset
// (registerCallbackConstructor at verbosity 0) notices it: when the first epoch of a fit ends,
// each scheduled loss that ran in that fit while its own callback did not gets one warning.
import { callbackBase } from './callback_base';

/** What the watch knows of one scheduledMixedLoss. */
export interface Watched {
  /** The fit in which the loss last ran a step, and in which its callback last ran. */
  lossIn?: number;
  callbackIn?: number;
  warned: boolean;
}

const watched = new Set<Watched>();
let fits = 0;
let activeFit: number | undefined;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  let layers: typeof import('@tensorflow/tfjs-layers');
  try {
    layers = require('@tensorflow/tfjs-layers');
  } catch {
    return; // no model.fit without tfjs-layers: nothing to watch
  }
  class ScheduleWatch extends callbackBase('scheduledMixedLoss') {
    override async onTrainBegin(): Promise<void> {
      activeFit = ++fits;
    }
    override async onEpochEnd(epoch: number): Promise<void> {
      if (epoch !== Number(this.params?.initialEpoch ?? 0)) return;
      for (const w of watched) {
        if (w.warned || w.lossIn !== activeFit || w.callbackIn === activeFit) continue;
        w.warned = true;
        watched.delete(w);
        console.warn(
          'mixloss.scheduledMixedLoss: its loss trained a whole epoch of model.fit without its callback, so α/β stay at the ' +
            "schedule's first phase for every epoch: pass callbacks: [mix.callback] to fit (or move mix.state yourself in a custom loop). " +
            'This warning is shown once per schedule.',
        );
      }
    }
    override async onTrainEnd(): Promise<void> {
      activeFit = undefined;
    }
  }
  layers.registerCallbackConstructor(0, ScheduleWatch as never);
}

/** Starts watching a scheduled loss (installs the watch on first use). */
export function watchSchedule(): Watched {
  install();
  const w: Watched = { warned: false };
  watched.add(w);
  return w;
}

/** The loss ran a step (inside model.fit when a fit is active). */
export function noteLossStep(w: Watched): void {
  if (activeFit !== undefined) w.lossIn = activeFit;
}

/** The schedule's callback ran (inside model.fit when a fit is active). */
export function noteCallback(w: Watched): void {
  if (activeFit !== undefined) w.callbackIn = activeFit;
}
