// Per-epoch information-plane diagnostics on a held-out batch (Zaugg et al., Section 4):
// I(Y; X) and I(Y; Ŷ), the data-processing check I(Y; X) ≥ I(Y; Ŷ), and ‖∂I(Y; Ŷ)/∂Ŷ‖_F, the
// signal that saturates as training converges. As data (history) and as an SVG chart.
import { grad, softmax, Tensor, tidy } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { callbackBase } from '../callback_base';
import { requireOptional } from '../optional';
import { checkOptionNames, fail, optionsObject, shown } from '../validate';
import { checkAlpha, ClassLabels, classIdsOf, renyiInformation, renyiMutualInformation } from './renyi';
import { layerData, WidthSelector } from './width';

export interface InformationRecord {
  epoch: number;
  /** I(Y; X) in bits, X the held-out inputs (flattened per example). */
  inputInformation: number;
  /** I(Y; Ŷ) in bits, Ŷ the model's softmax outputs. */
  outputInformation: number;
  /** H(Ŷ) in bits. */
  outputEntropy: number;
  /** ‖∂I(Y; Ŷ)/∂Ŷ‖_F. */
  gradientNorm: number;
  /** I(Y; X) < I(Y; Ŷ): the estimate breaks the data-processing inequality at these widths. */
  dpiViolated: boolean;
  widthInput: number;
  widthOutput: number;
}

export interface DiagnosticsOptions {
  alpha?: number;
  /** Width for both layers: 'alignment' (default: best alignment on the batch), 'silverman', or a number. */
  width?: number | 'silverman' | 'alignment';
  /** The model outputs 'logits' (default: softmax is applied) or 'probabilities'. */
  outputs?: 'logits' | 'probabilities';
}

/** Measures a model on a held-out batch after each epoch of model.fit. */
export class InformationDiagnostics extends callbackBase('InformationDiagnostics') {
  readonly history: InformationRecord[] = [];
  private readonly ids: Int32Array;
  private readonly classes: number;
  private readonly alpha: number;
  private readonly rule: number | 'silverman' | 'alignment';
  private readonly logits: boolean;
  private widthInput: number | undefined;

  constructor(
    readonly target: LayersModel,
    readonly x: Tensor,
    labels: ClassLabels,
    given?: DiagnosticsOptions,
  ) {
    super();
    const op = 'InformationDiagnostics';
    const options = optionsObject(op, given);
    checkOptionNames(op, options, ['alpha', 'width', 'outputs']);
    if (target === null || typeof target !== 'object' || typeof (target as { predict?: unknown }).predict !== 'function') {
      fail(op, `target must be a tf.LayersModel (something with predict), got ${shown(target)}`);
    }
    if (!(x instanceof Tensor) || x.isDisposed || x.rank < 1)
      fail(op, `x must be a tf.Tensor of held-out inputs [N, ...], got ${shown(x)}`);
    ({ ids: this.ids, classes: this.classes } = classIdsOf(op, labels, x.shape[0]));
    this.alpha = checkAlpha(op, options.alpha);
    this.rule = options.width ?? 'alignment';
    new WidthSelector(this.rule, {}, op); // checks the rule
    const outputs = options.outputs ?? 'logits';
    if (outputs !== 'logits' && outputs !== 'probabilities') fail(op, `outputs must be 'logits' or 'probabilities', got ${shown(outputs)}`);
    this.logits = outputs === 'logits';
    this.onEpochEnd = this.onEpochEnd.bind(this);
  }

  /** One measurement now (what onEpochEnd records). */
  measure(epoch: number): InformationRecord {
    const xFlat = tidy(() => this.x.reshape([this.x.shape[0], -1]));
    const p = tidy(() => {
      const out = this.target.predict(this.x) as Tensor;
      return this.logits ? softmax(out) : out;
    });
    try {
      // The input layer does not change: its width is chosen once. The output layer's, each epoch
      // on this batch alone (a fresh selector: the batch's best alignment).
      this.widthInput ??= this.widthOn(xFlat);
      const widthOutput = this.widthOn(p);
      const inX = renyiInformation(this.ids, xFlat, { alpha: this.alpha, width: this.widthInput });
      const inY = renyiInformation(this.ids, p, { alpha: this.alpha, width: widthOutput });
      const g = tidy(
        () =>
          grad((q: Tensor) => renyiMutualInformation(this.ids, q, { alpha: this.alpha, width: widthOutput }))(p)
            .norm()
            .dataSync()[0],
      );
      const record: InformationRecord = {
        epoch,
        inputInformation: inX.mutualInformation,
        outputInformation: inY.mutualInformation,
        outputEntropy: inY.layer,
        gradientNorm: g,
        dpiViolated: inX.mutualInformation < inY.mutualInformation,
        widthInput: this.widthInput,
        widthOutput,
      };
      this.history.push(record);
      return record;
    } finally {
      xFlat.dispose();
      p.dispose();
    }
  }

  private widthOn(layer: Tensor): number {
    return new WidthSelector(this.rule, {}, 'InformationDiagnostics').widthFor(this.ids, this.classes, () => layerData(layer));
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    this.measure(epoch);
  }

  /** The history as an SVG chart: I(Y; X), I(Y; Ŷ) and ‖∇I‖ per epoch (needs vega and vega-lite). */
  async toSVG(title = 'Information on the held-out batch'): Promise<string> {
    return informationChart(this.history, title);
  }
}

const optional = <T>(name: string): T =>
  requireOptional<T>(name, 'mixloss.InformationDiagnostics: the SVG chart', 'npm install vega@5 vega-lite@5');

/** Vega-Lite, rendered to SVG in Node (the benchmark charts' stack). */
export async function informationChart(history: InformationRecord[], title: string): Promise<string> {
  const op = 'informationChart';
  if (!Array.isArray(history)) fail(op, `history must be an array of records (InformationDiagnostics' history), got ${shown(history)}`);
  const fields = ['epoch', 'inputInformation', 'outputInformation', 'gradientNorm'] as const;
  history.forEach((r, i) => {
    if (r === null || typeof r !== 'object') fail(op, `history[${i}] must be a record {epoch, inputInformation, ...}, got ${shown(r)}`);
    for (const f of fields) if (typeof r[f] !== 'number') fail(op, `history[${i}].${f} must be a number, got ${shown(r[f])}`);
  });
  if (typeof title !== 'string') fail(op, `title must be a string, got ${shown(title)}`);
  const vega = optional<typeof import('vega')>('vega');
  const vegaLite = optional<typeof import('vega-lite')>('vega-lite');
  const values = history.flatMap((r) => [
    { epoch: r.epoch, value: r.inputInformation, series: 'I(Y; X)', panel: 'bits' },
    { epoch: r.epoch, value: r.outputInformation, series: 'I(Y; Ŷ)', panel: 'bits' },
    { epoch: r.epoch, value: r.gradientNorm, series: '‖∂I(Y; Ŷ)/∂Ŷ‖', panel: 'gradient norm' },
  ]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', title: null } },
    spec: {
      width: 480,
      height: 180,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: { font: 'sans-serif', padding: 12 },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}
