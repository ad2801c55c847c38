// Test helpers: the tfjs union package on the cpu backend, float64 references, finite
// differences.
import * as tf from '@tensorflow/tfjs';

export { tf };

/**
 * The backend the shared suites run on: cpu, unless a wrapper file (test/wasm.test.ts) set
 * another before importing them.
 */
export function testBackend(): string {
  return (globalThis as { __MIXLOSS_TEST_BACKEND__?: string }).__MIXLOSS_TEST_BACKEND__ ?? 'cpu';
}

export async function useTestBackend(): Promise<void> {
  await tf.setBackend(testBackend());
  await tf.ready();
  if (tf.getBackend() !== testBackend()) throw new Error(`backend ${testBackend()} did not start`);
}

/** Float64 log-sum-exp and softmax of one row. */
function softmax64(q: ArrayLike<number>): { lse: number; p: number[] } {
  let m = -Infinity;
  for (let j = 0; j < q.length; j++) m = Math.max(m, q[j]);
  let s = 0;
  for (let j = 0; j < q.length; j++) s += Math.exp(q[j] - m);
  const lse = m + Math.log(s);
  return { lse, p: Array.from({ length: q.length }, (_, j) => Math.exp(q[j] - lse)) };
}

/** Float64 reference of one row: value and gradient of α·CE + β·EL (sparse label). */
export function referenceMixedRow(q: ArrayLike<number>, y: number, alpha: number, beta: number) {
  const { lse, p } = softmax64(q);
  const py = p[y];
  const ce = lse - q[y];
  const value = (alpha !== 0 ? alpha * ce : 0) + beta * (1 - py);
  const c = alpha + beta * py;
  const grad = p.map((pj, j) => c * (pj - (j === y ? 1 : 0)));
  return { value, grad, p };
}

/** Float64 reference for dense targets: Σ_j t_j (α(−log p_j) + β(1 − p_j)). */
export function referenceMixedDense(q: ArrayLike<number>, t: ArrayLike<number>, alpha: number, beta: number) {
  const C = q.length;
  const { lse, p } = softmax64(q);
  let T = 0;
  let pt = 0;
  let value = 0;
  for (let j = 0; j < C; j++) {
    T += t[j];
    pt += t[j] * p[j];
    if (t[j] !== 0) value += t[j] * ((alpha !== 0 ? alpha * (lse - q[j]) : 0) + beta * (1 - p[j]));
  }
  const grad = p.map((pj, j) => pj * (alpha * T + beta * pt) - alpha * t[j] - beta * t[j] * pj);
  return { value, grad };
}

/** Central differences in float64 of a scalar function of a vector. */
export function centralDifference(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, i) => {
    const up = x.slice();
    const down = x.slice();
    up[i] += h;
    down[i] -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

/** A deterministic pseudo-random stream (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomLogits(rows: number, classes: number, seed: number, scale = 3): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(rows * classes);
  for (let i = 0; i < out.length; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

export function randomLabels(rows: number, classes: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: rows }, () => Math.floor(r() * classes));
}

/** Max |a − b| / max(|b|, floor). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}
