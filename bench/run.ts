// Fused loss + gradient against stock tfjs cross entropy + tf.grad, on the cpu and wasm
// backends, beside the native kernels alone and a plain three-pass memory loop over the
// same logits. Medians over runs of the `benchmark` package, all in one process.
//
//   npm run bench                  print the table
//   npm run bench -- --write       also write docs/benchmarks.md
//   npm run bench -- --quick       fewer samples (a smoke run)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import Benchmark from 'benchmark';

import { mixedLoss } from '../src';
import { native, nativeInfo, packageRoot } from '../src/native';

const SHAPES: Array<[number, number]> = [[256, 1000], [128, 32768], [32, 262144]];
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

interface Row {
  shape: string;
  what: string;
  backend: string;
  medianMs: number;
  samples: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(fn: () => void): { medianMs: number; samples: number } {
  const b = new Benchmark(fn, { minSamples: quick ? 2 : 7, maxTime: quick ? 0.2 : 2, initCount: 1 });
  b.run();
  if (b.error) throw b.error;
  return { medianMs: median(b.stats.sample) * 1000, samples: b.stats.sample.length };
}

function logits(B: number, C: number): Float32Array {
  const q = new Float32Array(B * C);
  let s = 12345;
  for (let i = 0; i < q.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    q[i] = (s / 4294967296 - 0.5) * 8;
  }
  return q;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const report = (r: Row) => {
    rows.push(r);
    console.log(`${r.shape.padEnd(14)} ${r.what.padEnd(34)} ${r.backend.padEnd(7)} ${r.medianMs.toFixed(2).padStart(10)} ms  (${r.samples} runs)`);
  };
  const addon = native();
  for (const [B, C] of SHAPES) {
    const shape = `${B} × ${C}`;
    const data = logits(B, C);
    const ids = Int32Array.from({ length: B }, (_, i) => (i * 7919) % C);

    // Native kernels alone (no tfjs), and the memory bound.
    const stats = new Float32Array(B * 5), rowLoss = new Float32Array(B), grad = new Float32Array(B * C);
    const dy = new Float32Array([1]);
    report({ shape, what: 'native fused value+grad', backend: '-', ...measure(() => {
      addon.forwardBackward(data, B, C, ids, false, 0, 1, 1, 0, stats, rowLoss, 1 / B, grad);
    }) });
    report({ shape, what: 'native forward, then backward', backend: '-', ...measure(() => {
      addon.forward(data, B, C, ids, false, 0, 1, 1, 0, stats, rowLoss);
      addon.backward(data, B, C, ids, false, 0, 1, 1, 0, stats, dy, 1 / B, grad);
    }) });
    report({ shape, what: 'three-pass memory loop', backend: '-', ...measure(() => addon.threePassMemoryLoop(data, B, C, grad)) });
    // A tfjs op returns a new tensor: compare it with the loop writing a fresh array too.
    report({ shape, what: 'three-pass memory loop, fresh out', backend: '-',
      ...measure(() => addon.threePassMemoryLoop(data, B, C, new Float32Array(B * C))) });

    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      await tf.ready();
      const q = tf.tensor2d(data, [B, C]);
      const y = tf.tensor1d(ids, 'int32');
      const oneHot = tf.oneHot(y, C).toFloat();
      const fused = tf.valueAndGrad((x: tf.Tensor) => mixedLoss(x, y));
      const stock = tf.valueAndGrad((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, x));
      // cpu and wasm run kernels synchronously: the gradient exists when the call returns.
      // Reading it back (dataSync) would add a copy out of the wasm heap to both sides.
      const once = (f: typeof fused) => () => {
        const { value, grad: g } = f(q);
        tf.dispose([value, g]);
      };
      report({ shape, what: 'mixloss mixedLoss + grad', backend, ...measure(once(fused)) });
      report({ shape, what: 'stock softmaxCrossEntropy + grad', backend, ...measure(once(stock)) });
      tf.dispose([q, y, oneHot]);
    }
  }
  if (args.has('--write')) writeMarkdown(rows);
}

function writeMarkdown(rows: Row[]): void {
  const find = (shape: string, what: string, backend: string) =>
    rows.find((r) => r.shape === shape && r.what === what && r.backend === backend)?.medianMs ?? NaN;
  const info = nativeInfo();
  const lines = [
    '# Benchmarks',
    '',
    'Loss value + gradient w.r.t. the logits, float32, sparse class ids. Medians of the `benchmark` package\'s',
    'runs, all measured side by side in one process by `npm run bench -- --write` (bench/run.ts).',
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
      `Node ${process.version}; @tensorflow/tfjs ${tf.version.tfjs}; addon SIMD ${info.simd}, ${info.threads} threads; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '### Through tfjs (`tf.valueAndGrad`), against stock cross entropy',
    '',
    '| B × C | stock cpu | mixloss cpu | speed-up | stock wasm | mixloss wasm | speed-up |',
    '|---|---|---|---|---|---|---|',
  ];
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ms';
  for (const [B, C] of SHAPES) {
    const s = `${B} × ${C}`;
    const sc = find(s, 'stock softmaxCrossEntropy + grad', 'cpu'), mc = find(s, 'mixloss mixedLoss + grad', 'cpu');
    const sw = find(s, 'stock softmaxCrossEntropy + grad', 'wasm'), mw = find(s, 'mixloss mixedLoss + grad', 'wasm');
    lines.push(`| ${s} | ${ms(sc)} | ${ms(mc)} | ${(sc / mc).toFixed(0)}× | ${ms(sw)} | ${ms(mw)} | ${(sw / mw).toFixed(1)}× |`);
  }
  lines.push(
    '',
    '### Against the memory bound',
    '',
    '| B × C | native fused value+grad | native fwd, then bwd | 3-pass memory loop | fused / loop | mixloss cpu (tfjs) | loop, fresh output | tfjs / loop fresh |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [B, C] of SHAPES) {
    const s = `${B} × ${C}`;
    const nf = find(s, 'native fused value+grad', '-'), n2 = find(s, 'native forward, then backward', '-');
    const ml = find(s, 'three-pass memory loop', '-'), mf = find(s, 'three-pass memory loop, fresh out', '-');
    const mc = find(s, 'mixloss mixedLoss + grad', 'cpu');
    lines.push(`| ${s} | ${ms(nf)} | ${ms(n2)} | ${ms(ml)} | ${(nf / ml).toFixed(2)} | ${ms(mc)} | ${ms(mf)} | ${(mc / mf).toFixed(2)} |`);
  }
  lines.push(
    '',
    '- *stock*: `tf.valueAndGrad(q => tf.losses.softmaxCrossEntropy(oneHot, q))`; *mixloss*: `tf.valueAndGrad(q => mixedLoss(q, ids))`',
    '  (α = β = 1; CE alone costs the same). Both backends run kernels synchronously, so the gradient is',
    '  complete when the call returns; neither side reads it back (on wasm that copy alone is ~12 ms at 128 × 32768).',
    '- *native fused value+grad*: the training path (`forwardBackward`: statistics, loss and gradient in one pass over',
    '  the logits, one `exp` per element) called on Float32Arrays with no tfjs, writing into a reused gradient array.',
    '  *native fwd, then bwd*: the two separate passes (inference forward, then a backward from saved statistics).',
    '- *3-pass memory loop*: read the row for a max, read it for a sum, read it and write an output of the same size,',
    '  with the same threads and no `exp` — the memory traffic of a non-fused softmax gradient, and a floor for ours.',
    '- A tfjs op must return a new tensor, so the tfjs rows pay for first-touching a fresh gradient array; they are',
    '  compared with the loop writing a fresh array too (both ask Linux for transparent huge pages on it).',
    '- On wasm the kernels read and write the backend\'s WebAssembly heap directly (zero-copy), and run on the',
    '  addon\'s threads; stock wasm is single-threaded in Node.',
    '',
  );
  const file = path.join(packageRoot(), 'docs', 'benchmarks.md');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n'));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
