// The worked values of the spec (float64, checked against central differences to 1e-9).
import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy } from '../src';
import { WORKED_CASES as cases } from './support/worked-cases';
import { tf, useTestBackend } from './support/tf';

describe('worked values of the spec', () => {
  beforeAll(useTestBackend);

  for (const c of cases) {
    it(`${c.name}: value and gradient`, () => {
      const logits = tf.tensor2d([c.logits]);
      const labels = tf.tensor1d([c.label], 'int32');
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => c.fn(q, labels))(logits);
      expect(value.dataSync()[0]).toBeCloseTo(c.value, 6);
      const g = grad.dataSync();
      c.grad.forEach((gj, j) => expect(g[j]).toBeCloseTo(gj, 6));
      tf.dispose([logits, labels, value, grad]);
    });
  }

  it('CE with a label-smoothed dense target', () => {
    const t = [1 - 0.1 + 0.1 / 3, 0.1 / 3, 0.1 / 3];
    const logits = tf.tensor2d([[2, 1, 0.1]]);
    const target = tf.tensor2d([t]);
    const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => crossEntropy(q, target))(logits);
    expect(value.dataSync()[0]).toBeCloseTo(0.513696682945, 6);
    const expected = [-0.274332194447, 0.209099637371, 0.065232557076];
    const g = grad.dataSync();
    expected.forEach((gj, j) => expect(g[j]).toBeCloseTo(gj, 6));
    tf.dispose([logits, target, value, grad]);
  });

  it("reduction 'mean' divides value and gradient by B", () => {
    const logits = tf.tensor2d([
      [2, 1, 0.1],
      [2, 1, 0.1],
    ]);
    const labels = tf.tensor1d([0, 0], 'int32');
    const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => crossEntropy(q, labels))(logits);
    expect(value.dataSync()[0]).toBeCloseTo(0.417030016278, 6);
    expect(grad.dataSync()[0]).toBeCloseTo(-0.340998861114 / 2, 6);
    tf.dispose([logits, labels, value, grad]);
  });
});
