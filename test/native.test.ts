// The addon itself: 64-bit indexing past 2^31 elements, the thread pool across
// worker_threads, and argument checks at the N-API boundary.
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import { describe, expect, it } from 'vitest';

import { STATS_PER_ROW } from '../src/kernels/attrs';
import { native, nativeInfo } from '../src/native';

const addon = native();
const STATS = nativeInfo().statsPerRow;

describe('native addon', () => {
  it('reports how it runs, with the row-statistics layout the kernels in TypeScript assume', () => {
    const info = nativeInfo();
    expect(info.statsPerRow).toBe(STATS_PER_ROW);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(['avx2', 'baseline']).toContain(info.simd);
  });

  it('rejects mismatched buffers with an error, never a crash', () => {
    const q = new Float32Array(6), st = new Float32Array(2 * STATS), rl = new Float32Array(2);
    expect(() => addon.forward(q, 2, 4, new Int32Array(2), false, 0, 1, 1, 0, st, rl)).toThrow(/logits has 6 elements, expected 8/);
    expect(() => addon.forward(q, 2, 3, new Int32Array(3), false, 0, 1, 1, 0, st, rl)).toThrow(/labels has 3 elements, expected 2/);
    expect(() => addon.forward(q, 2, 3, new Int32Array(2), false, 9, 1, 1, 0, st, rl)).toThrow(/unknown loss kind/);
    expect(() => addon.forward(q, 2, 3, new Int32Array(2), false, 0, 1, 1, 0, new Float32Array(1), rl)).toThrow(/stats has 1 elements/);
    expect(() => addon.forward(q, 0, 3, new Int32Array(0), false, 0, 1, 1, 0, st, rl)).toThrow(/rows must be a positive integer/);
    expect(() => addon.forward(q, 2, 3, new Uint8Array(2) as never, false, 0, 1, 1, 0, st, rl)).toThrow(/labels must be an Int32Array or a Float32Array/);
    expect(() => addon.backward(q, 2, 3, new Int32Array(2), false, 0, 1, 1, 0, st, new Float32Array(3), 1, new Float32Array(6))).toThrow(/dy must have 1 or rows elements/);
    expect(() => addon.setThreads(0)).toThrow(/threads must be a positive integer/);
  });

  it('gives the same results on 1 thread and on many (rows split across threads)', () => {
    const B = 3, C = 300_000;
    const q = new Float32Array(B * C).map((_, i) => Math.sin(i * 0.37) * 5);
    const y = new Int32Array([0, 123_456, C - 1]);
    const run = () => {
      const st = new Float32Array(B * STATS), rl = new Float32Array(B), g = new Float32Array(B * C);
      const total = addon.forward(q, B, C, y, false, 0, 1, 2, 0, st, rl);
      addon.backward(q, B, C, y, false, 0, 1, 2, 0, st, new Float32Array([1]), 1, g);
      return { total, rl, g };
    };
    const threads = addon.getThreads();
    addon.setThreads(1);
    const one = run();
    addon.setThreads(Math.max(4, threads));
    const many = run();
    addon.setThreads(threads);
    for (let r = 0; r < B; r++) expect(Math.abs(many.rl[r] - one.rl[r]) / one.rl[r]).toBeLessThan(1e-6);
    let worst = 0;
    for (let i = 0; i < one.g.length; i++) worst = Math.max(worst, Math.abs(many.g[i] - one.g[i]));
    expect(worst).toBeLessThan(1e-9);
  });

  it('survives worker_threads that load it, use the pool, and exit', async () => {
    const addonPath = path.join(__dirname, '..', 'build', 'Release', 'mixloss.node');
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const a = require(workerData);
      const B = 64, C = 50000, q = new Float32Array(B * C).fill(0.5), y = new Int32Array(B);
      const st = new Float32Array(B * ${STATS}), rl = new Float32Array(B), g = new Float32Array(B * C);
      const total = a.forward(q, B, C, y, false, 0, 1, 0, 0, st, rl);
      a.backward(q, B, C, y, false, 0, 1, 0, 0, st, new Float32Array([1]), 1, g);
      parentPort.postMessage(total / B);`;
    for (let i = 0; i < 3; i++) {
      const mean = await new Promise<number>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: addonPath });
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(mean).toBeCloseTo(Math.log(50000), 4);
      // The main thread keeps using the pool after each worker is gone.
      const st = new Float32Array(4 * STATS), rl = new Float32Array(4);
      expect(addon.forward(new Float32Array(4 * 100000), 4, 100000, new Int32Array(4), false, 0, 1, 0, 0, st, rl) / 4).toBeCloseTo(Math.log(100000), 4);
    }
  });

  const bigEnough = os.totalmem() >= 20 * 2 ** 30;
  it.skipIf(!bigEnough)('indexes past 2^31 elements (2049 × 2^20 logits, 8 GiB + gradient 8 GiB)', () => {
    const B = 2049, C = 2 ** 20;
    const q = new Float32Array(B * C);  // all zeros but a marker in the row that starts at 2^31
    const last = (B - 1) * C;
    expect(last).toBe(2 ** 31);
    q[last + 7] = 5;
    q[last + C - 1] = -3;
    const y = new Int32Array(B);
    y[B - 1] = 7;
    const st = new Float32Array(B * STATS), rl = new Float32Array(B);
    addon.forward(q, B, C, y, false, 0, 1, 0, 0, st, rl);
    const lse = Math.log(C - 2 + Math.exp(5) + Math.exp(-3));
    expect(rl[0]).toBeCloseTo(Math.log(C), 4);
    expect(rl[B - 1]).toBeCloseTo(lse - 5, 4);
    let g: Float32Array | undefined = new Float32Array(B * C);
    addon.backward(q, B, C, y, false, 0, 1, 0, 0, st, new Float32Array([1]), 1, g);
    expect(g[last + 7]).toBeCloseTo(Math.exp(5 - lse) - 1, 6);
    expect(g[last + 8]).toBeCloseTo(Math.exp(-lse), 9);
    expect(g[last + C - 1]).toBeCloseTo(Math.exp(-3 - lse), 9);
    expect(g[0]).toBeCloseTo(1 / C - 1, 6);
    g = undefined;
  });
});
