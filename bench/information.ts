// `mixloss bench information` (issue 9): the Rényi mutual-information regularizer's forward and
// forward + backward at N = 128 … 1024 (C = 10, softmax-like rows), through the tfjs op on the
// cpu backend and the native call alone, the α = 2 path, the alignment search, beside a training
// step of the reproduction's model (MLP 784-128-10, adam) at the same batch, and beside a float64
// numpy reference (numpy.linalg.eigh, closed-form gradient) on the same inputs when python3 and
// numpy are installed. Medians, one process, interleaved.
import { spawnSync } from 'child_process';
import * as path from 'path';

import { machine } from './report';
import { median } from './median';

export interface InformationBenchOptions {
  sizes: number[];
  reps: number;
}

function time(reps: number, fn: () => void): number {
  fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ts);
}

function numpyReference(
  cases: unknown[],
  reps: number,
): Record<string, { valueMs: number; valueGradMs: number; mi: number; grad: number[] }> | string {
  const r = spawnSync('python3', [path.join(__dirname, '..', '..', 'bench', 'information_reference.py')], {
    input: JSON.stringify({ cases, reps }),
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0) return `numpy reference unavailable (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`;
  return JSON.parse(r.stdout);
}

export async function informationBench(opts: InformationBenchOptions, log: (line: string) => void): Promise<string> {
  require('@tensorflow/tfjs-backend-cpu');
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const { renyiMutualInformation, crossEntropy } = await import('../src');
  const { native } = await import('../src/native');
  const addon = native();
  const rows: string[] = [];
  const cases: Array<{ n: number; d: number; layer: number[]; labels: number[]; width: number; alpha: number }> = [];
  const measured: Array<Record<string, number>> = [];
  for (const n of opts.sizes) {
    const ids = Int32Array.from({ length: n }, (_, i) => i % 10);
    // Softmax rows leaning to the label, as a classifier's outputs mid-training.
    const logits = tf.tidy(() => tf.randomNormal([n, 10], 0, 1, 'float32', n).add(tf.oneHot(ids, 10).mul(2)));
    const p = tf.softmax(logits);
    const layer = p.dataSync() as Float32Array;
    const width = 0.5;
    const grad = new Float32Array(n * 10);
    const call = { labels: ids, classes: 10, layer, rows: n, dims: 10, alpha: 1.01, width };
    const widths = Float64Array.from({ length: 100 }, (_, k) => 0.3 + k * 0.1);
    const out = new Float64Array(100);
    const m: Record<string, number> = { n };
    m.nativeValue = time(opts.reps, () => addon.renyiInformation(call));
    m.nativeValueGrad = time(opts.reps, () => addon.renyiInformation({ ...call, grad }));
    m.alpha2 = time(opts.reps, () => addon.renyiInformation({ ...call, alpha: 2, grad }));
    m.alignment = time(opts.reps, () => addon.kernelAlignment({ labels: ids, classes: 10, layer, rows: n, dims: 10, widths, out }));
    const y = tf.tensor1d(ids, 'int32');
    m.opStep = time(opts.reps, () =>
      tf.tidy(() => {
        tf.grad((x: import('@tensorflow/tfjs').Tensor) => renyiMutualInformation(y, x, { width }))(p).dataSync();
      }),
    );
    // The rest of a training step of the reproduction's model at this batch.
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }), tf.layers.dense({ units: 10 })],
    });
    const x = tf.randomUniform([n, 784]);
    const opt = tf.train.adam(1e-3);
    m.modelStep = time(opts.reps, () => {
      opt
        .minimize(() => crossEntropy(model.apply(x) as import('@tensorflow/tfjs').Tensor, y) as import('@tensorflow/tfjs').Scalar)
        ?.dispose();
    });
    const mi = addon.renyiInformation({ ...call, grad }).mutualInformation;
    cases.push({ n, d: 10, layer: Array.from(layer), labels: Array.from(ids), width, alpha: 1.01 });
    measured.push({ ...m, mi, grad: grad.slice() as unknown as number });
    tf.dispose([logits, p, y, x]);
    model.dispose();
    opt.dispose();
    log(
      `N = ${n}: native value ${m.nativeValue.toFixed(1)} ms, value + gradient ${m.nativeValueGrad.toFixed(1)} ms, op (tf.grad) ${m.opStep.toFixed(1)} ms, model step ${m.modelStep.toFixed(1)} ms`,
    );
  }
  const ref = numpyReference(cases, opts.reps);
  rows.push(`Machine: ${machine()}. Medians of ${opts.reps}; C = 10, α = 1.01, D = 10 (softmax outputs).`, '');
  rows.push(
    '| N | native I | native I + ∂I/∂Ŷ | tfjs op, tf.grad | α = 2 (no eigensolver) | alignment, 100 widths | model step (MLP 784-128-10, adam) | numpy I | numpy I + ∂I/∂Ŷ | max abs diff of ∂I/∂Ŷ vs numpy |',
  );
  rows.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const m of measured) {
    const r = typeof ref === 'string' ? undefined : ref[String(m.n)];
    const g = m.grad as unknown as Float32Array;
    const diff = r ? Math.max(...r.grad.map((v, i) => Math.abs(v - g[i]))) : NaN;
    rows.push(
      `| ${m.n} | ${m.nativeValue.toFixed(1)} ms | ${m.nativeValueGrad.toFixed(1)} ms | ${m.opStep.toFixed(1)} ms | ${m.alpha2.toFixed(1)} ms | ${m.alignment.toFixed(1)} ms | ${m.modelStep.toFixed(1)} ms | ` +
        `${r ? `${r.valueMs.toFixed(1)} ms` : '–'} | ${r ? `${r.valueGradMs.toFixed(1)} ms` : '–'} | ${r ? `${diff.toExponential(1)} (I: ${Math.abs(r.mi - m.mi).toExponential(1)})` : '–'} |`,
    );
  }
  if (typeof ref === 'string') rows.push('', ref);
  return rows.join('\n');
}
