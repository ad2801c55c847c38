// The paper's analysis tools: Fig. 1's curves (against the fused op's own value and gradient)
// and the p_y-bucket analysis, and the focus-curves command.
import { spawnSync } from 'child_process';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

import { bucketTransitions, focusCurves, mixedLoss, targetProbabilities } from '../src';
import { tf } from './support/tf';

describe('focusCurves (Fig. 1)', () => {
  const curves = focusCurves([0, 0.1, 0.2, 0.3, 0.4, 0.5], { points: 200 });

  it('the loss and |∂L/∂q_y| match the fused mixed loss and its gradient at the same p_y', () => {
    // Two classes, logits [q, 0]: p_y = sigmoid(q) for label 0.
    for (const c of curves) {
      for (const i of [4, 39, 99, 159, 190]) {
        const p = c.p[i];
        const q = Math.log(p / (1 - p));
        const logits = tf.tensor2d([[q, 0]]);
        const labels = tf.tensor1d([0], 'int32');
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mixedLoss(x, labels, { alpha: c.alpha, beta: c.beta }) as tf.Scalar)(
          logits,
        );
        const g = grad.dataSync();
        expect(value.dataSync()[0]).toBeCloseTo(c.loss[i], 4);
        expect(Math.abs(g[0])).toBeCloseTo(c.gradient[i], 5);
        tf.dispose([logits, labels, value, grad]);
      }
    }
  });

  it('the gradient peaks at p_y = F (Eq. 14), and at p_y → 0 for F = 0', () => {
    for (const c of curves) {
      const peak = c.p[c.gradient.indexOf(Math.max(...c.gradient))];
      expect(Math.abs(peak - (c.F === 0 ? c.p[0] : c.F))).toBeLessThanOrEqual(1 / 200);
    }
    expect(curves[5]).toMatchObject({ alpha: 0, beta: 1 });
    expect(curves[3].beta).toBeCloseTo(2.5, 12);
  });

  it('normalizePeak scales every curve to a peak of 1; bad input is an Error', () => {
    for (const c of focusCurves([0.1, 0.4, 0.5], { points: 1000, normalizePeak: true })) expect(Math.max(...c.gradient)).toBeCloseTo(1, 5);
    expect(() => focusCurves([0.7])).toThrow(/F must be a number in \[0, 0.5\], got 0.7/);
    expect(() => focusCurves([0.1], { points: 1 })).toThrow(/points must be an integer >= 2/);
  });
});

describe('p_y buckets', () => {
  it('targetProbabilities: p_y as softmax in float64, and argmax = y', () => {
    const rows = [
      [2, 1, 0.1],
      [0.5, 3, -1],
      [-2, 0, 4],
    ];
    const y = [0, 0, 2];
    const [logits, labels] = [tf.tensor2d(rows), tf.tensor1d(y, 'int32')];
    const before = tf.memory().numTensors;
    const { p, correct } = targetProbabilities(logits, labels);
    expect(tf.memory().numTensors).toBe(before); // nothing left behind
    tf.dispose([logits, labels]);
    rows.forEach((r, i) => {
      const z = r.reduce((s, v) => s + Math.exp(v), 0);
      expect(p[i]).toBeCloseTo(Math.exp(r[y[i]]) / z, 6);
    });
    expect(Array.from(correct)).toEqual([1, 0, 1]);
  });

  it('bucketTransitions: three groups at the earlier epoch and how many are correct at the end', () => {
    const at = { p: [0.9, 0.1, 0.3, 0.05, 0.25, 0.19], correct: [1, 0, 0, 0, 0, 0] };
    const t = bucketTransitions(at, [1, 1, 0, 0, 1, 0]);
    expect(t).toEqual({
      threshold: 0.2,
      correct: { rows: 1, correctAtEnd: 1 },
      misclassifiedAbove: { rows: 2, correctAtEnd: 1 },
      misclassifiedBelow: { rows: 3, correctAtEnd: 1 },
    });
    expect(bucketTransitions(at, [0, 0, 0, 0, 0, 0], 0.1).misclassifiedBelow.rows).toBe(1);
    expect(() => bucketTransitions(at, [1, 0])).toThrow(/one entry per row/);
    expect(() => bucketTransitions(at, [1, 1, 0, 0, 1, 0], 1)).toThrow(/threshold must be in \(0, 1\)/);
  });
});

describe('mixloss focus-curves', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'mixloss.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
  it('prints the table of the paper’s six foci; a bad F is an Error', () => {
    const r = cli('focus-curves');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| 0\.4 \| 1\.000 \| 5\.000 \| 0\.40 \|/);
    const bad = cli('focus-curves', '--F', '0,0.6');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--F: each focus must be a number in \[0, 0\.5\], got '0\.6'/);
  });
});
