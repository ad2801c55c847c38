// `mixloss bench head`: one training step of a classifier head (loss of hidden · kernel + bias,
// gradients with respect to all three) at large class counts: the fused head beside tf.matMul +
// mixloss's crossEntropy, stock tf.losses.softmaxCrossEntropy on the cpu and wasm backends,
// PyTorch CPU eager (F.linear + F.cross_entropy, same threads) and the GEMM floor (the step's
// three products alone on the head's tiles). Each cell runs in a fresh child process, which also
// gives its peak memory above the inputs (VmHWM).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { median } from './median';

export interface HeadBenchOptions {
  shapes: Array<[number, number, number]>;
  reps: number;
  /** Run the unfused tfjs heads at every shape (default: the first only; tfjs's matMul runs at < 2 GFLOP/s here). */
  stockEverywhere: boolean;
  /** Write the SVG chart here. */
  svg?: string;
}

type Method = 'fused' | 'fused-wasm' | 'kernel' | 'matmul-op' | 'matmul-op-wasm' | 'stock-cpu' | 'stock-wasm' | 'floor';

const LABELS: Record<Method | 'torch', string> = {
  fused: 'mixloss linearCrossEntropy (cpu backend)',
  'fused-wasm': 'mixloss linearCrossEntropy (wasm backend)',
  kernel: "the head's native kernels alone (forward + backward into reused arrays)",
  'matmul-op': 'tf.matMul + mixloss crossEntropy (cpu backend)',
  'matmul-op-wasm': 'tf.matMul + mixloss crossEntropy (wasm backend)',
  'stock-cpu': 'stock tf.losses.softmaxCrossEntropy (cpu backend)',
  'stock-wasm': 'stock tf.losses.softmaxCrossEntropy (wasm backend)',
  torch: 'PyTorch CPU eager (F.linear + F.cross_entropy)',
  floor: 'GEMM floor: the three products alone (Eigen, same tiles and threads)',
};

interface Cell {
  ms: number;
  peakMB: number;
  note?: string;
}

function statusMB(field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * What the process holds now, with its peak reset to it (Linux: 5 into clear_refs), so that the
 * peak measured later does not include what making the inputs took on the way.
 */
function resetPeakMB(): number {
  fs.writeFileSync('/proc/self/clear_refs', '5');
  return statusMB('VmRSS');
}

/** One cell in this (child) process. */
async function child(method: Method, N: number, D: number, C: number, reps: number): Promise<Cell> {
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = method.endsWith('wasm');
  if (wasm) require('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(wasm ? 'wasm' : 'cpu');
  await tf.ready();
  const { linearCrossEntropy, crossEntropy } = await import('../src');
  const { native } = await import('../src/native');
  const seeded = (n: number, scale: number, seed: number) => tf.randomUniform([n], -scale, scale, 'float32', seed);
  const h = tf.reshape(seeded(N * D, 1, 1), [N, D]);
  const w = tf.reshape(seeded(D * C, 0.05, 2), [D, C]);
  const b = seeded(C, 0.05, 3);
  const y = tf.randomUniform([N], 0, C, 'int32', 4);
  let step: () => void;
  if (method === 'kernel') {
    const call = {
      hidden: h.dataSync() as Float32Array,
      kernel: w.dataSync() as Float32Array,
      bias: b.dataSync() as Float32Array,
      rows: N,
      dims: D,
      classes: C,
      labels: y.dataSync() as Int32Array,
      loss: { kind: 'mixed', alpha: 1, beta: 0 },
    };
    const stats = new Float32Array(N * native().info().statsPerRow),
      rowLoss = new Float32Array(N);
    const gradHidden = new Float32Array(N * D),
      gradKernel = new Float32Array(D * C),
      gradBias = new Float32Array(C),
      dy = new Float32Array([1]);
    step = () => {
      native().headForward({ ...call, stats, rowLoss });
      native().headBackward({ ...call, stats, dy, dyScale: 1 / N, gradHidden, gradKernel, gradBias });
    };
  } else if (method === 'floor') {
    const hidden = h.dataSync() as Float32Array,
      kernel = w.dataSync() as Float32Array;
    const gradHidden = new Float32Array(N * D),
      gradKernel = new Float32Array(D * C);
    step = () => native().headGemmFloor({ hidden, kernel, rows: N, dims: D, classes: C, gradHidden, gradKernel });
  } else {
    const loss = (
      hh: import('@tensorflow/tfjs-core').Tensor,
      ww: import('@tensorflow/tfjs-core').Tensor,
      bb: import('@tensorflow/tfjs-core').Tensor,
    ) => {
      if (method === 'fused' || method === 'fused-wasm') return linearCrossEntropy(hh, ww, y, { bias: bb });
      const logits = tf.add(tf.matMul(hh, ww), bb);
      if (method.startsWith('matmul-op')) return crossEntropy(logits, y);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, C), logits) as import('@tensorflow/tfjs-core').Scalar;
    };
    const grads = tf.grads(loss as never);
    step = () => {
      // Disposed unread, as an optimizer's update leaves them (the cpu and wasm kernels are synchronous).
      tf.dispose(grads([h, w, b]));
    };
  }
  const base = resetPeakMB();
  step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: median(times), peakMB: statusMB('VmHWM') - base };
}

function runChild(method: Method, N: number, D: number, C: number, reps: number): Cell {
  try {
    const out = execFileSync(
      process.execPath,
      ['--max-old-space-size=16384', __filename, '--child', JSON.stringify({ method, N, D, C, reps })],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 1 << 24,
      },
    );
    return JSON.parse(out.trim().split('\n').pop() as string) as Cell;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? err.message).split('\n').find((l) => /Error|memory|Abort/i.test(l)) ?? 'failed';
    return { ms: NaN, peakMB: NaN, note: why.trim().slice(0, 120) };
  }
}

function torchCell(N: number, D: number, C: number, reps: number, threads: number): Cell & { version?: string } {
  const script = path.join(__dirname, '..', '..', 'bench', 'head_torch.py');
  // MIXLOSS_PYTHON, else python3 on the PATH, else Debian's (python3-torch installs there; a pyenv
  // python3 earlier on the PATH does not see it).
  const pythons = process.env.MIXLOSS_PYTHON ? [process.env.MIXLOSS_PYTHON] : ['python3', '/usr/bin/python3'];
  let r = spawnSync(pythons[0], [script, String(N), String(D), String(C), String(threads), String(reps)], { encoding: 'utf8' });
  for (const python of pythons.slice(1)) {
    if (r.status === 0) break;
    r = spawnSync(python, [script, String(N), String(D), String(C), String(threads), String(reps)], { encoding: 'utf8' });
  }
  if (r.status !== 0) {
    const why = /No module named 'torch'/.test(r.stderr ?? '')
      ? 'PyTorch not installed (apt-get install python3-torch)'
      : (r.stderr ?? '').trim().split('\n').pop();
    return { ms: NaN, peakMB: NaN, note: why ?? 'python3 not found' };
  }
  const o = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; peakMB: number; torch: string };
  return { ms: o.ms, peakMB: o.peakMB, version: o.torch };
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

export async function headBench(o: HeadBenchOptions, onLine: (line: string) => void = () => undefined): Promise<string> {
  const { nativeInfo, getNumThreads } = await import('../src');
  const threads = getNumThreads();
  const info = nativeInfo();
  const isa = (await import('../src/native')).native().headLayout().isa;
  let torchVersion = 'not installed';
  const lines = [
    `One training step of a classifier head, loss(hidden · kernel + bias) and its gradients with respect to all three`,
    `(tf.grads; gradients disposed), median of ${o.reps} after one warm-up, each cell a fresh process.`,
    `Effective GFLOP/s: the step's 6·N·D·C over its time (the fused head computes 8·N·D·C: it recomputes the logits).`,
    `Peak MB: the process's peak resident memory (VmHWM, reset after the inputs were made) above what it held then.`,
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; mixloss threads ${threads}, head GEMM ${isa}, row loops ${info.simd}.`,
    '',
  ];
  const results: Array<{ shape: string; method: string; gflops: number }> = [];
  for (const [index, [N, D, C]] of o.shapes.entries()) {
    const flops = 6 * N * D * C;
    const logitsMB = (N * C * 4) / 2 ** 20;
    const cells: Array<[string, Cell]> = [];
    const methods: Method[] = ['fused', 'fused-wasm', 'kernel', 'floor'];
    // tfjs's matMul runs at 0.6–1.5 GFLOP/s here: a step of the unfused heads takes 10–20 s at
    // the first shape and minutes past it, so they run at the first shape unless asked.
    if (index === 0 || o.stockEverywhere) methods.push('matmul-op-wasm', 'stock-wasm', 'matmul-op', 'stock-cpu');
    for (const m of methods) {
      const reps = m === 'fused' || m === 'fused-wasm' || m === 'kernel' || m === 'floor' ? o.reps : 1;
      const cell = runChild(m, N, D, C, reps);
      onLine(`${N}×${D}×${C} ${LABELS[m]}: ${fmt(cell.ms)} ms${cell.note ? ` (${cell.note})` : ''}`);
      cells.push([LABELS[m], cell]);
    }
    const torch = torchCell(N, D, C, o.reps, threads);
    if (torch.version) torchVersion = torch.version;
    onLine(`${N}×${D}×${C} ${LABELS.torch}: ${fmt(torch.ms)} ms${torch.note ? ` (${torch.note})` : ''}`);
    cells.push([LABELS.torch, torch]);
    const fused = cells[0][1].ms;
    lines.push(
      `**N = ${N}, D = ${D}, C = ${C}** (logits ${fmt(logitsMB, 0)} MB, the kernel's gradient ${fmt((D * C * 4) / 2 ** 20, 0)} MB)`,
      '',
      '| step | ms | effective GFLOP/s | time / fused | peak MB above inputs |',
      '|---|---:|---:|---:|---:|',
    );
    for (const [label, cell] of cells) {
      const gflops = flops / cell.ms / 1e6;
      results.push({ shape: `${N}×${D}×${C}`, method: label, gflops });
      lines.push(
        `| ${label} | ${cell.note ? `– (${cell.note})` : fmt(cell.ms, cell.ms >= 100 ? 0 : 1)} | ${fmt(gflops)} | ${fmt(cell.ms / fused, 2)}× | ${fmt(cell.peakMB, 0)} |`,
      );
    }
    lines.push('');
  }
  lines.push(`PyTorch ${torchVersion}, torch.set_num_threads(${threads}).`);
  if (o.svg !== undefined) fs.writeFileSync(o.svg, await headChart(results));
  return lines.join('\n');
}

/** Effective GFLOP/s per step and shape (Vega-Lite, rendered to SVG in Node). */
export async function headChart(values: Array<{ shape: string; method: string; gflops: number }>): Promise<string> {
  const { requireOptional } = await import('../src/optional');
  const need = (name: string) =>
    requireOptional<never>(name, 'mixloss bench head: the SVG chart', 'npm install --no-save vega@5 vega-lite@5, or leave out --svg');
  const vega = need('vega') as typeof import('vega');
  const vegaLite = need('vega-lite') as typeof import('vega-lite');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'Classifier head, one training step: effective GFLOP/s (6·N·D·C / time)',
      subtitle: `${os.cpus()[0]?.model ?? ''}, ${os.cpus().length} cores`,
    },
    data: { values: values.filter((v) => Number.isFinite(v.gflops)) },
    // A dot per step and shape on a log axis (bars have no baseline on a log scale).
    mark: { type: 'point', filled: true, size: 90 },
    width: 420,
    encoding: {
      y: { field: 'method', type: 'nominal', sort: null, title: null, axis: { labelLimit: 420 } },
      x: { field: 'gflops', type: 'quantitative', scale: { type: 'log' }, title: 'effective GFLOP/s (log scale)' },
      color: { field: 'shape', type: 'nominal', title: 'N × D × C', sort: null },
      shape: { field: 'shape', type: 'nominal', sort: null },
      tooltip: [{ field: 'shape' }, { field: 'method' }, { field: 'gflops', format: '.1f' }],
    },
    config: { font: 'sans-serif', padding: 12 },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}

if (require.main === module && process.argv[2] === '--child') {
  const a = JSON.parse(process.argv[3]);
  child(a.method, a.N, a.D, a.C, a.reps).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
