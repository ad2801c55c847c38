// PyTorch's own F.cross_entropy (1.13, Debian's python3-torch) on every combination of class
// weights, ignore_index, label smoothing, probability targets and reduction, from a fixture
// that scripts/fixtures/torch_cross_entropy.py writes: values and gradients must match. The same
// on PyTorch's [N, C, d1, d2] layout (axis 1) and on one unbatched row (input [C]).
import * as fs from 'fs';
import * as path from 'path';

import { beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy } from '../src';
import { tf, useTestBackend, withSeparateBackward } from './support/tf';

interface TorchCase {
  target: 'ids' | 'ids+ignore' | 'probs';
  weight: boolean;
  labelSmoothing: number;
  reduction: 'none' | 'sum' | 'mean';
  shape?: number[];
  value: number[];
  grad: number[];
}

interface Fixture {
  torch: string;
  B: number;
  C: number;
  logits: number[];
  ids: number[];
  validIds: number[];
  weight: number[];
  probs: number[];
  cases: TorchCase[];
  /** PyTorch's [N, C, d1, d2] layout: mixloss's axis 1. */
  spatial: { shape: number[]; logits: number[]; ids: number[]; validIds: number[]; probs: number[]; cases: TorchCase[] };
  /** One unbatched row: input [C], a class id or probabilities [C]. */
  unbatched: { logits: number[]; id: number; probs: number[]; cases: TorchCase[] };
}

const caseName = (c: TorchCase) =>
  `${c.target}${c.weight ? ', weight' : ''}${c.labelSmoothing ? `, label_smoothing ${c.labelSmoothing}` : ''}, ${c.reduction}`;

/** The op's value (its shape too), the sum's value and the gradient against PyTorch's, on both gradient paths. */
function matchesTorch(c: TorchCase, x: () => tf.Tensor, labels: () => tf.Tensor | number, options: Record<string, unknown>) {
  for (const run of [(fn: () => void) => fn(), withSeparateBackward]) {
    run(() => {
      const q = x(),
        y = labels();
      const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => tf.sum(crossEntropy(v, y, options)))(q);
      const out = crossEntropy(q, y, options);
      if (c.shape !== undefined) expect(out.shape).toEqual(c.shape);
      const got = Array.from(out.dataSync());
      expect(got.length).toBe(c.value.length);
      got.forEach((v, i) => expect(Math.abs(v - c.value[i])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(c.value[i]))));
      expect(Math.abs(value.dataSync()[0] - c.value.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(1e-5);
      Array.from(grad.dataSync()).forEach((g, i) => expect(Math.abs(g - c.grad[i]), `entry ${i}`).toBeLessThanOrEqual(2e-6));
      tf.dispose([q, value, grad, out, ...(y instanceof tf.Tensor ? [y] : [])]);
    });
  }
}

const torchOptions = (c: TorchCase, weight: number[], extra: Record<string, unknown> = {}) => ({
  reduction: c.reduction,
  labelSmoothing: c.labelSmoothing,
  ...(c.weight ? { classWeights: weight } : {}),
  ...(c.target === 'ids+ignore' ? { ignoreIndex: -100 } : {}),
  ...extra,
});

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'torch-cross-entropy.json'), 'utf8')) as Fixture;

describe(`crossEntropy against PyTorch ${fixture.torch}'s F.cross_entropy`, () => {
  beforeAll(useTestBackend);
  const { B, C } = fixture;

  for (const c of fixture.cases) {
    it(`${caseName(c)}: value and gradient (both gradient paths)`, () =>
      matchesTorch(
        c,
        () => tf.tensor2d(fixture.logits, [B, C]),
        () =>
          c.target === 'probs'
            ? tf.tensor2d(fixture.probs, [B, C])
            : tf.tensor1d(c.target === 'ids' ? fixture.validIds : fixture.ids, 'int32'),
        torchOptions(c, fixture.weight),
      ));
  }
});

describe(`crossEntropy with axis 1 against PyTorch ${fixture.torch}'s F.cross_entropy on [N, C, d1, d2]`, () => {
  beforeAll(useTestBackend);
  const sp = fixture.spatial;
  const [N, C, S1, S2] = sp.shape;
  for (const c of sp.cases) {
    it(`${caseName(c)}: value (shape [N, d1, d2] under 'none') and gradient`, () =>
      matchesTorch(
        c,
        () => tf.tensor4d(sp.logits, [N, C, S1, S2]),
        () =>
          c.target === 'probs'
            ? tf.tensor4d(sp.probs, [N, C, S1, S2])
            : tf.tensor3d(c.target === 'ids' ? sp.validIds : sp.ids, [N, S1, S2], 'int32'),
        torchOptions(c, fixture.weight, { axis: 1 }),
      ));
  }
});

describe(`crossEntropy on one unbatched row against PyTorch ${fixture.torch}'s F.cross_entropy on input [C]`, () => {
  beforeAll(useTestBackend);
  const row = fixture.unbatched;
  for (const c of row.cases) {
    it(`${caseName(c)}: value and gradient`, () =>
      matchesTorch(
        c,
        () => tf.tensor1d(row.logits),
        () => (c.target === 'probs' ? tf.tensor1d(row.probs) : row.id),
        torchOptions(c, fixture.weight),
      ));
  }
});
