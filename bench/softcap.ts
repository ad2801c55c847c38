// `mixloss bench softcap`: the training step of crossEntropy on the cpu backend (tf.grad, the
// gradient disposed) without softcap, with softcap fused into the kernels, and with the cap as
// stock tfjs ops before the op (how softcap ran before it was fused), interleaved in one process.
import * as os from 'os';
import { median } from './median';

export interface SoftcapOptions {
  shapes: Array<[number, number]>;
  rounds: number;
  reps: number;
  cap: number;
}

/** Rounds of the stock-op cap at most (each takes 0.1–1 s per call at the large shapes). */
const STOCK_ROUNDS = 7;

export async function softcapBench(opts: SoftcapOptions, onRow?: (line: string) => void): Promise<string> {
  require('@tensorflow/tfjs-backend-cpu');
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  await tf.setBackend('cpu');
  const { crossEntropy } = await import('../src');
  const { softcapLogits } = await import('../src/losses/softcap');
  const lines = [
    `crossEntropy's training step on the cpu backend (tf.grad, gradient disposed), logits N(0, 3²), softcap ${opts.cap}. CE and fused softcap: after 200`,
    `warm-up calls of each, median of ${opts.rounds} rounds of ${opts.reps} calls, alternating in both orders; the stock-op cap after them, median of`,
    `${Math.min(opts.rounds, STOCK_ROUNDS)} rounds. ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    '',
    '| B × C | CE ms | CE + softcap, fused ms | × CE | CE + softcap as stock ops before the op ms | × CE |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const [rows, classes] of opts.shapes) {
    const q = tf.randomNormal([rows, classes], 0, 3, 'float32', 1);
    const y = tf.tensor1d(
      Int32Array.from({ length: rows }, (_, r) => (r * 7919) % classes),
      'int32',
    );
    type T = import('@tensorflow/tfjs-core').Tensor;
    const steps = {
      plain: tf.grad((x: T) => crossEntropy(x, y)),
      fused: tf.grad((x: T) => crossEntropy(x, y, { softcap: opts.cap })),
      stock: tf.grad((x: T) => crossEntropy(softcapLogits(x, opts.cap), y)),
    };
    const times = { plain: [] as number[], fused: [] as number[], stock: [] as number[] };
    const run = (n: keyof typeof steps) => {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < opts.reps; k++) steps[n](q).dispose();
      times[n].push(Number(process.hrtime.bigint() - t0) / 1e6 / opts.reps);
    };
    // CE and fused softcap alternate, in both orders; the stock cap (100× slower, and its [B, C]
    // temporaries disturb whatever runs next) is timed after them, in fewer rounds.
    for (let i = 0; i < 200; i++) for (const n of ['plain', 'fused'] as const) steps[n](q).dispose();
    for (let round = 0; round < opts.rounds; round++)
      for (const n of round % 2 ? (['fused', 'plain'] as const) : (['plain', 'fused'] as const)) run(n);
    for (let i = 0; i < 3; i++) steps.stock(q).dispose();
    for (let round = 0; round < Math.min(opts.rounds, STOCK_ROUNDS); round++) run('stock');
    const [plain, fused, stock] = (['plain', 'fused', 'stock'] as const).map((n) => median(times[n]));
    const line = `| ${rows} × ${classes} | ${plain.toFixed(3)} | ${fused.toFixed(3)} | ${(fused / plain).toFixed(2)} | ${stock.toFixed(3)} | ${(stock / plain).toFixed(2)} |`;
    onRow?.(line);
    lines.push(line);
    tf.dispose([q, y]);
  }
  return lines.join('\n');
}
