// `mixloss bench cpu-op`: the tfjs op's training step on the cpu backend (tf.grad of
// crossEntropy, the gradient tensor disposed as an optimizer does) against the native kernel it
// runs, writing into one reused array, measured in the same process with interleaved rounds.
// Each (shape, condition, gradient memory) runs in a fresh child process; 'fragmented' first
// runs stock tfjs losses and keeps a few hundred MB of mixed-size arrays alive, as a process
// that has done other work has.
import { execFileSync } from 'child_process';
import * as os from 'os';
import { median } from './median';
import { lcg } from './random';

export interface CpuOpOptions {
  shapes: Array<[number, number]>;
  rounds: number;
  reps: number;
}

interface ChildResult {
  kernelMs: number;
  opMs: number;
}

function fragmentHeap(tf: typeof import('@tensorflow/tfjs-core')): unknown[] {
  const random = lcg(99);
  const kept: unknown[] = [];
  for (let i = 0; i < 20; i++) {
    tf.tidy(() => {
      const q = tf.randomNormal([64, 2000 + i * 500]);
      const y = tf.oneHot(tf.randomUniform([64], 0, 2000, 'int32'), 2000 + i * 500);
      tf.grad((x: import('@tensorflow/tfjs-core').Tensor) => tf.losses.softmaxCrossEntropy(y, x))(q).dataSync();
    });
    for (let k = 0; k < 40; k++) {
      const a = new Float32Array(Math.floor(1000 + random() * 2_000_000));
      a[a.length - 1] = 1;
      if (random() < 0.3) kept.push(a);
    }
  }
  return kept;
}

/** One child: the kernel and the op at one shape, rounds interleaved. */
async function child(
  rows: number,
  classes: number,
  fragmented: boolean,
  reuse: boolean,
  rounds: number,
  reps: number,
): Promise<ChildResult> {
  require('@tensorflow/tfjs-backend-cpu');
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  await tf.setBackend('cpu');
  const { crossEntropy, configureGradientPool } = await import('../src');
  const { native } = await import('../src/native');
  const kept = fragmented ? fragmentHeap(tf) : [];
  if (!reuse) configureGradientPool({ maxBytes: 0 });
  const q = tf.randomNormal([rows, classes], 0, 3, 'float32', 1);
  const ids = Int32Array.from({ length: rows }, (_, r) => (r * 7919) % classes);
  const y = tf.tensor1d(ids, 'int32');
  const gradOf = tf.grad((x: import('@tensorflow/tfjs-core').Tensor) => crossEntropy(x, y));
  const logits = q.dataSync() as Float32Array;
  const addon = native();
  const stats = new Float32Array(rows * addon.info().statsPerRow),
    rowLoss = new Float32Array(rows),
    grad = new Float32Array(rows * classes);
  const kernel = () => {
    addon.forwardBackward({
      logits,
      rows,
      classes,
      labels: ids,
      dense: false,
      loss: { kind: 'mixed', alpha: 1, beta: 0 },
      stats,
      rowLoss,
      gradScale: 1 / rows,
      grad,
    });
  };
  const op = () => gradOf(q).dispose();
  // Steady state, as a training loop reaches it: V8 optimizes the op's JavaScript (tfjs's and
  // mixloss's) after a few hundred calls; measured before that, the op's time is mostly the
  // interpreter's.
  for (let i = 0; i < 3000; i++) {
    kernel();
    op();
  }
  const times = { kernel: [] as number[], op: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of [
      ['kernel', kernel],
      ['op', op],
    ] as const) {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < reps; k++) run();
      times[name].push(Number(process.hrtime.bigint() - t0) / 1e6 / reps);
    }
  }
  if (kept.length < 0) console.log(kept); // keeps the fragmenting arrays alive to the end
  return { kernelMs: median(times.kernel), opMs: median(times.op) };
}

/** One fresh child process for one cell; `addon` loads that build (MIXLOSS_ADDON) instead of this one. */
function runChild(
  cell: { rows: number; classes: number; fragmented: boolean; reuse: boolean },
  opts: CpuOpOptions,
  addon?: string,
): ChildResult {
  const out = execFileSync(process.execPath, [__filename, '--child', JSON.stringify({ ...cell, rounds: opts.rounds, reps: opts.reps })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: addon === undefined ? process.env : { ...process.env, MIXLOSS_ADDON: addon },
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as ChildResult;
}

export function cpuOp(opts: CpuOpOptions, onRow?: (line: string) => void): string {
  const lines = [
    `The cpu-backend op's training step (tf.grad of crossEntropy, gradient disposed) against the native kernel writing into a`,
    `reused array, same process, after 300 warm-up calls of each, median of ${opts.rounds} interleaved rounds of ${opts.reps} calls;`,
    `each cell a fresh process.`,
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    '',
    '| B × C | process | kernel ms | op ms (reused gradient memory) | op / kernel | op ms (fresh array per step) | op / kernel |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const [rows, classes] of opts.shapes) {
    for (const fragmented of [false, true]) {
      const results = [true, false].map((reuse) => runChild({ rows, classes, fragmented, reuse }, opts));
      const [pooled, fresh] = results;
      const line =
        `| ${rows} × ${classes} | ${fragmented ? 'fragmented' : 'fresh'} | ${pooled.kernelMs.toFixed(2)} | ${pooled.opMs.toFixed(2)} | ` +
        `${(pooled.opMs / pooled.kernelMs).toFixed(2)}× | ${fresh.opMs.toFixed(2)} | ${(fresh.opMs / fresh.kernelMs).toFixed(2)}× |`;
      onRow?.(line);
      lines.push(line);
    }
  }
  return lines.join('\n');
}

/**
 * This addon beside a baseline build: per shape, `processes` fresh processes of each (a fresh
 * heap, gradient memory reused), the two alternating; medians over the processes. A process's
 * own state (where its pages and threads land) moves the op's time by more than a small change
 * does, so one process of each decides nothing.
 */
export function cpuOpBeside(opts: CpuOpOptions & { baseline: string; processes: number }, onRow?: (line: string) => void): string {
  const lines = [
    `The cpu-backend op's training step (tf.grad of crossEntropy, gradient disposed, its memory reused) and the native kernel`,
    `it runs, this addon beside ${opts.baseline}: ${opts.processes} fresh processes of each, alternating; in each, the median of`,
    `${opts.rounds} interleaved rounds of ${opts.reps} calls after 3000 warm-up calls; the table gives the medians over the processes.`,
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    '',
    '| B × C | kernel ms | op ms | op / kernel | baseline kernel ms | baseline op ms | baseline op / kernel | op, this / baseline |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [rows, classes] of opts.shapes) {
    const runs = { current: [] as ChildResult[], baseline: [] as ChildResult[] };
    for (let p = 0; p < opts.processes; p++) {
      const cell = { rows, classes, fragmented: false, reuse: true };
      runs.current.push(runChild(cell, opts));
      runs.baseline.push(runChild(cell, opts, opts.baseline));
    }
    const [k, o, bk, bo] = [runs.current, runs.baseline].flatMap((r) => [median(r.map((x) => x.kernelMs)), median(r.map((x) => x.opMs))]);
    const line =
      `| ${rows} × ${classes} | ${k.toFixed(3)} | ${o.toFixed(3)} | ${(o / k).toFixed(2)}× | ${bk.toFixed(3)} | ${bo.toFixed(3)} | ` +
      `${(bo / bk).toFixed(2)}× | ${(o / bo).toFixed(2)} |`;
    onRow?.(line);
    lines.push(line);
  }
  return lines.join('\n');
}

if (require.main === module && process.argv[2] === '--child') {
  const a = JSON.parse(process.argv[3]);
  child(a.rows, a.classes, a.fragmented, a.reuse, a.rounds, a.reps).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
