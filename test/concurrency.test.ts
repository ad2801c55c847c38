// Issue 12, item 5: worker_threads calling the losses at once give the results of serial calls;
// setNumThreads changed while kernels run; a worker terminated while another thread is inside a
// kernel. (The addon is context-aware, as every Node-API addon: each worker loads it.) The jobs
// include the Rényi information op (issue 9).
import * as path from 'path';
import { Worker } from 'worker_threads';

import { afterAll, describe, expect, it } from 'vitest';

import { getNumThreads, setNumThreads } from '../src';
import { native } from '../src/native';

const root = path.join(__dirname, '..');
const threadsBefore = getNumThreads();
afterAll(() => {
  setNumThreads(threadsBefore);
});

// A worker: the public API on the cpu backend; loss and gradient of its job, or a loop of them.
const WORKER = `
  const { parentPort, workerData } = require('worker_threads');
  require(${JSON.stringify(require.resolve('@tensorflow/tfjs-backend-cpu'))});
  const tf = require(${JSON.stringify(require.resolve('@tensorflow/tfjs-core'))});
  const m = require(${JSON.stringify(path.join(root, 'dist', 'src', 'index.js'))});
  const run = (job) => tf.tidy(() => {
    let s = job.seed >>> 0;
    const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const q = tf.tensor2d(Float32Array.from({ length: job.rows * job.classes }, () => next() * 8 - 4), [job.rows, job.classes]);
    const y = tf.tensor1d(Int32Array.from({ length: job.rows }, () => Math.floor(next() * job.classes)), 'int32');
    // The information op takes (labels, layer): the softmax of the job's logits.
    const op = job.op === 'renyiMutualInformation' ? (x, ids) => m.renyiMutualInformation(ids, tf.softmax(x), { width: 0.5 }) : m[job.op];
    const { value, grads } = tf.valueAndGrads((x) => op(x, y))([q]);
    return { value: value.dataSync()[0], grad: Array.from(grads[0].dataSync()) };
  });
  tf.setBackend('cpu').then(() => {
    if (workerData.loop) { for (;;) run(workerData.jobs[0]); }
    // With a stop flag: the jobs again and again until the flag is set, then the last results.
    const stop = workerData.stop ? new Int32Array(workerData.stop) : undefined;
    let results;
    do results = workerData.jobs.map(run);
    while (stop && Atomics.load(stop, 0) === 0);
    parentPort.postMessage(results);
  });`;

const JOBS = [
  { op: 'crossEntropy', rows: 64, classes: 20_000, seed: 1 },
  { op: 'mixedLoss', rows: 3, classes: 200_000, seed: 2 }, // few long rows: slices across threads
  { op: 'focalLoss', rows: 256, classes: 1000, seed: 3 },
  { op: 'mpceLoss', rows: 2, classes: 150_000, seed: 4 },
  { op: 'renyiMutualInformation', rows: 300, classes: 10, seed: 5 }, // Eigen, and the gradient across the pool
];

function inWorker(
  jobs: typeof JOBS,
  loop = false,
  stop?: SharedArrayBuffer,
): { worker: Worker; done: Promise<Array<{ value: number; grad: number[] }>> } {
  const worker = new Worker(WORKER, { eval: true, workerData: { jobs, loop, stop } });
  const done = new Promise<Array<{ value: number; grad: number[] }>>((resolve, reject) => {
    worker.once('message', (v) => {
      resolve(v);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited (code ${code}) before its result`)));
  });
  return { worker, done };
}

/** The first index where two gradients differ in any bit, or −1 (a deep-equal diff of millions of entries would not finish). */
function firstDifference(a: number[], b: number[]): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** The largest difference, relative to the largest entry of b. */
function largestDifference(a: number[], b: number[]): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return a.length === b.length ? diff / scale : Infinity;
}

describe('worker_threads', () => {
  it('four workers at once, each running every job: the same bits as one worker alone', async () => {
    const serial = await inWorker(JOBS).done;
    const parallel = await Promise.all([0, 1, 2, 3].map((k) => inWorker([...JOBS.slice(k), ...JOBS.slice(0, k)]).done));
    parallel.forEach((results, k) => {
      const order = [...JOBS.slice(k), ...JOBS.slice(0, k)].map((j) => JOBS.indexOf(j));
      results.forEach((r, i) => {
        expect(r.value).toBe(serial[order[i]].value);
        expect(firstDifference(r.grad, serial[order[i]].grad)).toBe(-1);
      });
    });
  }, 180_000);

  it('setNumThreads changed while workers are inside kernels: results unchanged', async () => {
    const serial = await inWorker(JOBS).done;
    // The workers repeat their jobs until told to stop, so the resizes below meet kernels in
    // flight however the machine schedules them (a single pass could end before the first).
    const stop = new SharedArrayBuffer(4);
    const running = [0, 1].map(() => inWorker(JOBS, false, stop));
    // Resizes while the workers' kernels run: the addon counts the kernel calls in flight (over
    // every worker), so the overlap is checked, not assumed from a sleep.
    let overlapped = 0;
    for (let k = 0, deadline = Date.now() + 120_000; overlapped < 20 && Date.now() < deadline; k++) {
      const busy = native().kernelActivity().inFlight > 0;
      setNumThreads((k % 4) + 1);
      if (busy && native().kernelActivity().inFlight > 0) overlapped++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    Atomics.store(new Int32Array(stop), 0, 1);
    expect(overlapped).toBeGreaterThan(0);
    // The thread count decides how long rows are cut into slices, so the float sums may round
    // differently from the serial run's: equal to float precision, not bit for bit.
    for (const r of running) {
      const results = await r.done;
      results.forEach((got, i) => {
        expect(Math.abs(got.value - serial[i].value)).toBeLessThanOrEqual(1e-6 * Math.abs(serial[i].value));
        expect(largestDifference(got.grad, serial[i].grad)).toBeLessThan(1e-5);
      });
    }
  }, 180_000);

  it('a worker terminated while another thread is inside a kernel: the others go on', async () => {
    const looping = inWorker([JOBS[1]], true);
    looping.done.catch(() => undefined); // it never answers: it is terminated
    // Inside its loop of kernels: wait until the addon counts a kernel call in flight.
    const started = native().kernelActivity().started;
    for (let i = 0; i < 6000 && native().kernelActivity().started < started + 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(native().kernelActivity().started).toBeGreaterThanOrEqual(started + 3);
    const other = inWorker([JOBS[0]]);
    await looping.worker.terminate();
    const [result] = await other.done;
    const [again] = await inWorker([JOBS[0]]).done;
    expect(result.value).toBe(again.value);
    expect(Number.isFinite(result.value)).toBe(true);
  }, 180_000);
});
