// `mixloss bench small-ops`: what a training step of a mixloss loss costs the rest of the
// program. On the cpu backend the gradient memory is reused across steps, and to know when a
// gradient's memory is still reachable, mixloss watches the backend's writes from its first
// training step on; every tensor the program makes then passes that watch. This times a mix of
// small tfjs ops (the scalars and short vectors an optimizer's update makes) before the first
// training step and after it, in one process (the watch cannot be taken off again).
import * as os from 'os';
import { median } from './median';

export interface SmallOpsOptions {
  rounds: number;
  reps: number;
}

export async function smallOpsBench(opts: SmallOpsOptions): Promise<string> {
  require('@tensorflow/tfjs-backend-cpu');
  const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  await tf.setBackend('cpu');
  const { crossEntropy } = await import('../src');
  const mix = () =>
    tf.tidy(() => {
      const s = tf.scalar(0.9);
      const v = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
      return tf.add(tf.mul(v, s), tf.sub(tf.scalar(1), s));
    });
  const time = () => {
    const samples: number[] = [];
    for (let i = 0; i < opts.reps; i++) mix().dispose();
    for (let round = 0; round < opts.rounds; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < opts.reps; i++) mix().dispose();
      samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / opts.reps);
    }
    return median(samples);
  };
  const before = time();
  const q = tf.randomNormal([32, 10], 0, 1, 'float32', 1);
  const y = tf.tensor1d(
    Int32Array.from({ length: 32 }, (_, r) => r % 10),
    'int32',
  );
  tf.grad((x: import('@tensorflow/tfjs-core').Tensor) => crossEntropy(x, y))(q).dispose();
  tf.dispose([q, y]);
  const after = time();
  return [
    `A mix of small tfjs ops on the cpu backend (two scalars, an 8-vector, mul, sub, add, in a tidy): µs per mix, median of`,
    `${opts.rounds} rounds of ${opts.reps}, before any mixloss training step and after one, in one process.`,
    `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}.`,
    '',
    '| before µs | after µs | after / before |',
    '|---:|---:|---:|',
    `| ${before.toFixed(2)} | ${after.toFixed(2)} | ${(after / before).toFixed(2)} |`,
  ].join('\n');
}
