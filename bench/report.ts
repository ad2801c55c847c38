// The benchmark's outputs: a markdown report and an SVG chart of time against class count.
import * as os from 'os';

import * as tf from '@tensorflow/tfjs';

import { cudaStatus, nativeInfo } from '../src';
import { requireOptional } from '../src/optional';
import { MEASURES, Row } from './suite';

const ms = (x: number) => (!Number.isFinite(x) ? '–' : (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ms');
const ratio = (a: number, b: number, digits = 1) => (Number.isFinite(a / b) ? `${(a / b).toFixed(digits)}×` : '–');

export function machine(): string {
  const info = nativeInfo();
  const cuda = cudaStatus();
  return (
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `Node ${process.version}; @tensorflow/tfjs ${tf.version.tfjs}; addon SIMD ${info.simd}, ${info.threads} threads; ` +
    `CUDA: ${cuda.available ? cuda.name : 'none'}; ${new Date().toISOString().slice(0, 10)}`
  );
}

export function markdown(rows: Row[], command: string): string {
  const shapes = [...new Map(rows.map((r) => [`${r.B}x${r.C}`, [r.B, r.C] as [number, number]])).values()];
  const backends = [...new Set(rows.filter((r) => r.backend !== '-').map((r) => r.backend))];
  const find = (B: number, C: number, what: string, backend = '-') =>
    rows.find((r) => r.B === B && r.C === C && r.what === what && r.backend === backend)?.medianMs ?? NaN;
  const lines = [
    '# Benchmarks',
    '',
    'Loss value + gradient w.r.t. the logits, float32, sparse class ids (α = β = 1; CE alone costs the same).',
    `Medians of the \`benchmark\` package's runs, all measured side by side in one process by \`${command}\`.`,
    '',
    `Machine: ${machine()}.`,
    '',
    '## Through tfjs (`tf.valueAndGrad`), against stock cross entropy',
    '',
    `| B × C | ${backends.map((b) => `stock ${b} | mixloss ${b} | speed-up`).join(' | ')} |`,
    `|---|${backends.map(() => '---|---|---|').join('')}`,
  ];
  for (const [B, C] of shapes) {
    const cells = backends.map((b) => {
      const s = find(B, C, MEASURES.stock, b),
        m = find(B, C, MEASURES.mixloss, b);
      return `${ms(s)} | ${ms(m)} | ${ratio(s, m, s / m >= 100 ? 0 : 1)}`;
    });
    lines.push(`| ${B} × ${C} | ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    '## Against the memory bound',
    '',
    '| B × C | native fused value+grad | native fwd, then bwd | 3-pass memory loop | fused / loop | mixloss cpu (tfjs) | loop, fresh output | tfjs / loop fresh |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [B, C] of shapes) {
    const nf = find(B, C, MEASURES.nativeFused),
      n2 = find(B, C, MEASURES.nativeTwoPass);
    const ml = find(B, C, MEASURES.memoryLoop),
      mf = find(B, C, MEASURES.memoryLoopFresh);
    const mc = find(B, C, MEASURES.mixloss, 'cpu');
    lines.push(`| ${B} × ${C} | ${ms(nf)} | ${ms(n2)} | ${ms(ml)} | ${ratio(nf, ml, 2)} | ${ms(mc)} | ${ms(mf)} | ${ratio(mc, mf, 2)} |`);
  }
  if (rows.some((r) => r.what === MEASURES.mixlossCuda)) {
    lines.push(
      '',
      '## CUDA (tfjs cpu tensors staged through pinned buffers)',
      '',
      '| B × C | mixloss cpu | mixloss cuda |',
      '|---|---|---|',
    );
    for (const [B, C] of shapes)
      lines.push(`| ${B} × ${C} | ${ms(find(B, C, MEASURES.mixloss, 'cpu'))} | ${ms(find(B, C, MEASURES.mixlossCuda, 'cpu'))} |`);
  }
  lines.push(
    '',
    '- *stock*: `tf.valueAndGrad(q => tf.losses.softmaxCrossEntropy(oneHot, q))`; *mixloss*: `tf.valueAndGrad(q => mixedLoss(q, ids))`.',
    '  Both backends run kernels synchronously, so the gradient is complete when the call returns; neither side',
    '  reads it back (on wasm that copy alone is ~12 ms at 128 × 32768).',
    '- *native fused value+grad*: the training path (`forwardBackward`: statistics, loss and gradient in one pass over',
    '  the logits, one `exp` per element) called on Float32Arrays with no tfjs, writing into a reused gradient array.',
    '  *native fwd, then bwd*: the two separate passes (inference forward, then a backward from saved statistics).',
    '- *3-pass memory loop*: read the row for a max, read it for a sum, read it and write an output of the same size,',
    '  with the same threads and no `exp`: the memory traffic of a non-fused softmax gradient, and a floor for ours.',
    '- A tfjs op must return a new tensor, so the tfjs rows pay for first-touching a fresh gradient array; they are',
    '  compared with the loop writing a fresh array too (both ask Linux for transparent huge pages on it).',
    "- On wasm the kernels read and write the backend's WebAssembly heap directly (zero-copy) and use the addon's",
    '  threads; stock wasm is single-threaded in Node.',
    '',
  );
  return lines.join('\n');
}

/** The loader for vega / vega-lite, which only the chart needs (optional dependencies). */
const optional = <T>(name: string): T =>
  requireOptional<T>(name, 'mixloss bench: the SVG chart', 'npm install --no-save vega@5 vega-lite@5, or skip the chart with --no-svg');

/** Fails now, naming what to install, when the chart's packages are missing (before a long run). */
export function checkChartPackages(): void {
  optional('vega');
  optional('vega-lite');
}

/** Time against class count, log–log, one line per series (Vega-Lite, rendered to SVG in Node). */
export async function svgChart(rows: Row[]): Promise<string> {
  const vega = optional<typeof import('vega')>('vega');
  const vegaLite = optional<typeof import('vega-lite')>('vega-lite');
  const series: Record<string, string> = {
    [MEASURES.stock]: 'stock tfjs CE',
    [MEASURES.mixloss]: 'mixloss',
    [MEASURES.mixlossCuda]: 'mixloss (CUDA)',
  };
  const values = rows
    .filter((r) => r.what in series && r.backend !== '-')
    .map((r) => ({ classes: r.C, batch: r.B, ms: r.medianMs, series: `${series[r.what]}, ${r.backend}`, shape: `${r.B}×${r.C}` }));
  const shapes = [...new Set(values.map((v) => v.shape))].join(', ');
  const [cpu, rest] = machine().split('; Node ');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Loss + gradient w.r.t. the logits, median time', subtitle: [`B × C: ${shapes}`, cpu, `Node ${rest}`] },
    width: 520,
    height: 340,
    data: { values },
    layer: [
      { mark: { type: 'line', point: { size: 60 } } },
      { mark: { type: 'text', dx: 6, align: 'left', fontSize: 10 }, encoding: { text: { field: 'ms', format: ',.3~r' } } },
    ],
    encoding: {
      x: { field: 'classes', type: 'quantitative', scale: { type: 'log' }, title: 'classes C' },
      y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds (log scale)' },
      color: { field: 'series', type: 'nominal', title: 'loss + tf.grad', legend: { orient: 'right' } },
      tooltip: [{ field: 'shape' }, { field: 'series' }, { field: 'ms', format: '.2f' }],
    },
    config: { font: 'sans-serif', padding: 12 },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}
