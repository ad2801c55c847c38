// The addon itself: 64-bit indexing past 2^31 elements, the thread pool across
// worker_threads, and argument checks at the N-API boundary.
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import { describe, expect, it } from 'vitest';

import type { LossSpec } from '../src/kernels/attrs';
import { statsLayout } from '../src/kernels/registry';
import { getNumThreads, native, nativeInfo, setNumThreads } from '../src/native';
import { QUICK } from './support/tf';

const addon = native();
const STATS = nativeInfo().statsPerRow;

// The named calls of the addon, in the order these tests pass their arguments.
type Ids = Int32Array | Float32Array;
const mixed = (alpha: number, beta: number): LossSpec => ({ kind: 'mixed', alpha, beta });
const call = (logits: Float32Array, rows: number, classes: number, labels: Ids, dense: boolean, loss: LossSpec, stats: Float32Array) => ({
  logits,
  rows,
  classes,
  labels,
  dense,
  loss,
  stats,
});
const fwd = (q: Float32Array, B: number, C: number, y: Ids, dense: boolean, loss: LossSpec, stats: Float32Array, rowLoss: Float32Array) =>
  addon.forward({ ...call(q, B, C, y, dense, loss, stats), rowLoss });
const bwd = (
  q: Float32Array,
  B: number,
  C: number,
  y: Ids,
  dense: boolean,
  loss: LossSpec,
  stats: Float32Array,
  dy: Float32Array,
  dyScale: number,
  grad: Float32Array,
) => addon.backward({ ...call(q, B, C, y, dense, loss, stats), dy, dyScale, grad });
const fwbw = (
  q: Float32Array,
  B: number,
  C: number,
  y: Ids,
  dense: boolean,
  loss: LossSpec,
  stats: Float32Array,
  rowLoss: Float32Array,
  gradScale: number,
  grad: Float32Array,
) => addon.forwardBackward({ ...call(q, B, C, y, dense, loss, stats), rowLoss, gradScale, grad });

/** This CPU's feature flags from /proc/cpuinfo (empty where it cannot be read). */
const cpuFlags = new Set<string>(
  (() => {
    try {
      return (/^flags\s*:(.*)$/m.exec(require('fs').readFileSync('/proc/cpuinfo', 'utf8') as string)?.[1] ?? '').trim().split(/\s+/);
    } catch {
      return [];
    }
  })().filter((f) => f !== ''),
);

/** The row loops the addon runs on this CPU under a MIXLOSS_ROW_LOOPS value. */
function expectedRowLoops(env: string | undefined): string {
  if (env === 'clones') return 'clones';
  if (cpuFlags.has('avx512f') && env !== 'avx2') return 'avx512';
  return cpuFlags.has('avx2') && cpuFlags.has('fma') ? 'avx2' : 'clones';
}

describe('native addon', () => {
  it('reports how it runs, with the row-statistics layout the kernels in TypeScript assume', () => {
    const info = nativeInfo();
    expect(info.statsPerRow).toBe(statsLayout().perRow);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(['avx512', 'avx2', 'baseline']).toContain(info.simd);
    // The clone the CPU gets: AVX-512 where the CPU has it, else AVX2.
    if (cpuFlags.has('avx512f')) expect(info.simd).toBe('avx512');
    else if (cpuFlags.has('avx2')) expect(info.simd).toBe('avx2');
    // The row loops written for AVX-512 where it is there, for AVX2 + FMA where AVX-512 is not (or
    // MIXLOSS_ROW_LOOPS=avx2 asks for them), the clones elsewhere or when MIXLOSS_ROW_LOOPS=clones.
    if (cpuFlags.size > 0) expect(info.rowLoops).toBe(expectedRowLoops(process.env.MIXLOSS_ROW_LOOPS));
  });

  it('rejects mismatched buffers with an error, never a crash', () => {
    const q = new Float32Array(6),
      st = new Float32Array(2 * STATS),
      rl = new Float32Array(2);
    expect(() => fwd(q, 2, 4, new Int32Array(2), false, mixed(1, 1), st, rl)).toThrow(/logits has 6 elements, expected 8/);
    expect(() => fwd(q, 2, 3, new Int32Array(3), false, mixed(1, 1), st, rl)).toThrow(/labels has 3 elements, expected 2/);
    expect(() => fwd(q, 2, 3, new Int32Array(2), false, { kind: 'nope' }, st, rl)).toThrow(
      /unknown loss kind 'nope' \(known: mixed, mae, focal, generalizedCE, tamedCE, mpce, complementEntropy\)/,
    );
    expect(() => fwd(q, 2, 3, new Int32Array(2), false, mixed(1, 1), new Float32Array(1), rl)).toThrow(/stats has 1 elements/);
    expect(() => fwd(q, 0, 3, new Int32Array(0), false, mixed(1, 1), st, rl)).toThrow(/rows must be a positive integer/);
    expect(() => fwd(q, 2, 3, new Uint8Array(2) as never, false, mixed(1, 1), st, rl)).toThrow(
      /labels must be an Int32Array or a Float32Array/,
    );
    expect(() => bwd(q, 2, 3, new Int32Array(2), false, mixed(1, 1), st, new Float32Array(3), 1, new Float32Array(6))).toThrow(
      /dy must have 1 or rows elements/,
    );
    expect(() => addon.setThreads(0)).toThrow(/threads must be a positive integer/);
    expect(() => fwd(q, 2, 3, new Int32Array(2), true, { kind: 'focal', gamma: 0 }, st, rl)).toThrow(/labels has 2 elements, expected 6/);
  });

  it('names the argument and the problem for every kind of bad buffer, shared memory accepted (issue 14)', () => {
    const q = new Float32Array(6),
      st = new Float32Array(2 * STATS),
      rl = new Float32Array(2),
      y = new Int32Array(2);
    expect(() => fwd([0, 0, 0, 0, 0, 0] as never, 2, 3, y, false, mixed(1, 1), st, rl)).toThrow(/mixloss: logits must be a Float32Array/);
    expect(() => fwd(new Float64Array(6) as never, 2, 3, y, false, mixed(1, 1), st, rl)).toThrow(/logits must be a Float32Array/);
    expect(() => fwd(q, 2, 3, {} as never, false, mixed(1, 1), st, rl)).toThrow(/labels must be an Int32Array or a Float32Array/);
    expect(() => fwd(q, 2, 3, y, false, mixed(1, 1), null as never, rl)).toThrow(/stats must be a Float32Array/);
    expect(() => fwd(q, 2, 3, y, false, mixed(1, 1), st, new DataView(new ArrayBuffer(8)) as never)).toThrow(
      /rowLoss must be a Float32Array/,
    );
    expect(() => fwd(q, '2' as never, 3, y, false, mixed(1, 1), st, rl)).toThrow(/rows must be a number/);
    expect(() => fwd(q, 2, 3, y, false, mixed(NaN, 1), st, rl)).toThrow(/alpha must be a number in \[0, inf\), got nan/);
    expect(() => bwd(q, 2, 3, y, false, mixed(1, 1), st, 'dy' as never, 1, new Float32Array(6))).toThrow(/dy must be a Float32Array/);
    // Named arguments: a misspelt or unknown name is an error, as is an unknown loss parameter.
    expect(() => addon.forward({ ...call(q, 2, 3, y, false, mixed(1, 1), st), rowLoss: rl, gradScale: 1 } as never)).toThrow(
      /unknown argument 'gradScale'/,
    );
    expect(() => fwd(q, 2, 3, y, false, { kind: 'focal', gama: 2 }, st, rl)).toThrow(
      /unknown parameter 'gama' for loss kind 'focal' \(it takes: gamma, alpha; options: zLoss, labelSmoothing, ignoreIndex\)/,
    );
    // Names compare exactly: a name whose characters differ only above 8 bits (ţ is U+0163, whose
    // low byte is 'c'), a longer or a shorter one, and a name inherited through the prototype are unknown.
    const base = { ...call(q, 2, 3, y, false, mixed(1, 0), st), rowLoss: rl };
    expect(() => addon.forward({ ...base, ţlassWeights: new Float32Array(3) } as never)).toThrow(/unknown argument 'ţlassWeights'/);
    expect(() => addon.forward({ ...base, classWeightsX: new Float32Array(3) } as never)).toThrow(/unknown argument 'classWeightsX'/);
    expect(() => addon.forward({ ...base, classWeight: new Float32Array(3) } as never)).toThrow(/unknown argument 'classWeight'/);
    expect(() => addon.forward({ ...base, ['w'.repeat(100)]: 1 } as never)).toThrow(/unknown argument 'w{100}'/);
    expect(() => addon.forward(Object.assign(Object.create({ extra: 1 }), base))).toThrow(/unknown argument 'extra'/);
    expect(() => fwd(q, 2, 3, y, false, { kind: 'focal', ɡamma: 2 } as never, st, rl)).toThrow(/unknown parameter 'ɡamma'/);
    // undefined is absent, for arguments and loss parameters alike (a getter is read once).
    let reads = 0;
    const counted = Object.defineProperty({ ...base }, 'weights', { enumerable: true, get: () => (reads++, undefined) });
    expect(() => addon.forward(counted)).not.toThrow();
    expect(reads).toBe(1);
    const focalOf = (spec: object) => {
      const out = new Float32Array(2);
      addon.forward({
        ...call(new Float32Array([2, 1, 0.1, 0, 3, 1]), 2, 3, new Int32Array([0, 2]), false, spec as never, st),
        rowLoss: out,
      });
      return Array.from(out);
    };
    expect(focalOf({ kind: 'focal', gamma: undefined, zLoss: undefined, labelSmoothing: undefined })).toEqual(focalOf({ kind: 'focal' }));
    expect(() => fwd(q, 2, 3, y, false, { kind: 'generalizedCE', q: 0 }, st, rl)).toThrow(/q must be a number in \(0, 1\], got 0/);
    expect(() => fwd(q, 2, 3, y, false, mixed(1, -2), st, rl)).toThrow(/beta must be >= -alpha/);
    expect(() => fwd(q, 2, 3, new Float32Array(6), true, { kind: 'focal' }, st, rl)).toThrow(
      /dense targets need a loss linear in the targets/,
    );
    expect(() => fwd(q, 2, 3, y, false, { kind: 'focal', labelSmoothing: 0.1 }, st, rl)).toThrow(
      /labelSmoothing needs a loss linear in the targets/,
    );
    expect(() =>
      addon.forward({ ...call(q, 2, 3, y, false, mixed(1, 0), st), rowLoss: rl, classWeights: new Float32Array([1, -1, 1]) }),
    ).toThrow(/classWeights\[1\] must be a finite number >= 0/);
    expect(() => addon.forward({ ...call(q, 2, 3, new Int32Array([0, -100]), false, mixed(1, 0), st), rowLoss: rl })).toThrow(
      /label -100(\.0+)? at row 1/,
    );
    // SharedArrayBuffer-backed arrays (what a tensor over shared memory holds) are valid.
    const shared = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));
    const sq = shared(6);
    sq.set([2, 1, 0.1, 0, 0, 0]);
    const total = fwd(sq, 2, 3, new Int32Array(new SharedArrayBuffer(8)), false, mixed(1, 0), shared(2 * STATS), shared(2));
    expect(total).toBeCloseTo(0.417030016278 + Math.log(3), 5);
  });

  it("the loops' vector exp: within 1.05 ulp in the AVX-512 and AVX2 loops (4 in the clones, libmvec's bound), denormals and the IEEE special values exact", () => {
    // Every 1021st float in [−110, 90] by bit pattern (2^21 of them, with denormal and overflowing
    // results), against Math.exp in float64.
    const bits = new Uint32Array(1 << 21);
    const negatives = 0xc2dc0000 - 0x80000000; // −110
    const positives = 0x42b40000; // 90
    for (let i = 0; i < bits.length; i++) {
      const k = Math.floor((i / bits.length) * (negatives + positives));
      bits[i] = k < negatives ? 0x80000000 + k : k - negatives;
    }
    const x = new Float32Array(bits.buffer);
    const out = new Float32Array(x.length);
    addon.expValues({ values: x, out });
    const f = new Float32Array(1),
      u = new Uint32Array(f.buffer);
    const ulpOf = (v: number) => {
      f[0] = v;
      u[0] += 1;
      return f[0] - v;
    };
    let worst = 0,
      at = 0;
    for (let i = 0; i < x.length; i++) {
      const want = Math.exp(x[i]);
      const rounded = Math.fround(want);
      if (rounded === Infinity || rounded === 0) {
        expect(out[i], `exp(${x[i]})`).toBe(rounded);
        continue;
      }
      const e = Math.abs(out[i] - want) / ulpOf(rounded);
      if (!(e <= worst)) [worst, at] = [e, x[i]];
    }
    // exp16 (AVX-512: its loops and its clones) and exp8 (the AVX2 loops); libmvec's in the AVX2 clones.
    const ours = nativeInfo().simd === 'avx512' || nativeInfo().rowLoops === 'avx2';
    expect(worst, `worst at exp(${at})`).toBeLessThanOrEqual(ours ? 1.05 : 4);
    const specials = Float32Array.from([-Infinity, Infinity, NaN, 0, -0, -104, 89, 88.72, 1e-30, -1e-30, -3e38, 3e38]);
    const got = new Float32Array(specials.length * 16); // a whole vector of each, past any remainder loop
    addon.expValues({ values: Float32Array.from(got, (_, i) => specials[i % specials.length]), out: got });
    for (let i = 0; i < got.length; i++) {
      const v = specials[i % specials.length];
      expect(got[i], `exp(${v})`).toBe(Number.isNaN(v) ? NaN : Math.fround(Math.exp(v)));
    }
  });

  it("softcap's in-cap polynomials: within 2 ulp of tanh on each range of |q|/cap, and each range runs its own (3 terms up to 1/8, 7 up to 1)", () => {
    const f = new Float32Array(1),
      u = new Uint32Array(f.buffer);
    const ulpOf = (v: number) => {
      f[0] = Math.abs(v);
      u[0] += 1;
      return f[0] - Math.abs(v);
    };
    const ranges: Array<[number, number]> = [
      [0.125, 3],
      [0.25, 4],
      [0.5, 5],
      [0.75, 6],
      [1, 7],
    ];
    for (const [bound, terms] of ranges) {
      // Every 64th float from 2^-12 up to the bound by bit pattern, the bound itself, and their
      // negatives; cap 1, so each capped logit is tanh(q) as the loops form it.
      f[0] = 2 ** -12;
      const first = u[0];
      f[0] = bound;
      const last = u[0];
      const bits: number[] = [];
      for (let b = first; b < last; b += 64) bits.push(b);
      bits.push(last);
      const positive = new Float32Array(Uint32Array.from(bits).buffer);
      const q = Float32Array.from([...positive, ...positive.map((v) => -v)]);
      const out = new Float32Array(q.length);
      expect(addon.softcapNearValues({ values: q, cap: 1, out }), `|q| up to ${bound}`).toBe(terms);
      let worst = 0,
        at = 0;
      for (let i = 0; i < q.length; i++) {
        const want = Math.tanh(q[i]);
        const e = Math.abs(out[i] - want) / ulpOf(Math.fround(want));
        if (!(e <= worst)) [worst, at] = [e, q[i]];
      }
      expect(worst, `|q| up to ${bound}: worst at tanh(${at})`).toBeLessThanOrEqual(2);
      // One float past the bound takes the next polynomial.
      if (bound < 1) {
        f[0] = bound;
        u[0] += 1;
        expect(addon.softcapNearValues({ values: Float32Array.of(0.01, -f[0]), cap: 1, out: new Float32Array(2) })).toBe(terms + 1);
      }
    }
    // The range is |q|/cap: cap 30 with |q| ≤ 3 (|q|/cap ≤ 0.1) runs the 3-term polynomial.
    const wide = Float32Array.from({ length: 100 }, (_, i) => 3 * Math.sin(i));
    expect(addon.softcapNearValues({ values: wide, cap: 30, out: new Float32Array(100) })).toBe(3);
    expect(() => addon.softcapNearValues({ values: Float32Array.of(0, 2), cap: 1, out: new Float32Array(2) })).toThrow(
      /values\[1\] is 2.*within ±cap/,
    );
  });

  // The row loops this CPU runs (native/core/row_blocks_avx512.cpp, or row_blocks_avx2.cpp on a
  // CPU without AVX-512) are what every other suite checks against float64; the other loops it can
  // run (the compiler's clones, which CPUs without AVX2 run, and on an AVX-512 CPU the AVX2 loops)
  // run the same calls here in a second process and must agree with them.
  const otherLoops = nativeInfo().rowLoops === 'avx512' && cpuFlags.has('avx2') && cpuFlags.has('fma') ? ['clones', 'avx2'] : ['clones'];
  it.skipIf(nativeInfo().rowLoops === 'clones').each(otherLoops)(
    'the row loops of MIXLOSS_ROW_LOOPS=%s: every loop kind agrees with the loops this CPU runs',
    (loops) => {
      const cases = path.join(__dirname, 'support', 'row-loop-cases.cjs');
      const addonPath = nativeInfo().path; // the sanitized build under scripts/sanitize.sh
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `process.stdout.write(JSON.stringify({ loops: require(${JSON.stringify(addonPath)}).info().rowLoops, results: require(${JSON.stringify(cases)}).run(require(${JSON.stringify(addonPath)})) }))`,
        ],
        { encoding: 'utf8', env: { ...process.env, MIXLOSS_ROW_LOOPS: loops }, maxBuffer: 1 << 28, timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const other = JSON.parse(r.stdout) as {
        loops: string;
        results: Array<{ name: string; rowLoss: number[]; forwardLoss: number[]; grad: number[] }>;
      };
      expect(other.loops).toBe(loops);
      const mine = require('./support/row-loop-cases.cjs').run(addon) as typeof other.results;
      expect(other.results.map((c) => c.name)).toEqual(mine.map((c) => c.name));
      const close = (a: number, b: number, tol: number, scale: number) => Math.abs(a - b) <= tol * Math.max(Math.abs(b), scale);
      mine.forEach((want, i) => {
        const got = other.results[i];
        // MPCE's value is (p_k − p_y)·CE, a difference: a row of 1000 classes with p_k 12× the gap
        // measured 2.6e-6 from float64 in the AVX2 loops and −2.5e-6 in the clones.
        const tol = want.name.startsWith('MPCE') ? 1e-5 : 2e-6;
        want.rowLoss.forEach((v, r) => {
          expect(close(got.rowLoss[r], v, tol, 1e-6), `${want.name}: row ${r} loss ${got.rowLoss[r]} against ${v}`).toBe(true);
          expect(close(got.forwardLoss[r], want.forwardLoss[r], tol, 1e-6), `${want.name}: row ${r} forward-pass loss`).toBe(true);
        });
        // Entries to 1e-5 relative, or 1e-6 of the row's largest: complement entropy's entries are
        // small differences (the sanitized build's clones measured 1.1e-12 on an entry of 4e-8 in a
        // row whose largest is ~1e-5).
        const C = want.grad.length / want.rowLoss.length;
        const scales = want.rowLoss.map((_, r) => 1e-1 * want.grad.slice(r * C, (r + 1) * C).reduce((m, v) => Math.max(m, Math.abs(v)), 0));
        const bad = want.grad.findIndex((v, j) => !close(got.grad[j], v, 1e-5, scales[Math.floor(j / C)]));
        expect(bad, `${want.name}: gradient entry ${bad}: ${got.grad[bad]} against ${want.grad[bad]}`).toBe(-1);
      });
    },
  );

  it('setNumThreads / getNumThreads through the package: the size in use, bounds checked', () => {
    const threads = getNumThreads();
    try {
      expect(setNumThreads(3)).toBe(3);
      expect(getNumThreads()).toBe(3);
      expect(nativeInfo().threads).toBe(3);
      expect(setNumThreads(1)).toBe(1);
      expect(() => addon.setThreads(1025)).toThrow(/threads must be at most 1024, got 1025/);
      expect(getNumThreads()).toBe(1);
    } finally {
      setNumThreads(threads);
    }
  });

  // Issue 14: a pool thread that could not start ended in std::terminate (SIGABRT) on first use.
  const addonPath = path.join(__dirname, '..', 'build', 'Release', 'mixloss.node');
  const runWith = (env: Record<string, string>, shell = '') =>
    spawnSync('bash', ['-c', `${shell} exec "${process.execPath}" -e "$CODE"`], {
      encoding: 'utf8',
      timeout: 60_000, // a hang is a failure too (spawnSync blocks vitest's own timeout)
      env: {
        ...process.env,
        ...env,
        CODE: `
      const a = require(${JSON.stringify(addonPath)});
      const st = new Float32Array(4 * ${STATS}), rl = new Float32Array(4);
      const mean = a.forward({ logits: new Float32Array(4 * 100000), rows: 4, classes: 100000, labels: new Int32Array(4), dense: false, loss: { kind: 'mixed', alpha: 1, beta: 0 }, stats: st, rowLoss: rl }) / 4;
      console.log(JSON.stringify({ threads: a.info().threads, mean }));`,
      },
    });

  // Under AddressSanitizer (scripts/sanitize.sh) the shadow memory needs terabytes of address
  // space, which the virtual-memory limit this test sets forbids.
  it.skipIf(process.env.MIXLOSS_SANITIZED === '1')(
    'MIXLOSS_NUM_THREADS beyond what the system allows: fewer threads and a warning, never an abort',
    () => {
      const r = runWith({ MIXLOSS_NUM_THREADS: '100000' }, 'ulimit -v 3000000;');
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim());
      expect(out.threads).toBeGreaterThanOrEqual(1);
      expect(out.threads).toBeLessThanOrEqual(1024);
      expect(out.mean).toBeCloseTo(Math.log(100000), 4);
      expect(r.stderr).toMatch(/MIXLOSS_NUM_THREADS=100000 is above the limit; using 1024 threads/);
      expect(r.stderr).toMatch(/could not start thread \d+ of 1024 \(.+\); running with \d+/);
    },
  );

  it('MIXLOSS_NUM_THREADS that is not a positive integer: a warning and the default', () => {
    const unset = runWith({ MIXLOSS_NUM_THREADS: '' });
    expect(unset.stderr).toBe('');
    const hardware = JSON.parse(unset.stdout.trim()).threads;
    for (const value of ['abc', '0', '-3', '2x']) {
      const r = runWith({ MIXLOSS_NUM_THREADS: value });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim()).threads).toBe(hardware);
      expect(r.stderr).toContain(`ignoring MIXLOSS_NUM_THREADS=${value} (not a positive integer)`);
    }
    const r = runWith({ MIXLOSS_NUM_THREADS: '3' });
    expect(JSON.parse(r.stdout.trim()).threads).toBe(3);
    expect(r.stderr).toBe('');
  });

  it('writes every output element (outputs poisoned with NaN beforehand), masked slices included', () => {
    // Fresh tfjs outputs on the cpu backend are zeroed, which would hide an unwritten element;
    // a wasm heap or a reused array is not. Row 0 has long all −∞ stretches (whole slices of the
    // split rows); row 1 is finite; each pass must write every element.
    for (const [B, C, dense] of [
      [2, 1 << 18, false],
      [2, 1 << 18, true],
      [3, 5000, false],
      [64, 300, true],
    ] as Array<[number, number, boolean]>) {
      const q = new Float32Array(B * C).map((_, i) => Math.sin(i * 0.7) * 3);
      q.fill(-Infinity, 0, Math.floor(C / 2));
      q[C - 1] = 2; // row 0's target, unmasked
      const ids = Int32Array.from({ length: B }, (_, r) => (r === 0 ? C - 1 : (r * 7) % C));
      const labels = dense ? new Float32Array(B * C).map((_, i) => (i % C === ids[Math.floor(i / C)] ? 1 : 0)) : ids;
      const nan = (n: number) => new Float32Array(n).fill(NaN);
      const args = [q, B, C, labels, dense, mixed(1, 2)] as const;
      const st = nan(B * STATS),
        rl = nan(B),
        g = nan(B * C),
        g2 = nan(B * C);
      fwbw(...args, st, rl, 1, g);
      bwd(...args, st, new Float32Array([1]), 1, g2);
      expect(Array.from(st).every(Number.isFinite), `${B}×${C} stats`).toBe(true);
      expect(Array.from(rl).every(Number.isFinite), `${B}×${C} row losses`).toBe(true);
      expect(g.every(Number.isFinite) && g2.every(Number.isFinite), `${B}×${C} gradient`).toBe(true);
      expect(g.subarray(0, Math.floor(C / 2)).every((v) => v === 0)).toBe(true);
      const rl2 = nan(B);
      fwd(...args, nan(B * STATS), rl2);
      rl2.forEach((v, r) => expect(Math.abs(v - rl[r]) / Math.abs(rl[r])).toBeLessThan(1e-6));
    }
  });

  it("the pool's workers spin only briefly after a kernel: an idle process uses no CPU", async () => {
    const B = 64,
      C = 20_000;
    const q = new Float32Array(B * C).map((_, i) => Math.sin(i) * 3);
    const y = Int32Array.from({ length: B }, (_, r) => r % C);
    const st = new Float32Array(B * STATS),
      rl = new Float32Array(B);
    for (let i = 0; i < 20; i++) fwd(q, B, C, y, false, mixed(1, 0), st, rl);
    expect(addon.getThreads()).toBeGreaterThan(1); // workers that could spin
    await new Promise((r) => setTimeout(r, 50)); // past the bounded spin (200 µs)
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1000));
    const used = process.cpuUsage(before);
    // A worker left spinning would use ~1 s of CPU here; an idle one, next to nothing.
    expect((used.user + used.system) / 1000).toBeLessThan(150);
  });

  // Few long rows: each row is cut into slices that threads take (columns); many short rows:
  // threads take blocks of whole rows. Both against one thread.
  for (const [B, C, how] of [
    [3, 300_000, 'each row cut into slices across threads'],
    [4099, 37, 'rows split across threads'],
  ] as Array<[number, number, string]>) {
    it(`gives the same results on 1 thread and on many (${how}: ${B} × ${C})`, () => {
      const q = new Float32Array(B * C).map((_, i) => Math.sin(i * 0.37) * 5);
      const y = Int32Array.from({ length: B }, (_, r) => (r * 123_457) % C);
      y[B - 1] = C - 1;
      const run = () => {
        const st = new Float32Array(B * STATS),
          rl = new Float32Array(B),
          g = new Float32Array(B * C);
        const total = fwd(q, B, C, y, false, mixed(1, 2), st, rl);
        bwd(q, B, C, y, false, mixed(1, 2), st, new Float32Array([1]), 1, g);
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
  }

  it('survives worker_threads that load it, use the pool, and exit', async () => {
    const addonPath = nativeInfo().path; // the sanitized build under scripts/sanitize.sh
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const a = require(workerData);
      const B = 64, C = 50000, q = new Float32Array(B * C).fill(0.5), y = new Int32Array(B);
      const st = new Float32Array(B * ${STATS}), rl = new Float32Array(B), g = new Float32Array(B * C);
      const call = { logits: q, rows: B, classes: C, labels: y, dense: false, loss: { kind: 'mixed', alpha: 1, beta: 0 }, stats: st };
      const total = a.forward({ ...call, rowLoss: rl });
      a.backward({ ...call, dy: new Float32Array([1]), dyScale: 1, grad: g });
      parentPort.postMessage(total / B);`;
    for (let i = 0; i < 3; i++) {
      const mean = await new Promise<number>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: addonPath });
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(mean).toBeCloseTo(Math.log(50000), 4);
      // The main thread keeps using the pool after each worker is gone.
      const st = new Float32Array(4 * STATS),
        rl = new Float32Array(4);
      expect(fwd(new Float32Array(4 * 100000), 4, 100000, new Int32Array(4), false, mixed(1, 0), st, rl) / 4).toBeCloseTo(
        Math.log(100000),
        4,
      );
    }
  });

  const bigEnough = os.totalmem() >= 20 * 2 ** 30 && !QUICK; // 16 GiB of arrays: not in mutation runs
  // Its time, measured on the 2-core CI machine: 12.7 s, and 22.6 s against the sanitized addon
  // (scripts/sanitize.sh sets MIXLOSS_SANITIZED). A busy machine once took more than vitest's
  // 120 s: the limit is 20 times the measured time, so only a hang fails it.
  const bigTimeout = (process.env.MIXLOSS_SANITIZED ? 22.6 : 12.7) * 20 * 1000;
  it.skipIf(!bigEnough)(
    'indexes past 2^31 elements (2049 × 2^20 logits, 8 GiB + gradient 8 GiB)',
    () => {
      const B = 2049,
        C = 2 ** 20;
      const q = new Float32Array(B * C); // all zeros but a marker in the row that starts at 2^31
      const last = (B - 1) * C;
      expect(last).toBe(2 ** 31);
      q[last + 7] = 5;
      q[last + C - 1] = -3;
      const y = new Int32Array(B);
      y[B - 1] = 7;
      const st = new Float32Array(B * STATS),
        rl = new Float32Array(B);
      fwd(q, B, C, y, false, mixed(1, 0), st, rl);
      const lse = Math.log(C - 2 + Math.exp(5) + Math.exp(-3));
      expect(rl[0]).toBeCloseTo(Math.log(C), 4);
      expect(rl[B - 1]).toBeCloseTo(lse - 5, 4);
      let g: Float32Array | undefined = new Float32Array(B * C);
      bwd(q, B, C, y, false, mixed(1, 0), st, new Float32Array([1]), 1, g);
      expect(g[last + 7]).toBeCloseTo(Math.exp(5 - lse) - 1, 6);
      expect(g[last + 8]).toBeCloseTo(Math.exp(-lse), 9);
      expect(g[last + C - 1]).toBeCloseTo(Math.exp(-3 - lse), 9);
      expect(g[0]).toBeCloseTo(1 / C - 1, 6);
      // eslint-disable-next-line no-useless-assignment -- drops the 8 GiB gradient before the next test
      g = undefined;
    },
    bigTimeout,
  );
});
