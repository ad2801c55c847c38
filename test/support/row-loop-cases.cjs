// The same native calls run in two processes, one with the row loops this CPU runs (AVX-512's
// or AVX2's) and one with other loops it can run (MIXLOSS_ROW_LOOPS=clones, or =avx2 on an
// AVX-512 CPU; test/native.test.ts compares them): every kind of row loop (CE's sums, complement
// entropy's, label smoothing's, dense float and int32 targets, softcap within the cap, each range
// of its polynomial, and beyond it, the argmax), short rows (one to four of AVX2's 8-lane steps)
// and rows of several blocks, masked logits, the fused pass and the forward pass alone. Plain
// CommonJS: the second process runs it with node.
'use strict';

function lcg(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const SHAPES = [
  [5, 3],
  [4, 10],
  [8, 17],
  [8, 32],
  [3, 37],
  [3, 1000],
  [2, 5000],
];

const CASES = [
  { name: 'CE', loss: { kind: 'mixed', alpha: 1, beta: 0 } },
  { name: 'focal', loss: { kind: 'focal', gamma: 2 } },
  { name: 'MPCE', loss: { kind: 'mpce' } },
  { name: 'complement entropy', loss: { kind: 'complementEntropy' } },
  { name: 'label smoothing', loss: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.1 } },
  { name: 'smoothing + class weights', loss: { kind: 'mixed', alpha: 1, beta: 0, labelSmoothing: 0.1 }, classWeights: true },
  { name: 'dense soft targets', loss: { kind: 'mixed', alpha: 1, beta: 1 }, dense: 'float' },
  { name: 'dense one-hot int32', loss: { kind: 'mixed', alpha: 1, beta: 0 }, dense: 'int32' },
  // Logits within ±4: |q|/cap up to 0.1, 0.13, 0.33, 0.62 and 0.95, one range of the in-cap
  // polynomial each (native/core/tanh_near.h).
  ...[40, 30, 12, 6.5, 4.2].map((cap) => ({
    name: `softcap ${cap}, within the cap`,
    loss: { kind: 'mixed', alpha: 1, beta: 0, softcap: cap },
  })),
  { name: 'softcap beyond the cap', loss: { kind: 'mixed', alpha: 1, beta: 0, softcap: 2 } },
];

function inputs(B, C, c, seed) {
  const random = lcg(seed);
  const logits = Float32Array.from({ length: B * C }, () => (random() - 0.5) * 8);
  // A masked logit in row 0 (not its target) where the row has room for one.
  const ids = Int32Array.from({ length: B }, () => Math.floor(random() * C));
  if (C > 2) logits[ids[0] === 1 ? 2 : 1] = -Infinity;
  let labels = ids;
  if (c.dense === 'float') {
    labels = new Float32Array(B * C);
    for (let r = 0; r < B; r++) {
      let m = 0;
      for (let j = 0; j < C; j++) {
        labels[r * C + j] = random() < 0.3 ? 0 : random();
        m += labels[r * C + j];
      }
      for (let j = 0; j < C; j++) labels[r * C + j] = m > 0 ? labels[r * C + j] / m : 1 / C;
      // A zero target under the masked logit: its t·q term is skipped, not 0·(−∞).
      if (r === 0 && C > 2) {
        const j = ids[0] === 1 ? 2 : 1;
        const t = labels[j];
        labels[j] = 0;
        labels[(j + 1) % C] += t;
      }
    }
  } else if (c.dense === 'int32') {
    labels = new Int32Array(B * C);
    ids.forEach((y, r) => (labels[r * C + y] = 1));
  }
  const classWeights = c.classWeights ? Float32Array.from({ length: C }, () => 0.5 + random()) : undefined;
  return { logits, labels, classWeights };
}

/** Every case at every shape through `addon`: row losses and gradients as plain arrays. */
function run(addon) {
  const perRow = addon.info().statsPerRow;
  const out = [];
  CASES.forEach((c, ci) =>
    SHAPES.forEach(([B, C], si) => {
      const { logits, labels, classWeights } = inputs(B, C, c, 1000 * ci + si + 1);
      const call = {
        logits,
        rows: B,
        classes: C,
        labels,
        dense: c.dense !== undefined,
        loss: c.loss,
        ...(classWeights ? { classWeights } : {}),
      };
      const rowLoss = new Float32Array(B);
      const grad = new Float32Array(B * C);
      addon.forwardBackward({ ...call, stats: new Float32Array(B * perRow), rowLoss, gradScale: 1, grad });
      const forwardLoss = new Float32Array(B);
      addon.forward({ ...call, stats: new Float32Array(B * perRow), rowLoss: forwardLoss });
      out.push({
        name: `${c.name}, ${B} × ${C}`,
        rowLoss: Array.from(rowLoss),
        forwardLoss: Array.from(forwardLoss),
        grad: Array.from(grad),
      });
    }),
  );
  return out;
}

module.exports = { run };
