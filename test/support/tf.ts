// Test helpers: the tfjs union package on the backend under test, seeded data, and counts of
// what a call leaves behind. The float64 references are in ./reference.
import * as tf from '@tensorflow/tfjs';

import { kernelOptions, pendingGradientCount } from '../../src/kernels/fused_loss';

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

/**
 * What lives on the backend: tensors the engine tracks, the backend's own data ids (which also
 * count buffers the engine does not track, such as a wasm output never finished), and
 * gradients computed in a forward pass that wait for their backward pass.
 */
export function backendCounts(): { tensors: number; dataIds: number; pending: number } {
  return { tensors: tf.memory().numTensors, dataIds: tf.engine().backend.numDataIds(), pending: pendingGradientCount() };
}

/** Runs fn outside any tidy and returns what it threw (so that leak checks can see its tensors). */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an Error, but nothing was thrown');
}

/** Runs fn with gradients from the separate backward pass (not computed in the forward pass). */
export function withSeparateBackward<T>(fn: () => T): T {
  kernelOptions.gradientInForward = false;
  try {
    return fn();
  } finally {
    kernelOptions.gradientInForward = true;
  }
}

/**
 * Mutation testing (vitest.mutation.config.mts) sets MIXLOSS_TEST_QUICK: suites then leave out
 * their largest shapes and longest training runs, which exercise the same TypeScript paths as
 * the smaller ones (they guard the native kernels, whose mutants run the full suites).
 */
export const QUICK = process.env.MIXLOSS_TEST_QUICK === '1';
