// Bad input throws an Error that names the problem, before any kernel runs, and leaks nothing.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { crossEntropy, focalLoss, focusSchedule, focusToWeights, generalizedCrossEntropy, mixedLoss } from '../src';
import { tf, useTestBackend } from './support/tf';

beforeAll(useTestBackend);


const q = () => tf.tensor2d([[1, 2, 3], [0, 0, 0]]);

function throwsWith(fn: () => unknown, pattern: RegExp) {
  const t = tf.tidy(() => {
    let error: unknown;
    try { fn(); } catch (e) { error = e; }
    return error;
  });
  expect(t).toBeInstanceOf(Error);
  expect((t as Error).message).toMatch(pattern);
}

describe('bad input', () => {
  // Every check fails before a kernel runs and leaves no tensor behind.
  let before = 0;
  beforeEach(() => { before = tf.memory().numTensors; });
  afterEach(() => { expect(tf.memory().numTensors).toBe(before); });

  describe('logits', () => {
    it('wrong rank', () => throwsWith(() => mixedLoss(tf.tensor1d([1, 2]), [0]), /logits must be 2-D \[batch, classes\], got shape \[2\]/));
    it('rank 3', () => throwsWith(() => mixedLoss(tf.zeros([2, 2, 2]), [0, 1]), /logits must be 2-D/));
    it('wrong dtype', () => throwsWith(() => mixedLoss(tf.tensor2d([[1, 2]], [1, 2], 'int32'), [0]), /logits must be float32, got int32/));
    it('empty batch', () => throwsWith(() => mixedLoss(tf.zeros([0, 3]), tf.zeros([0], 'int32')), /empty batch/));
    it('zero classes', () => throwsWith(() => mixedLoss(tf.zeros([2, 0]), [0, 0]), /0 classes/));
    it('not a tensor', () => throwsWith(() => mixedLoss([[1, 2]] as unknown as tf.Tensor, [0]), /logits must be a tf.Tensor/));
    it('a disposed tensor', () => {
      const t = q();
      t.dispose();
      throwsWith(() => mixedLoss(t, [0, 1]), /logits is a disposed tensor/);
    });
  });

  describe('labels', () => {
    it('out of range (too large)', () => throwsWith(() => mixedLoss(q(), [0, 3]), /label 3(\.0+)? at row 1 is not a class id in \[0, 3\)/));
    it('out of range (negative)', () => throwsWith(() => mixedLoss(q(), [-1, 0]), /label -1(\.0+)? at row 0/));
    it('non-integer float ids', () => throwsWith(() => mixedLoss(q(), tf.tensor1d([0.5, 1])), /label 0\.5(0*)? at row 0/));
    it('NaN float ids', () => throwsWith(() => mixedLoss(q(), tf.tensor1d([NaN, 1])), /label nan at row 0/i));
    it('length mismatch', () => throwsWith(() => mixedLoss(q(), [0, 1, 2]), /labels have 3 rows but logits have 2/));
    it('dense targets of the wrong width', () => throwsWith(() => mixedLoss(q(), tf.zeros([2, 4])), /targets \[batch, 3\]; got shape \[2, 4\]/));
    it('wrong dtype', () => throwsWith(() => mixedLoss(q(), tf.tensor1d([true, false], 'bool')), /labels must be int32 or float32, got bool/));
    it('dense targets for a class-id-only loss', () => throwsWith(() => focalLoss(q(), tf.zeros([2, 3])), /takes class ids \[batch\] only/));
  });

  describe('parameters', () => {
    for (const [name, opts, pattern] of [
      ['NaN alpha', { alpha: NaN }, /alpha must be a finite number >= 0, got NaN/],
      ['infinite beta', { beta: Infinity }, /beta must be a finite number >= 0, got Infinity/],
      ['negative beta', { beta: -1 }, /beta must be a finite number >= 0, got -1/],
      ['string alpha', { alpha: '1' }, /alpha must be a finite number/],
      ['unknown reduction', { reduction: 'avg' }, /reduction must be 'none', 'sum' or 'mean', got "avg"/],
    ] as const) {
      it(name, () => throwsWith(() => mixedLoss(q(), [0, 1], opts as never), pattern));
    }
    it('GCE q outside (0, 1]', () => throwsWith(() => generalizedCrossEntropy(q(), [0, 1], { q: 0 }), /q must be in \(0, 1\]/));
    it('focus outside [0, 0.5]', () => throwsWith(() => focusToWeights(0.6), /F must be a number in \[0, 0.5\], got 0.6/));
    it('unknown schedule', () => throwsWith(() => focusSchedule('F=1' as never), /unknown schedule "F=1"/));
    it('progress outside [0, 1]', () => throwsWith(() => focusSchedule('F=0-0.5').at(1.5), /progress must be in \[0, 1\], got 1.5/));
  });

  describe('after an error', () => {
    it('the engine still works and gradients are still right', () => {
      throwsWith(() => crossEntropy(q(), [0, 7]), /label 7/);
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => crossEntropy(x, [0]))(tf.tensor2d([[2, 1, 0.1]])).dataSync());
      expect(g[1]).toBeCloseTo(0.242432970705, 6);
    });
  });
});
