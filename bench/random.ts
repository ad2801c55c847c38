// Deterministic pseudo-random numbers for the benchmarks (Numerical Recipes' 32-bit linear
// congruential generator): the same inputs in every run and on every machine.

/** Uniform numbers in [0, 1) from `seed`. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** n float32 values uniform in [lo, hi) from `seed`. */
export function uniformValues(n: number, seed: number, lo: number, hi: number): Float32Array {
  const next = lcg(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + next() * (hi - lo);
  return out;
}
