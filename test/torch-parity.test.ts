// PyTorch's own F.cross_entropy (1.13, Debian's python3-torch) on every combination of class
// weights, ignore_index, label smoothing, probability targets and reduction, from a fixture
// that scripts/fixtures/torch_cross_entropy.py writes: values and gradients must match.
import * as fs from 'fs';
import * as path from 'path';

import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy } from '../src';
import { tf, useTestBackend, withSeparateBackward } from './support/tf';

interface Fixture {
  torch: string;
  B: number;
  C: number;
  logits: number[];
  ids: number[];
  validIds: number[];
  weight: number[];
  probs: number[];
  cases: Array<{
    target: 'ids' | 'ids+ignore' | 'probs';
    weight: boolean;
    labelSmoothing: number;
    reduction: 'none' | 'sum' | 'mean';
    value: number[];
    grad: number[];
  }>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'torch-cross-entropy.json'), 'utf8')) as Fixture;

describe(`crossEntropy against PyTorch ${fixture.torch}'s F.cross_entropy`, () => {
  beforeAll(useTestBackend);
  const { B, C } = fixture;

  for (const c of fixture.cases) {
    const name = `${c.target}${c.weight ? ', weight' : ''}${c.labelSmoothing ? `, label_smoothing ${c.labelSmoothing}` : ''}, ${c.reduction}`;
    it(`${name}: value and gradient (both gradient paths)`, () => {
      for (const path of [(fn: () => void) => fn(), withSeparateBackward]) {
        path(() => {
          const x = tf.tensor2d(fixture.logits, [B, C]);
          const labels =
            c.target === 'probs'
              ? tf.tensor2d(fixture.probs, [B, C])
              : tf.tensor1d(c.target === 'ids' ? fixture.validIds : fixture.ids, 'int32');
          const options = {
            reduction: c.reduction,
            labelSmoothing: c.labelSmoothing,
            ...(c.weight ? { classWeights: fixture.weight } : {}),
            ...(c.target === 'ids+ignore' ? { ignoreIndex: -100 } : {}),
          };
          const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(crossEntropy(v, labels, options)))(x);
          const perRow = crossEntropy(x, labels, options);
          const got = Array.from(perRow.dataSync());
          expect(got.length).toBe(c.value.length);
          got.forEach((v, i) => expect(Math.abs(v - c.value[i])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(c.value[i]))));
          expect(Math.abs(value.dataSync()[0] - c.value.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(1e-5);
          Array.from(grad.dataSync()).forEach((g, i) => expect(Math.abs(g - c.grad[i]), `entry ${i}`).toBeLessThanOrEqual(2e-6));
          tf.dispose([x, labels, value, grad, perRow]);
        });
      }
    });
  }
});
