// Bad input throws an Error that names the problem, before any kernel runs, and leaves nothing
// behind: no tensor, no backend buffer (a wasm output allocated and never finished counts), no
// pending gradient. The call runs outside any tf.tidy, so the counts see the op's own tensors.
import { beforeAll, describe, expect, it, vi } from 'vitest';

import {
  crossEntropy,
  expectationLoss,
  focalLoss,
  FocusSchedule,
  focusSchedule,
  FocusScheduleCallback,
  focusToWeights,
  generalizedCrossEntropy,
  alignmentCandidates,
  bucketTransitions,
  complementObjectiveStep,
  cudaLoss,
  DeviceTensor,
  InformationLossState,
  informationLossForLayers,
  transitionFactor,
  configureGradientPool,
  focusCurves,
  InformationDiagnostics,
  informationChart,
  kernelAlignment,
  layersLosses,
  metrics,
  mixedLoss,
  mixedLossForLayers,
  MixtureState,
  peakGradient,
  polyLoss,
  scheduledMixedLoss,
  setNumThreads,
  silvermanWidth,
  tamedCrossEntropy,
  targetProbabilities,
  WidthSelector,
  mpceLoss,
  losses as tfLosses,
  linearCrossEntropy,
  renyiEntropy,
  renyiMutualInformation,
} from '../src';
import { FUSED_LOSS, FUSED_LOSS_GRAD, STATS_TRAILER } from '../src/kernels/attrs';
import { ensureKernels } from '../src/kernels/register';
import { LOSSES } from './support/losses';
import { backendCounts, tf, thrownBy, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

/**
 * Calls `call` on `inputs` (made before the counts are taken), expects an Error matching
 * `pattern`, and that nothing was left behind; then disposes the inputs.
 */
function rejects(pattern: RegExp, call: (...inputs: tf.Tensor[]) => unknown, ...inputs: tf.Tensor[]) {
  const before = backendCounts();
  const error = thrownBy(() => call(...inputs));
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toMatch(pattern);
  expect(backendCounts()).toEqual(before);
  tf.dispose(inputs);
}

const q = () =>
  tf.tensor2d([
    [1, 2, 3],
    [0, 0, 0],
  ]);

describe('bad input', () => {
  describe('logits', () => {
    it('a scalar has no class axis', () =>
      rejects(
        /logits must have a class axis: \[classes\], \[batch, classes\] or \[batch, ..., classes\]/,
        (x) => mixedLoss(x, 0),
        tf.scalar(1),
      ));
    it('unbatched logits [C] take a scalar class id (or targets [C]), not a batch of them', () =>
      rejects(
        /labels must be class ids \[\] \(a scalar\) or \[1\], or targets \[2\]; got shape \[3\]/,
        (x) => mixedLoss(x, [0, 1, 0]),
        tf.tensor1d([1, 2]),
      ));
    it('rank 3 with labels of the wrong rows', () =>
      rejects(
        /labels of shape \[2, 3\] do not match logits' rows \[2, 2\]/,
        (x, y) => mixedLoss(x, y),
        tf.zeros([2, 2, 2]),
        tf.zeros([2, 3], 'int32'),
      ));
    it('an unknown option', () =>
      rejects(
        /mixloss\.crossEntropy: unknown option 'label_smoothing' \(it takes: reduction, weights, classWeights, ignoreIndex, labelSmoothing, zLoss, softcap, device, axis, where, checkTargets\)/,
        (x) => crossEntropy(x, [0, 1], { label_smoothing: 0.1 } as never),
        q(),
      ));
    it('wrong dtype', () =>
      rejects(/logits must be float32 or int32, got bool/, (x) => mixedLoss(x, [0]), tf.tensor2d([[true, false]], [1, 2], 'bool')));
    it('empty batch', () => rejects(/empty batch/, (x, y) => mixedLoss(x, y), tf.zeros([0, 3]), tf.zeros([0], 'int32')));
    it('zero classes', () => rejects(/0 classes/, (x) => mixedLoss(x, [0, 0]), tf.zeros([2, 0])));
    it('not a tensor or a tensor-like', () =>
      rejects(/logits must be a tf.Tensor or a tensor-like \(a number, a nested array, a TypedArray\), got object/, () =>
        mixedLoss({ x: 1 } as never, [0]),
      ));
    it('a ragged nested array', () =>
      rejects(/mixloss\.mixedLoss: logits must be a rectangular nested array: an element at depth 1 has 1 entries, expected 2/, () =>
        mixedLoss([[1, 2], [3]] as never, [0, 1]),
      ));
    it('a disposed tensor', () => {
      const t = q();
      t.dispose();
      rejects(/logits is a disposed tensor/, () => mixedLoss(t, [0, 1]));
    });
  });

  describe('label tensors (checked natively, before the kernel computes anything)', () => {
    it('out of range (too large)', () =>
      rejects(/label 3(\.0+)? at row 1 is not a class id in \[0, 3\)/, (x, y) => mixedLoss(x, y), q(), tf.tensor1d([0, 3], 'int32')));
    it('out of range (negative)', () => rejects(/label -1(\.0+)? at row 0/, (x, y) => mixedLoss(x, y), q(), tf.tensor1d([-1, 0], 'int32')));
    it('non-integer float ids', () => rejects(/label 0\.5(0*)? at row 0/, (x, y) => mixedLoss(x, y), q(), tf.tensor1d([0.5, 1])));
    it('NaN float ids', () => rejects(/label nan at row 0/i, (x, y) => mixedLoss(x, y), q(), tf.tensor1d([NaN, 1])));
    it('[B, 1] ids out of range', () =>
      rejects(/label 7(\.0+)? at row 1/, (x, y) => crossEntropy(x, y), q(), tf.tensor2d([[0], [7]], [2, 1], 'int32')));
    it('an Int32Array out of range', () => rejects(/label 9(\.0+)? at row 0/, (x) => crossEntropy(x, Int32Array.from([9, 0])), q()));
    it('length mismatch', () => rejects(/labels have 3 rows but logits have 2/, (x) => mixedLoss(x, [0, 1, 2]), q()));
    it('dense targets of the wrong width', () =>
      rejects(/targets \[batch, 3\]; got shape \[2, 4\]/, (x, y) => mixedLoss(x, y), q(), tf.zeros([2, 4])));
    it('wrong dtype', () =>
      rejects(/labels must be int32 or float32, got bool/, (x, y) => mixedLoss(x, y), q(), tf.tensor1d([true, false], 'bool')));
    it('a string tensor', () =>
      rejects(/labels must be int32 or float32, got string/, (x, y) => mixedLoss(x, y), q(), tf.tensor1d(['a', 'b'])));
    it('a disposed label tensor', () => {
      const y = tf.tensor1d([0, 1], 'int32');
      y.dispose();
      rejects(/labels is a disposed tensor/, (x) => mixedLoss(x, y), q());
    });
    it('labels of rank 3', () =>
      rejects(
        /labels must be class ids \[batch\] or \[batch, 1\], or targets \[batch, 3\]; got shape \[2, 1, 1\]/,
        (x, y) => mixedLoss(x, y),
        q(),
        tf.zeros([2, 1, 1], 'int32'),
      ));
    it('one class: [B, 1] labels are class ids, int32 or float32, for every op', () => {
      for (const dtype of ['int32', 'float32'] as const) {
        for (const op of [crossEntropy, focalLoss]) {
          rejects(
            /label 1(\.0+)? at row 0 is not a class id in \[0, 1\)/,
            (x, y) => op(x, y),
            tf.tensor2d([[0.5], [1]]),
            tf.tensor2d([[1], [0]], [2, 1], dtype),
          );
          const x = tf.tensor2d([[0.5], [1]]),
            y = tf.tensor2d([[0], [0]], [2, 1], dtype);
          expect(Array.from(op(x, y, { reduction: 'none' }).dataSync())).toEqual([0, 0]);
          tf.dispose([x, y]);
        }
      }
    });
    it('one class: a sum of losses on one tape with all-zero float [B, 1] labels leaves nothing behind', () => {
      const x = tf.tensor2d([[0.5], [1], [2]]),
        y = tf.zeros([3, 1]);
      const before = backendCounts();
      const g = tf.grad((v: tf.Tensor) => tf.add(tf.add(crossEntropy(v, y), focalLoss(v, y)), expectationLoss(v, y)))(x);
      expect(Array.from(g.dataSync())).toEqual([0, 0, 0]);
      g.dispose();
      expect(backendCounts()).toEqual(before);
      tf.dispose([x, y]);
    });
    it('dense targets for a class-id-only loss', () =>
      rejects(/takes class ids \[batch\] only/, (x, y) => tamedCrossEntropy(x, y), q(), tf.zeros([2, 3])));
    it('complex64 or bool class or sample weights (a cast would keep the real part)', () => {
      // tf.complex has no wasm kernel: complex64 tensors exist on the cpu backend only.
      if (tf.getKernel('Complex', tf.getBackend()) !== undefined) {
        rejects(
          /classWeights must be float32 or int32, got complex64/,
          (x, w) => crossEntropy(x, [0, 1], { classWeights: w }),
          q(),
          tf.complex([1, 1, 1], [0, 0, 0]),
        );
        rejects(
          /weights must be float32 or int32, got complex64/,
          (x, w) => crossEntropy(x, [0, 1], { weights: w }),
          q(),
          tf.complex([1, 1], [0, 0]),
        );
      }
      rejects(
        /classWeights must be float32 or int32, got bool/,
        (x, w) => crossEntropy(x, [0, 1], { classWeights: w }),
        q(),
        tf.tensor1d([true, true, false], 'bool'),
      );
      rejects(
        /weights must be float32 or int32, got bool/,
        (x, w) => crossEntropy(x, [0, 1], { weights: w }),
        q(),
        tf.tensor1d([true, true], 'bool'),
      );
    });
    it('labels of another type', () =>
      rejects(
        /labels must be a tf.Tensor, class ids \(a number, a nested array, an Int32Array\) or targets \(a nested array\)/,
        (x) => mixedLoss(x, 'a' as never),
        q(),
      ));
  });

  // Issue 8: dense labels must be targets; logits passed in their place (tf.losses' argument
  // order, labels first) are caught from the row statistics, after the kernel's pass but before
  // any output is handed back.
  describe('dense labels that are not targets', () => {
    const order = /check the argument order/;
    const onehot = () =>
      tf.tensor2d([
        [1, 0, 0],
        [0, 0, 1],
      ]);
    it('crossEntropy(onehot, logits): the arguments of tf.losses', () =>
      rejects(/mixloss\.crossEntropy: labels row 0 sums to 6, so the labels are not targets/, (t, x) => crossEntropy(t, x), onehot(), q()));
    it('and the message names the order', () => rejects(order, (t, x) => mixedLoss(t, x), onehot(), q()));
    it('losses.softmaxCrossEntropy(logits, onehot), swapped', () =>
      rejects(order, (x, t) => tfLosses.softmaxCrossEntropy(x, t), q(), onehot()));
    it('a negative entry in a row summing to 1', () =>
      rejects(
        /labels row 1 has an entry -0\.5, so the labels are not targets/,
        (x, t) => crossEntropy(x, t),
        q(),
        tf.tensor2d([
          [1, 0, 0],
          [1.5, -0.5, 0],
        ]),
      ));
    it('a NaN target', () =>
      rejects(
        /labels row 0 sums to NaN/,
        (x, t) => crossEntropy(x, t),
        q(),
        tf.tensor2d([
          [NaN, 1, 0],
          [0, 0, 1],
        ]),
      ));
    it('int32 targets summing to 2 (multi-hot)', () =>
      rejects(
        /labels row 0 sums to 2\b.*use the weights option/,
        (x, t) => expectationLoss(x, t),
        q(),
        tf.tensor2d(
          [
            [1, 1, 0],
            [0, 0, 1],
          ],
          [2, 3],
          'int32',
        ),
      ));
    it('inside tf.grad and optimizer.minimize: nothing left on the tape', () => {
      rejects(order, (t, x) => tf.grad((v: tf.Tensor) => crossEntropy(t, v))(x), onehot(), q());
      const w = tf.variable(
        tf.tensor2d([
          [1, -2, 3],
          [0, 4, -1],
        ]),
      );
      const opt = tf.train.sgd(0.1);
      rejects(order, (t) => opt.minimize(() => crossEntropy(t, w)), onehot());
      w.dispose();
      opt.dispose();
    });
    it('targets that are distributions pass: soft, one-hot, all-zero rows, sums within 1e-3 of 1', () => {
      const x = q();
      for (const rows of [
        [
          [0.2, 0.3, 0.5],
          [0, 0, 1],
        ],
        [
          [0, 0, 0],
          [0, 1, 0],
        ],
        [
          [0.3333, 0.3333, 0.3333],
          [0.5, 0.5, 0.0004],
        ],
      ]) {
        const t = tf.tensor2d(rows);
        expect(Number.isFinite(crossEntropy(x, t).dataSync()[0])).toBe(true);
        t.dispose();
      }
      x.dispose();
    });
    it("the same rule with labelSmoothing and classWeights: the caller's targets are checked before either changes them", () => {
      const t = () =>
        tf.tensor2d([
          [2, 0, 0],
          [0, 0, 1],
        ]);
      rejects(/labels row 0 sums to 2, so the labels are not targets/, (x, y) => crossEntropy(x, y, { labelSmoothing: 0.1 }), q(), t());
      rejects(/labels row 0 sums to 2, so the labels are not targets/, (x, y) => crossEntropy(x, y, { classWeights: [1, 1, 1] }), q(), t());
      rejects(
        /labels row 1 has an entry -0\.5/,
        (x, y) => crossEntropy(x, y, { classWeights: [1, 2, 1], labelSmoothing: 0.2 }),
        q(),
        tf.tensor2d([
          [1, 0, 0],
          [0.5, 1, -0.5],
        ]),
      );
    });
  });

  describe('softmax outputs passed as logits', () => {
    it('warn once per process, naming the op and the fix; logits are left alone', async () => {
      const { resetWarnings } = await import('../src/kernels/input_checks');
      resetWarnings();
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const logits = tf.tensor2d([
          [2, 1, 0.1],
          [0.5, -1, 3],
          [0, 0, 0],
        ]);
        const probabilities = tf.softmax(logits);
        const y = tf.tensor1d([0, 2, 1], 'int32');
        crossEntropy(logits, y).dispose();
        crossEntropy(
          tf.tensor2d([
            [0.3, 0.7],
            [0.5, 0.6],
          ]),
          [0, 1],
        ).dispose(); // the second row sums to 1.1
        crossEntropy(
          tf.tensor2d([
            [0.3, 0.7],
            [1.5, -0.5],
          ]),
          [0, 1],
        ).dispose(); // outside [0, 1]
        expect(warn).not.toHaveBeenCalled();
        crossEntropy(
          tf.tensor2d([
            [0.3, 0.7],
            [0.5, 0.5],
          ]),
          [0, 1],
        ).dispose();
        expect(warn).toHaveBeenCalledTimes(1);
        resetWarnings();
        warn.mockClear();
        focalLoss(probabilities, y).dispose();
        mixedLoss(probabilities, y).dispose();
        expect(warn).toHaveBeenCalledTimes(1);
        expect(String(warn.mock.calls[0][0])).toMatch(
          /^mixloss\.focalLoss: the logits look like probabilities .*remove the softmax activation of the last layer/,
        );
        expect(warn.mock.calls[0][1]).toEqual({ code: 'MIXLOSS_SOFTMAX_AS_LOGITS' });
        // A call that throws does not spend the warning: tf.losses' argument order (one-hot
        // targets in the logits' place, logits in the labels') fails, and the real mistake
        // that comes later still gets its warning.
        resetWarnings();
        warn.mockClear();
        const onehot = tf.oneHot(y, 3).toFloat();
        expect(() => crossEntropy(onehot, logits)).toThrow(/check the argument order/);
        expect(warn).not.toHaveBeenCalled();
        mixedLoss(probabilities, y).dispose();
        expect(warn).toHaveBeenCalledTimes(1);
        tf.dispose([logits, probabilities, y, onehot]);
      } finally {
        warn.mockRestore();
        resetWarnings();
      }
    });
  });

  // Issue 14: tf.tensor silently turned 1.5 into 1, NaN/null/undefined/−0.5/2^32 into 0 and
  // "1"/true into 1. Every non-integer or non-numeric label now throws, naming row and value.
  describe('number[] labels are integers in [0, C), never coerced', () => {
    for (const [bad, shown, integer] of [
      [1.5, '1.5', false],
      [NaN, 'NaN', false],
      [-0.5, '-0.5', false],
      [2 ** 32, '4294967296', true],
      [2 ** 31, '2147483648', true],
      [3, '3', true],
      [-1, '-1', true],
      [Infinity, 'Infinity', false],
      [null, 'null (object)', false],
      [undefined, 'undefined (undefined)', false],
      ['1', '"1" (string)', false],
      [true, 'true (boolean)', false],
    ] as Array<[unknown, string, boolean]>) {
      it(`${shown}`, () =>
        rejects(
          new RegExp(
            `label ${shown.replace(/[()"]/g, '\\$&')} at row 1 is not a class id` +
              (integer ? ' in \\[0, 3\\)$' : ': class ids must be integers$'),
          ),
          (x) => crossEntropy(x, [0, bad] as number[]),
          q(),
        ));
    }
    it('a valid number[] is accepted, −0 included', () => {
      const x = q();
      expect(crossEntropy(x, [2, -0], { reduction: 'none' }).dataSync()[1]).toBeCloseTo(Math.log(3), 6);
      x.dispose();
    });
  });

  describe('inside tf.grad: a bad label leaks nothing the tape holds (issue 14)', () => {
    it('[B, 1] class ids with a bad value', () =>
      rejects(
        /label 7(\.0+)? at row 1/,
        (x, y) => tf.grad((v: tf.Tensor) => crossEntropy(v, y))(x),
        q(),
        tf.tensor2d([[0], [7]], [2, 1], 'int32'),
      ));
    it('float ids with a bad value, under valueAndGrad', () =>
      rejects(/label 0\.5/, (x, y) => tf.valueAndGrad((v: tf.Tensor) => mixedLoss(v, y))(x), q(), tf.tensor2d([[0.5], [1]])));
    // The op records stock ops on the tape before its kernel finds the bad label (a reshape of
    // rows of more than one axis, the class axis moved): the tape keeps copies of their
    // inputs for the backward pass, which the throw must not leave behind.
    it('rows of two axes (a reshape before the kernel)', () =>
      rejects(
        /label 9 at row 1/,
        (x, y) => tf.grad((v: tf.Tensor) => crossEntropy(v, y))(x),
        tf.zeros([2, 3, 4]),
        tf.tensor2d([
          [0, 9, 1],
          [1, 1, 1],
        ]),
      ));
    it('the class axis at 1 (a transpose before the kernel)', () =>
      rejects(
        /label 9 at row 1/,
        (x, y) => tf.grad((v: tf.Tensor) => crossEntropy(v, y, { axis: 1 }))(x),
        tf.zeros([2, 3, 4]),
        tf.tensor2d([
          [0, 9, 1, 2],
          [1, 1, 1, 1],
        ]),
      ));
    it('the fused head on hidden rows of two axes', () =>
      rejects(
        /label 9 at row 1/,
        (h, k, y) => tf.grads((a: tf.Tensor, b: tf.Tensor) => linearCrossEntropy(a, b, y))([h, k]),
        tf.ones([2, 3, 4]),
        tf.ones([4, 5]),
        tf.tensor2d([
          [0, 9, 1],
          [1, 1, 1],
        ]),
      ));
    it('an information measure whose gradient is not finite, on a layer of rank 3', () => {
      // alpha < 1 diverges on a rank-deficient Gram matrix: two equal rows.
      const layer = tf.tensor3d(
        Array.from({ length: 24 }, (_, i) => (i < 12 ? i % 6 : i) / 10),
        [4, 2, 3],
      );
      const labels = tf.tensor1d([0, 1, 0, 1], 'int32');
      const notFinite = /the gradient is not finite: for alpha < 1/;
      rejects(
        notFinite,
        (x, y) => tf.grad((v: tf.Tensor) => renyiMutualInformation(y, v, { alpha: 0.5, width: 1 }))(x),
        layer.clone(),
        labels,
      );
      rejects(notFinite, (x) => tf.grad((v: tf.Tensor) => renyiEntropy(v, { alpha: 0.5, width: 1 }))(x), layer);
    });
    it('optimizer.minimize', () => {
      // The logits are the variable itself: a stock op recorded before the throw (a matMul,
      // say) would leave its own saved copies behind, which is tfjs's doing, not the loss's.
      const w = tf.variable(tf.zeros([2, 3]));
      const opt = tf.train.sgd(0.1);
      rejects(/label 5/, (y) => opt.minimize(() => crossEntropy(w, y)), tf.tensor1d([0, 5], 'int32'));
      w.dispose();
      opt.dispose();
    });
  });

  describe('kernel inputs forged past the op (issue 14: outputs were allocated, then leaked)', () => {
    const attrs = {
      loss: { kind: 'mixed', alpha: 1, beta: 1 },
      reduction: 'mean',
      meanOver: 'weights',
      dense: false,
      classWeights: false,
      device: 'cpu',
    };
    const run = (extra: object) => (x: tf.Tensor, y: tf.Tensor) => {
      ensureKernels(tf.getBackend());
      return tf.engine().runKernel(FUSED_LOSS, { logits: x, labels: y }, { ...attrs, ...extra });
    };
    for (const kind of ['cee', 4, '', 'Mixed']) {
      it(`an unknown loss kind (${JSON.stringify(kind)})`, () =>
        rejects(/unknown loss kind|loss.kind must be a string/, run({ loss: { kind } }), q(), tf.tensor1d([0, 1], 'int32')));
    }
    it('a negative alpha', () =>
      rejects(
        /alpha must be a number in \[0, inf\), got -1/,
        run({ loss: { kind: 'mixed', alpha: -1 } }),
        q(),
        tf.tensor1d([0, 1], 'int32'),
      ));
    it('beta below -alpha', () =>
      rejects(/beta must be >= -alpha/, run({ loss: { kind: 'mixed', alpha: 1, beta: -1.5 } }), q(), tf.tensor1d([0, 1], 'int32')));
    it('a non-finite parameter', () =>
      rejects(
        /gamma must be a number in \[0, inf\), got nan/,
        run({ loss: { kind: 'focal', gamma: NaN } }),
        q(),
        tf.tensor1d([0, 1], 'int32'),
      ));
    it('an unknown parameter', () =>
      rejects(
        /unknown parameter 'param0' for loss kind 'mixed'/,
        run({ loss: { kind: 'mixed', param0: 1 } }),
        q(),
        tf.tensor1d([0, 1], 'int32'),
      ));
    it('dense targets for focal', () =>
      rejects(/dense targets need a loss linear in the targets/, run({ loss: { kind: 'focal' }, dense: true }), q(), tf.zeros([2, 3])));
    it('a backward whose dy does not fit: the gradient computed in forward is freed, not leaked', () => {
      const x = q(),
        y = tf.tensor1d([0, 1], 'int32'),
        dy = tf.zeros([3]);
      ensureKernels(tf.getBackend());
      const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
      state.gradientDepth++; // as under tf.grad: the forward keeps a gradient for the backward
      let infos: tf.TensorInfo[];
      try {
        // the kernel itself, not runKernel: no tape to record on here
        const backend = tf.engine().backend;
        infos = tf
          .getKernel(FUSED_LOSS, tf.getBackend())!
          .kernelFunc({ inputs: { logits: x, labels: y }, attrs: { ...attrs, reduction: 'none' }, backend }) as tf.TensorInfo[];
      } finally {
        state.gradientDepth--;
      }
      const [loss, stats] = infos.map((i) => tf.engine().makeTensorFromTensorInfo(i));
      const saved = stats.dataSync()[stats.size - STATS_TRAILER]; // the pending gradient's token, first of the trailer
      expect(saved).toBeGreaterThan(0);
      const before = backendCounts();
      const error = thrownBy(() =>
        tf.engine().runKernel(FUSED_LOSS_GRAD, { logits: x, labels: y, stats, dy }, { ...attrs, reduction: 'none' }),
      );
      expect(error.message).toMatch(/dy must have 1 or rows elements/);
      // The pending gradient was taken and freed: on wasm it is a heap buffer (one data id).
      expect(backendCounts()).toEqual({
        tensors: before.tensors,
        pending: before.pending - 1,
        dataIds: before.dataIds - (tf.getBackend() === 'wasm' ? 1 : 0),
      });
      tf.dispose([x, y, dy, loss, stats]);
    });
    it('a label tensor of the wrong length', () =>
      rejects(/labels has 3 elements, expected 2/, run({}), q(), tf.tensor1d([0, 1, 2], 'int32')));
  });

  describe('parameters', () => {
    for (const [name, opts, pattern] of [
      ['NaN alpha', { alpha: NaN }, /mixloss\.mixedLoss: alpha must be a finite number in \[0, ∞\), got NaN/],
      ['infinite beta', { beta: Infinity }, /mixloss\.mixedLoss: beta must be a finite number in \(-∞, ∞\), got Infinity/],
      ['beta below -alpha', { beta: -1.5 }, /mixloss\.mixedLoss: beta must be >= -alpha/],
      ['string alpha', { alpha: '1' }, /alpha must be a finite number in \[0, ∞\), got "1" \(a string\)/],
      ['bare number as options', 5, /options must be an object, got 5/],
      ['null options', null, /mixloss\.mixedLoss: options must be an object, got null/],
      ['unknown reduction', { reduction: 'avg' }, /reduction must be 'none', 'sum' or 'mean', got "avg"/],
      ['unknown device', { device: 'gpu' }, /device must be 'auto', 'cpu' or 'cuda', got "gpu"/],
    ] as const) {
      it(name, () => rejects(pattern, (x) => mixedLoss(x, [0, 1], opts as never), q()));
    }
    for (const [name, call, pattern] of [
      [
        'GCE q = 0',
        (x: tf.Tensor) => generalizedCrossEntropy(x, [0, 1], { q: 0 }),
        /mixloss\.generalizedCrossEntropy: q must be a finite number in \(0, 1\], got 0/,
      ],
      ['GCE q > 1', (x: tf.Tensor) => generalizedCrossEntropy(x, [0, 1], { q: 1.5 }), /q must be a finite number in \(0, 1\], got 1.5/],
      [
        'GCE q NaN',
        (x: tf.Tensor) => generalizedCrossEntropy(x, [0, 1], { q: NaN }),
        /mixloss\.generalizedCrossEntropy: q must be a finite number in \(0, 1\], got NaN/,
      ],
      [
        'GCE truncation 1',
        (x: tf.Tensor) => generalizedCrossEntropy(x, [0, 1], { truncation: 1 }),
        /truncation must be a finite number in \[0, 1\), got 1/,
      ],
      [
        'focal γ < 0',
        (x: tf.Tensor) => focalLoss(x, [0, 1], { gamma: -1 }),
        /mixloss\.focalLoss: gamma must be a finite number in \[0, ∞\), got -1/,
      ],
      ['focal γ NaN', (x: tf.Tensor) => focalLoss(x, [0, 1], { gamma: NaN }), /gamma must be a finite number in \[0, ∞\), got NaN/],
      ['focal α < 0', (x: tf.Tensor) => focalLoss(x, [0, 1], { alpha: -0.25 }), /alpha must be a finite number in \[0, ∞\), got -0.25/],
      [
        'focal α of the wrong length',
        (x: tf.Tensor) => focalLoss(x, [0, 1], { alpha: [1, 2] }),
        /mixloss\.focalLoss: alpha must have shape \[3\] \(one per class\), got \[2\]/,
      ],
      [
        'focal α and classWeights',
        (x: tf.Tensor) => focalLoss(x, [0, 1], { alpha: [1, 2, 3], classWeights: [1, 1, 1] }),
        /as alpha or as classWeights, not both/,
      ],
      [
        'tamed a < 0',
        (x: tf.Tensor) => tamedCrossEntropy(x, [0, 1], { a: -0.5 }),
        /mixloss\.tamedCrossEntropy: a must be a finite number in \[0, ∞\), got -0.5/,
      ],
      [
        'tamed a infinite',
        (x: tf.Tensor) => tamedCrossEntropy(x, [0, 1], { a: Infinity }),
        /a must be a finite number in \[0, ∞\), got Infinity/,
      ],
      [
        'poly ε < -1',
        (x: tf.Tensor) => polyLoss(x, [0, 1], { epsilon: -1.5 }),
        /mixloss\.polyLoss: epsilon must be a finite number >= -1, got -1.5/,
      ],
      [
        'poly ε string',
        (x: tf.Tensor) => polyLoss(x, [0, 1], { epsilon: '1' as never }),
        /epsilon must be a finite number >= -1, got "1" \(a string\)/,
      ],
      [
        'smoothing > 1',
        (x: tf.Tensor) => crossEntropy(x, [0, 1], { labelSmoothing: 1.5 }),
        /mixloss\.crossEntropy: labelSmoothing must be a finite number in \[0, 1\], got 1.5/,
      ],
      [
        'smoothing on MPCE',
        (x: tf.Tensor) => mpceLoss(x, [0, 1], { labelSmoothing: 0.1 }),
        /mixloss\.mpceLoss: labelSmoothing needs a loss that is linear in the targets \(mixedLoss, crossEntropy, expectationLoss, polyLoss, maeLoss\) or focalLoss; mpceLoss is neither/,
      ],
      ['negative zLoss', (x: tf.Tensor) => crossEntropy(x, [0, 1], { zLoss: -1 }), /zLoss must be a finite number >= 0, got -1/],
      [
        'fractional ignoreIndex',
        (x: tf.Tensor) => crossEntropy(x, [0, 1], { ignoreIndex: 0.5 }),
        /ignoreIndex must be a finite number \(a 32-bit integer\), got 0.5/,
      ],
      [
        'negative class weight',
        (x: tf.Tensor) => crossEntropy(x, [0, 1], { classWeights: [1, -1, 1] }),
        /mixloss\.crossEntropy: classWeights\[1\] must be a finite number >= 0, got -1/,
      ],
      [
        'class weights of the wrong length',
        (x: tf.Tensor) => crossEntropy(x, [0, 1], { classWeights: [1, 1] }),
        /classWeights must have shape \[3\]/,
      ],
      ['EL reduction', (x: tf.Tensor) => expectationLoss(x, [0, 1], { reduction: 'max' as never }), /expectationLoss: reduction must be/],
    ] as const) {
      it(name, () => rejects(pattern, call, q()));
    }
    it('ignoreIndex on dense targets', () =>
      rejects(
        /mixloss\.crossEntropy: ignoreIndex is for class ids/,
        (x, y) => crossEntropy(x, y, { ignoreIndex: -100 }),
        q(),
        tf.zeros([2, 3]),
      ));
    it('a label out of range with ignoreIndex', () =>
      rejects(
        /label -5(\.0+)? at row 1 is not a class id in \[0, 3\) nor ignoreIndex -100/,
        (x, y) => crossEntropy(x, y, { ignoreIndex: -100 }),
        q(),
        tf.tensor1d([0, -5], 'int32'),
      ));
    it('sample weights that do not broadcast', () =>
      rejects(
        /mixloss\.crossEntropy: weights of shape \[3\] do not broadcast against the rows \[2\]/,
        (x) => crossEntropy(x, [0, 1], { weights: [1, 2, 3] }),
        q(),
      ));
    it('negative sample weights', () =>
      rejects(
        /mixloss\.crossEntropy: weights\[1\] must be a finite number >= 0, got -1/,
        (x) => crossEntropy(x, [0, 1], { weights: [1, -1] }),
        q(),
      ));
    it('MPCE on dense targets', () =>
      rejects(/mixloss\.mpceLoss: takes class ids \[batch\] only/, (x, y) => mpceLoss(x, y), q(), tf.zeros([2, 3])));
    it('null options on any op: an Error naming the op, not a TypeError', () => {
      for (const op of [
        crossEntropy,
        expectationLoss,
        mixedLoss,
        polyLoss,
        focalLoss,
        generalizedCrossEntropy,
        tamedCrossEntropy,
        mpceLoss,
      ]) {
        rejects(new RegExp(`^mixloss\\.${op.name}: options must be an object, got null`), (x) => op(x, [0, 1], null as never), q());
      }
    });
    it('every op names itself in its errors', () => {
      for (const loss of LOSSES)
        rejects(/^mixloss\.\w+: logits must be float32 or int32/, (x) => loss.op(x, [0]), tf.tensor2d([[true, false]], [1, 2], 'bool'));
    });
  });

  describe('schedules and the layers integration', () => {
    it('options that are not an object, unknown options, and what tfjs-layers passes called with other things', () => {
      const y = tf.tensor1d([0, 1], 'int32');
      const logits = q();
      const oneD = tf.tensor1d([1, 2]);
      const cases: Array<[RegExp, () => unknown]> = [
        [/mixloss\.focusToWeights: options must be an object, got null/, () => focusToWeights(0.2, null as never)],
        [/mixloss\.focusToWeights: unknown option 'normalisePeak'/, () => focusToWeights(0.2, { normalisePeak: true } as never)],
        [/mixloss\.focusSchedule: options must be an object, got 1/, () => focusSchedule('F=0', 1 as never)],
        [/mixloss\.focusSchedule: unknown option 'per'/, () => focusSchedule('F=0', { per: 'batch' } as never)],
        [/mixloss\.focusSchedule: unknown option 'bogus'/, () => new FocusSchedule([{ F: 0, until: 1 }], { bogus: 1 } as never)],
        [/mixloss\.scheduledMixedLoss: options must be an object, got null/, () => scheduledMixedLoss('F=0', null as never)],
        [/mixloss\.scheduledMixedLoss: unknown option 'epochs'/, () => scheduledMixedLoss('F=0', { epochs: 3 } as never)],
        [
          /mixloss\.FocusScheduleCallback: unknown option 'normalizePeak'/,
          () => new FocusScheduleCallback(new MixtureState(), focusSchedule('F=0'), { normalizePeak: true } as never),
        ],
        [/mixloss\.peakGradient: weights must be an object \{alpha, beta\}, got null/, () => peakGradient(null as never)],
        [/mixloss\.peakGradient: alpha must be a finite number, got "1"/, () => peakGradient({ alpha: '1', beta: 2 } as never)],
        [/mixloss\.configureGradientPool: options must be an object/, () => configureGradientPool(null as never)],
        [/mixloss\.focusCurves: options must be an object, got null/, () => focusCurves([0.1], null as never)],
        [
          /mixloss\.silvermanWidth: layer must be a tf\.Tensor \[N, D\] or \{layer: Float32Array, rows, dims\}/,
          () => silvermanWidth(null as never),
        ],
        [/mixloss\.silvermanWidth: layer must be a tf\.Tensor \[N, D\] \(rank >= 2/, () => silvermanWidth(oneD)],
        [/mixloss\.alignmentCandidates: layer must be/, () => alignmentCandidates({ layer: new Float32Array(3), rows: 2, dims: 2 })],
        [/mixloss\.alignmentCandidates: count must be an integer in \[1, 100000\], got 0$/, () => alignmentCandidates(logits, 0)],
        [/mixloss\.alignmentCandidates: count must be an integer in \[1, 100000\], got 1e\+300$/, () => alignmentCandidates(logits, 1e300)],
        [/mixloss\.kernelAlignment: labels must be an Int32Array/, () => kernelAlignment([0, 1] as never, 2, logits, new Float64Array(3))],
        [/mixloss\.kernelAlignment: widths must be a Float64Array/, () => kernelAlignment(new Int32Array(2), 2, logits, [1] as never)],
        [/mixloss\.WidthSelector: options must be an object, got null/, () => new WidthSelector('alignment', null as never)],
        [/mixloss\.WidthSelector: unknown option 'candidate'/, () => new WidthSelector('alignment', { candidate: 5 } as never)],
        [/mixloss\.bucketTransitions: the earlier epoch must be \{p, correct\}/, () => bucketTransitions(null as never, [1])],
        [/mixloss\.bucketTransitions: threshold must be a number in \[0, 1\]/, () => bucketTransitions({ p: [0.5], correct: [1] }, [1], 2)],
        [
          /mixloss\.InformationDiagnostics: target must be a tf\.LayersModel/,
          () => new InformationDiagnostics(null as never, logits, [0, 1]),
        ],
        [
          /mixloss\.InformationDiagnostics: x must be a tf\.Tensor/,
          () => new InformationDiagnostics({ predict: () => logits } as never, [[1]] as never, [0]),
        ],
        [/mixloss\.focusCurves: unknown option 'point'/, () => focusCurves([0.1], { point: 5 } as never)],
        [/mixloss\.layersLosses\.focalLoss: options must be an object, got 0\.3/, () => layersLosses.focalLoss(0.3 as never)],
        [/mixloss\.layersLosses\.crossEntropy: yTrue must be a tf\.Tensor/, () => layersLosses.crossEntropy()(null as never, logits)],
        [/mixloss\.layersLosses\.crossEntropy: yPred must be a tf\.Tensor/, () => layersLosses.crossEntropy()(y, [[1, 2, 3]] as never)],
        [/mixloss\.mixedLossForLayers: options must be an object, got null/, () => mixedLossForLayers(null as never)],
        [/mixloss\.mixedLossForLayers: yPred must be a tf\.Tensor/, () => mixedLossForLayers()(y, null as never)],
        [/mixloss\.metrics\.accuracy: yPred must be a tf\.Tensor/, () => metrics.accuracy(y, null as never)],
        [/mixloss\.metrics\.crossEntropy: yTrue must be a tf\.Tensor/, () => metrics.crossEntropy([0, 1] as never, logits)],
        [/mixloss\.targetProbabilities: labels must be class ids, a tf\.Tensor \[2\]/, () => targetProbabilities(logits, [0, 1] as never)],
        [/mixloss\.targetProbabilities: logits must be a tf\.Tensor \[N, C\]/, () => targetProbabilities(oneD, y)],
      ];
      for (const [pattern, call] of cases) rejects(pattern, call);
      tf.dispose([y, logits, oneD]);
    });
    it('focus outside [0, 0.5]', () =>
      rejects(/mixloss\.focusToWeights: F must be a number in \[0, 0.5\], got 0.6/, () => focusToWeights(0.6)));
    it('unknown schedule', () =>
      rejects(/mixloss\.focusSchedule: unknown schedule "F=1"; use 'F=0', 'F=0,0.5', 'F=0-0.5'/, () => focusSchedule('F=1' as never)));
    it('progress outside [0, 1]', () =>
      rejects(/mixloss\.FocusSchedule\.at: progress must be in \[0, 1\], got 1.5/, () => focusSchedule('F=0-0.5').at(1.5)));
    // Issue 14: these were accepted and failed later, in .at().
    it('a string F in an array of F values', () =>
      rejects(/phase 1: F must be a number in \[0, 0.5\], got "0.2"/, () => focusSchedule([0.1, '0.2' as never])));
    it('a string F in a phase', () =>
      rejects(/phase 0: F must be a number in \[0, 0.5\], got "0.1"/, () => new FocusSchedule([{ F: '0.1' as never, until: 1 }])));
    it('a string until', () =>
      rejects(
        /phase 0: until must be a number increasing within \(0, 1\], got "1"/,
        () => new FocusSchedule([{ F: 0.1, until: '1' as never }]),
      ));
    it('a phase that is not an object', () =>
      rejects(/phase 0 must be an object \{F, until\}, got 0.1/, () => new FocusSchedule([0.1 as never])));
    it('every boundary of the schedule checks', () => {
      for (const F of [-0.1, 0.51, NaN, '0.3'])
        rejects(/focusToWeights: F must be a number in \[0, 0.5\]/, () => focusToWeights(F as never));
      expect(focusToWeights(0.5)).toEqual({ alpha: 0, beta: 1 });
      for (const F of [-0.01, 0.6, NaN]) rejects(/phase 0: F must be a number in \[0, 0.5\]/, () => new FocusSchedule([{ F, until: 1 }]));
      rejects(/focusSchedule: needs at least one phase/, () => new FocusSchedule([]));
      rejects(/focusSchedule: needs at least one phase/, () => new FocusSchedule('F=0' as never));
      rejects(
        /phase 1: until must be a number increasing within \(0, 1\], got 0.5/,
        () =>
          new FocusSchedule([
            { F: 0, until: 0.5 },
            { F: 0.1, until: 0.5 },
          ]),
      );
      rejects(/phase 0: until must be a number increasing within \(0, 1\], got 1.5/, () => new FocusSchedule([{ F: 0, until: 1.5 }]));
      rejects(/phase 0: until must be a number increasing within \(0, 1\], got 0/, () => new FocusSchedule([{ F: 0, until: 0 }]));
      for (const spec of [42, null, {}, { phases: 'x' }]) {
        rejects(/focusSchedule: spec must be a preset name, an array of F values or \{phases: \[\{F, until\}\]\}/, () =>
          focusSchedule(spec as never),
        );
      }
      const s = focusSchedule('F=0-0.5');
      for (const p of [-0.1, 1.01, NaN, '0.5']) rejects(/FocusSchedule\.at: progress must be in \[0, 1\]/, () => s.at(p as never));
      expect(s.at(0).F).toBe(0);
      expect(s.at(1).F).toBe(0.5);
      for (const [step, total] of [
        [0, 0],
        [0, 1.5],
        [-1, 10],
        [1.5, 10],
        [10, 10],
      ])
        rejects(/FocusSchedule\.atStep: /, () => s.atStep(step, total));
      expect(s.atStep(0, 1).F).toBe(0);
      for (const [epoch, epochs] of [
        [0, 0],
        [0, 2.5],
        [-1, 10],
        [0.5, 10],
        [10, 10],
      ])
        rejects(/FocusSchedule\.atEpochAuthors: /, () => s.atEpochAuthors(epoch, epochs));
      expect(s.atEpochAuthors(9, 10).F).toBe(0.5);
    });
    it('MixtureState with a negative or NaN weight', () => {
      rejects(/MixtureState\.set: alpha must be a finite number >= 0, got -2/, () => new MixtureState().set({ alpha: -2, beta: 1 }));
      rejects(/MixtureState: alpha must be a finite number >= 0, got -1/, () => new MixtureState(-1, 1));
      rejects(/MixtureState: beta must be a finite number >= 0, got NaN/, () => new MixtureState(1, NaN));
      rejects(/MixtureState\.set: beta must be a finite number >= 0, got Infinity/, () =>
        new MixtureState().set({ alpha: 1, beta: Infinity }),
      );
    });
    it('mixedLossForLayers with a bad weight', () =>
      rejects(/alpha must be a finite number >= 0/, () => mixedLossForLayers({ alpha: -2 })));
    it('FocusScheduleCallback arguments', () => {
      const state = new MixtureState();
      const schedule = focusSchedule('F=0-0.5');
      rejects(/mixloss\.FocusScheduleCallback: state must be a MixtureState/, () => new FocusScheduleCallback({} as never, schedule));
      rejects(
        /mixloss\.FocusScheduleCallback: schedule must be a FocusSchedule/,
        () => new FocusScheduleCallback(state, 'F=0-0.5' as never),
      );
      rejects(
        /mixloss\.FocusScheduleCallback: per must be 'epoch' or 'batch', got "step"/,
        () => new FocusScheduleCallback(state, schedule, { per: 'step' as never }),
      );
      rejects(
        /mixloss\.FocusScheduleCallback: boundaries must be 'exact' or 'authors', got "round"/,
        () => new FocusScheduleCallback(state, schedule, { boundaries: 'round' as never }),
      );
      rejects(/mixloss\.FocusScheduleCallback: the authors' boundaries are per epoch: use per: 'epoch'/, () =>
        scheduledMixedLoss('F=0-0.5', { per: 'batch', boundaries: 'authors' }),
      );
    });
    it('atStep and atEpochAuthors bounds', () => {
      const s = focusSchedule('F=0,0.5');
      rejects(/mixloss\.FocusSchedule\.atStep: total must be a positive integer, got 0/, () => s.atStep(0, 0));
      rejects(/mixloss\.FocusSchedule\.atStep: step must be an integer in \[0, 10\), got 10/, () => s.atStep(10, 10));
      rejects(/mixloss\.FocusSchedule\.atEpochAuthors: epoch must be an integer in \[0, 90\), got 1.5/, () => s.atEpochAuthors(1.5, 90));
    });
  });

  describe('values an error message cannot write as JSON: BigInts, symbols, arrays that hold themselves', () => {
    const selfHolding = (): unknown[] => {
      const a: unknown[] = [];
      a.push(a);
      return a;
    };
    const cyclicIds = (): unknown[] => {
      const a: unknown[] = [0];
      a.push(a);
      return a;
    };
    const cases: Array<[string, RegExp, () => unknown]> = [
      ['BigInt logits', /crossEntropy: logits: entry 0 is 1n \(bigint\), not a number$/, () => crossEntropy([1n, 2n] as never, 0)],
      ['BigInt class ids', /crossEntropy: label 0n \(bigint\) at row 0 is not a class id/, () => crossEntropy([[1, 2, 3]], [0n] as never)],
      ['BigInt targets', /crossEntropy: labels\[1\] is 1n \(bigint\), not a number$/, () => crossEntropy([[1, 2]], [[0, 1n]] as never)],
      [
        'BigInt weights',
        /crossEntropy: weights: entry 0 is 1n \(bigint\), not a number$/,
        () => crossEntropy([[1, 2]], [0], { weights: [1n] as never }),
      ],
      [
        'BigInt class weights',
        /crossEntropy: classWeights: entry 1 is 2n \(bigint\), not a number$/,
        () => crossEntropy([[1, 2]], [0], { classWeights: [1, 2n] as never }),
      ],
      [
        'string class weights',
        /crossEntropy: classWeights: entry 0 is "1" \(string\), not a number$/,
        () => crossEntropy([[1, 2]], [0], { classWeights: ['1', '2'] as never }),
      ],
      [
        'null weights entry',
        /crossEntropy: weights: entry 0 is null \(object\), not a number$/,
        () => crossEntropy([[1, 2]], [0], { weights: [null] as never }),
      ],
      [
        'BigInt where',
        /crossEntropy: where: entry 1 is 1n \(bigint\), not a boolean$/,
        () => crossEntropy([[1, 2]], [0], { where: [[true, 1n]] as never }),
      ],
      [
        'BigInt hidden',
        /linearCrossEntropy: hidden: entry 0 is 1n \(bigint\), not a number$/,
        () => linearCrossEntropy([[1n]] as never, [[1, 2]], [0]),
      ],
      [
        'a symbol reduction',
        /crossEntropy: reduction must be 'none', 'sum' or 'mean', got Symbol\(r\)/,
        () => crossEntropy([[1, 2]], [0], { reduction: Symbol('r') as never }),
      ],
      [
        'an object without a prototype as reduction',
        /crossEntropy: reduction must be 'none', 'sum' or 'mean', got \{\}/,
        () => crossEntropy([[1, 2]], [0], { reduction: Object.create(null) as never }),
      ],
      [
        'a BigInt axis',
        /crossEntropy: axis must be an integer in \[-2, 1\] .* got 1n$/,
        () => crossEntropy([[1, 2]], [0], { axis: 1n as never }),
      ],
      [
        'a symbol device',
        /crossEntropy: device must be 'auto', 'cpu' or 'cuda', got Symbol\(d\)/,
        () => crossEntropy([[1, 2]], [0], { device: Symbol('d') as never }),
      ],
      [
        'logits that hold themselves',
        /crossEntropy: logits: entry 0 is an array \(object\), not a number$/,
        () => crossEntropy(selfHolding() as never, 0),
      ],
      [
        'class ids that hold themselves',
        /crossEntropy: label an array \(object\) at row 1 is not a class id/,
        () =>
          crossEntropy(
            [
              [1, 2],
              [3, 4],
            ],
            cyclicIds() as never,
          ),
      ],
      [
        'hidden that holds itself',
        /linearCrossEntropy: hidden: entry 0 is an array \(object\), not a number$/,
        () => linearCrossEntropy(selfHolding() as never, [[1]], [0]),
      ],
      [
        'a BigInt F in a schedule',
        /focusSchedule: phase 1: F must be a number in \[0, 0\.5\], got 1n \(a bigint\)$/,
        () => focusSchedule([0, 1n] as never),
      ],
      ['setNumThreads(2n)', /setNumThreads: threads must be an integer in \[1, 1024\], got a bigint/, () => setNumThreads(2n as never)],
    ];
    for (const [name, pattern, call] of cases) it(name, () => rejects(new RegExp(`^mixloss\\.${pattern.source}`), call));
  });

  describe('classes and their methods, made or called with odd arguments', () => {
    const cases: Array<[string, RegExp, () => unknown]> = [
      [
        'new DeviceTensor',
        /^mixloss\.DeviceTensor: make one with DeviceTensor\.empty\(shape, dtype\) or DeviceTensor\.upload/,
        () => new (DeviceTensor as unknown as new (...a: unknown[]) => unknown)([2], 'float32', {}),
      ],
      [
        'DeviceTensor.empty of a string',
        /^mixloss\.DeviceTensor\.empty: shape must be an array of positive integers, got "x"$/,
        () => DeviceTensor.empty('x' as never),
      ],
      [
        'DeviceTensor.empty with a 0 size',
        /^mixloss\.DeviceTensor\.empty: shape must be an array of positive integers, got \[2,0\]$/,
        () => DeviceTensor.empty([2, 0]),
      ],
      [
        'DeviceTensor.empty float64',
        /^mixloss\.DeviceTensor\.empty: dtype must be 'float32' or 'int32', got "float64"$/,
        () => DeviceTensor.empty([2], 'float64' as never),
      ],
      [
        'DeviceTensor.upload of an array',
        /^mixloss\.DeviceTensor\.upload: data must be a Float32Array or an Int32Array, got \[1,2\]$/,
        () => DeviceTensor.upload([1, 2] as never),
      ],
      [
        'MixtureState.set()',
        /^mixloss\.MixtureState\.set: point must be an object \{alpha, beta, F\?\}/,
        () => new MixtureState().set(undefined as never),
      ],
      ['MixtureState.set(null)', /^mixloss\.MixtureState\.set: point must be an object/, () => new MixtureState().set(null as never)],
      [
        'MixtureState.set with F a string',
        /^mixloss\.MixtureState\.set: F must be a finite number or left out, got "0\.1"$/,
        () => new MixtureState().set({ alpha: 1, beta: 1, F: '0.1' as never }),
      ],
      [
        'transitionFactor(1n)',
        /^mixloss\.transitionFactor: epoch must be a finite number >= 0, got 1n \(a bigint\)$/,
        () => transitionFactor(1n as never),
      ],
      ['transitionFactor(-1)', /^mixloss\.transitionFactor: epoch must be a finite number >= 0, got -1$/, () => transitionFactor(-1)],
      ['transitionFactor(NaN)', /^mixloss\.transitionFactor: epoch must be a finite number >= 0, got NaN$/, () => transitionFactor(NaN)],
      [
        'new InformationLossState()',
        /^mixloss\.InformationLossState: schedule must be a function of the epoch/,
        () => new InformationLossState(undefined as never, undefined as never),
      ],
      [
        'an InformationLossState without a WidthSelector',
        /^mixloss\.InformationLossState: width must be a WidthSelector/,
        () => new InformationLossState(transitionFactor, {} as never),
      ],
      [
        "FocusSchedule's phase lookup out of range",
        /^mixloss\.FocusSchedule: phase index must be an integer in \[0, 1\), got 1 \(use at, atStep or atEpochAuthors\)$/,
        () => (focusSchedule([0]) as unknown as { point(k: unknown): unknown }).point(1),
      ],
      [
        'WidthSelector with 1e300 candidates',
        /^mixloss\.WidthSelector: candidates must be an integer in \[2, 100000\], got 1e\+300$/,
        () => new WidthSelector('alignment', { candidates: 1e300 }),
      ],
      [
        'cudaLoss without DeviceTensors',
        /^mixloss\.cudaLoss: logits must be a DeviceTensor \(DeviceTensor\.upload\), got undefined$/,
        () => cudaLoss(undefined as never, undefined as never, undefined as never),
      ],
      [
        'informationLossForLayers without a state',
        /^mixloss\.informationLossForLayers: state must be an InformationLossState/,
        () => informationLossForLayers({} as never, 1.01),
      ],
      [
        'informationLossForLayers with alpha 1',
        /^mixloss\.informationLossForLayers: alpha must be a finite number > 0 and not 1/,
        () => informationLossForLayers(new InformationLossState(transitionFactor, new WidthSelector(0.5)), 1),
      ],
    ];
    for (const [name, pattern, call] of cases) it(name, () => rejects(pattern, call));
    it("WidthSelector's third argument (the caller's name) is read only when it is a string", () => {
      const before = backendCounts();
      const gone = tf.tensor1d([1]);
      gone.dispose();
      expect(new WidthSelector('alignment', undefined, gone as never).rule).toBe('alignment');
      expect(() => new WidthSelector(-1, undefined, gone as never)).toThrow(/^mixloss\.WidthSelector: width must be a finite number > 0/);
      expect(backendCounts()).toEqual(before);
    });
  });

  describe('options that are objects but not named options: a TypedArray, a tensor, a Map', () => {
    for (const [given, shownAs] of [
      [new Float32Array([1, 2]), 'a Float32Array'],
      [new Map([['reduction', 'sum']]), 'a Map'],
      [new Date(0), 'a Date'],
    ] as Array<[unknown, string]>) {
      it(`crossEntropy options ${shownAs}`, () =>
        rejects(new RegExp(`^mixloss\\.crossEntropy: options must be an object, got ${shownAs}$`), () =>
          crossEntropy([[1, 2]], [0], given as never),
        ));
      it(`layersLosses.mpceLoss options ${shownAs}`, () =>
        rejects(new RegExp(`^mixloss\\.layersLosses\\.mpceLoss: options must be an object, got ${shownAs}$`), () =>
          layersLosses.mpceLoss(given as never),
        ));
    }
    it('a tensor as options', () =>
      rejects(
        /^mixloss\.crossEntropy: options must be an object, got a tf\.Tensor$/,
        (t) => crossEntropy([[1, 2]], [0], t as never),
        tf.tensor1d([1]),
      ));
    it('a layers loss on a scalar yPred: the class axis is missing', () =>
      rejects(
        /^mixloss\.layersLosses\.mpceLoss: yPred must have a class axis: the model outputs logits \[batch, classes\], got a scalar$/,
        (a, b) => layersLosses.mpceLoss()(a, b),
        tf.scalar(1),
        tf.scalar(0),
      ));
  });

  describe('informationChart', () => {
    const record = { epoch: 0, inputInformation: 1, outputInformation: 0.5, outputEntropy: 1, gradientNorm: 0.1 };
    for (const [name, args, pattern] of [
      ['history not an array', ['x', 't'], /^mixloss\.informationChart: history must be an array of records .*got "x" \(a string\)$/],
      [
        'a record that is not one',
        [[null], 't'],
        /^mixloss\.informationChart: history\[0\] must be a record \{epoch, inputInformation, \.\.\.\}, got null$/,
      ],
      [
        'a field that is not a number',
        [[{ ...record, gradientNorm: '0.1' }], 't'],
        /^mixloss\.informationChart: history\[0\]\.gradientNorm must be a number, got "0\.1" \(a string\)$/,
      ],
      ['a title that is not a string', [[record], 1n], /^mixloss\.informationChart: title must be a string, got 1n \(a bigint\)$/],
    ] as Array<[string, unknown[], RegExp]>) {
      it(name, async () => {
        await expect((informationChart as (...a: unknown[]) => Promise<string>)(...args)).rejects.toThrow(pattern);
      });
    }
  });

  describe('complementObjectiveStep', () => {
    const predict = () => tf.zeros([2, 3]);
    const cases: Array<[string, RegExp, (opt: tf.Optimizer) => unknown]> = [
      [
        'no optimizer',
        /optimizer must be a tf\.train optimizer .*got undefined/,
        (_opt) => complementObjectiveStep(undefined as never, predict, [0, 1]),
      ],
      [
        'a function as the optimizer',
        /optimizer must be a tf\.train optimizer/,
        (_opt) => complementObjectiveStep((() => 1) as never, predict, [0, 1]),
      ],
      [
        'predict not a function',
        /predict must be a function that returns the logits, got an array/,
        (opt) => complementObjectiveStep(opt, [] as never, [0, 1]),
      ],
      ['options not an object', /options must be an object, got 3/, (opt) => complementObjectiveStep(opt, predict, [0, 1], 3 as never)],
      [
        'an unknown option',
        /unknown option 'lossOption'/,
        (opt) => complementObjectiveStep(opt, predict, [0, 1], { lossOption: {} } as never),
      ],
      [
        'a complement optimizer that is not one',
        /complementOptimizer must be a tf\.train optimizer/,
        (opt) => complementObjectiveStep(opt, predict, [0, 1], { complementOptimizer: {} as never }),
      ],
      [
        "reduction 'none'",
        /lossOptions\.reduction 'none' gives no scalar to minimize/,
        (opt) => complementObjectiveStep(opt, predict, [0, 1], { lossOptions: { reduction: 'none' } }),
      ],
      [
        'tf.Reduction.NONE',
        /lossOptions\.reduction 'none' gives no scalar to minimize/,
        (opt) => complementObjectiveStep(opt, predict, [0, 1], { lossOptions: { reduction: tf.Reduction.NONE } }),
      ],
    ];
    for (const [name, pattern, call] of cases) {
      it(name, () => {
        const opt = tf.train.sgd(0.1); // made before the counts: it holds its learning rate as a tensor
        rejects(new RegExp(`^mixloss\\.complementObjectiveStep: ${pattern.source}`), () => call(opt));
        opt.dispose();
      });
    }
  });

  describe('threads', () => {
    for (const bad of [0, -1, 1.5, 1025, NaN, '2']) {
      it(`setNumThreads(${JSON.stringify(bad)})`, () =>
        rejects(/setNumThreads: threads must be an integer in \[1, 1024\]/, () => setNumThreads(bad as never)));
    }
  });

  describe('after an error', () => {
    it('the engine still works and gradients are still right', () => {
      rejects(/label 7/, (x) => crossEntropy(x, [0, 7]), q());
      const g = tf.tidy(() =>
        tf
          .grad((x: tf.Tensor) => crossEntropy(x, [0]))(tf.tensor2d([[2, 1, 0.1]]))
          .dataSync(),
      );
      expect(g[1]).toBeCloseTo(0.242432970705, 6);
    });
  });
});
