// The JavaScript boundary as a generated matrix (issue 12, item 3): every public loss op and
// information op × every class of bad input. Each must throw an Error that names the op and the
// problem, leave no tensor, backend buffer or pending gradient behind, and leave the process
// healthy: the next valid call returns the value it returned before any bad one.
import { beforeAll, describe, expect, it } from 'vitest';

import * as mixloss from '../src';
import { renyiEntropy, renyiInformation, renyiMutualInformation } from '../src';
import { isLossOp, lossOps } from '../src/losses/op_table';
import { backendCounts, tf, thrownBy, useTestBackend } from './support/tf';

type Op = (logits: tf.Tensor, labels: unknown, options?: object) => tf.Tensor;

/** The parameters an op owns (a valid value of each): its bad-value cases. An op not listed here has none. */
const PARAMS: Record<string, Record<string, number>> = {
  mixedLoss: { alpha: 1, beta: 1 },
  polyLoss: { epsilon: 1 },
  focalLoss: { gamma: 2, alpha: 1 },
  generalizedCrossEntropy: { q: 0.7, truncation: 0 },
  tamedCrossEntropy: { a: 0.5 },
};

/** Every public loss op (the package's own list), with the parameters it owns. */
const OPS: Array<{ name: string; op: Op; params: Record<string, number> }> = Object.entries(mixloss)
  .filter(([, f]) => isLossOp(f))
  .map(([name, f]) => ({ name, op: f as unknown as Op, params: PARAMS[name] ?? {} }));

const LOGITS = [
  [1, 2, 3],
  [0.5, -1, 0],
];
const LABELS = [2, 0];

function detachedInt32(values: number[]): Int32Array {
  const a = Int32Array.from(values);
  structuredClone(a.buffer, { transfer: [a.buffer] }); // detaches a's buffer
  return a;
}

function detachedFloat32(values: number[]): Float32Array {
  const a = Float32Array.from(values);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

function disposed(t: tf.Tensor): tf.Tensor {
  t.dispose();
  return t;
}

/**
 * Calls op on args (made before the counts are taken): an Error naming the op and matching
 * pattern, and nothing left behind. Then disposes the arguments.
 */
function expectRejected(
  name: string,
  op: (...a: [tf.Tensor, unknown, object?]) => unknown,
  args: [tf.Tensor, unknown, object?],
  pattern: RegExp,
): void {
  const counts = backendCounts();
  const e = thrownBy(() => op(...args));
  expect(e).toBeInstanceOf(Error);
  expect(e.message).toMatch(new RegExp(`^mixloss\\.${name}: `));
  expect(e.message).toMatch(pattern);
  expect(backendCounts()).toEqual(counts);
  for (const a of args) if (a instanceof tf.Tensor && !a.isDisposed) a.dispose();
}

/** Cases with complex64 tensors, where the backend has them (tf.complex has no wasm kernel). */
const complexCases = <T>(cases: T[]): T[] => (tf.getKernel('Complex', tf.getBackend()) !== undefined ? cases : []);

/** Bad inputs of every class: [what, make arguments (logits, labels, options)]. */
function badCalls(params: Record<string, number>): Array<[string, () => [tf.Tensor, unknown, object?], RegExp]> {
  const q = () => tf.tensor2d(LOGITS);
  const cases: Array<[string, () => [tf.Tensor, unknown, object?], RegExp]> = [
    ['scalar logits', () => [tf.scalar(1), 0], /logits must have a class axis/],
    [
      'unbatched logits with a batch of labels',
      () => [tf.tensor1d([1, 2, 3]), [0, 1]],
      /labels must be class ids \[\] \(a scalar\) or \[1\]/,
    ],
    ['an axis out of range', () => [q(), LABELS, { axis: 2 }], /axis must be an integer in \[-2, 1\]/],
    ['an axis named twice', () => [q(), LABELS, { axis: [1, -1] }], /axis names an axis twice/],
    ['a fractional axis', () => [q(), LABELS, { axis: 0.5 }], /axis must be an integer/],
    ['labels that do not fit the class axis', () => [q(), LABELS, { axis: 0 }], /labels have 2 rows but logits have 3/],
    [
      'a where mask of another shape',
      () => [q(), LABELS, { where: [[true, false]] }],
      /where of shape \[1, 2\] does not broadcast to the logits \[2, 3\]/,
    ],
    ['a where mask of another rank', () => [q(), LABELS, { where: [[[true]]] }], /where must have the logits' rank \(2/],
    ['a string where mask', () => [q(), LABELS, { where: 'yes' }], /where must be a tf.Tensor or a tensor-like/],
    ['a checkTargets that is not a boolean', () => [q(), LABELS, { checkTargets: 1 }], /checkTargets must be true or false, got 1/],
    ['bool logits', () => [tf.tensor2d([[true, false]], [1, 2], 'bool'), [0]], /logits must be float32 or int32, got bool/],
    ...complexCases([
      [
        'complex64 logits',
        () => [tf.complex(tf.tensor2d(LOGITS), tf.zeros([2, 3])), LABELS],
        /logits must be float32 or int32, got complex64/,
      ],
    ]),
    ['string logits', () => [tf.tensor2d([['a', 'b']], [1, 2], 'string'), [0]], /logits must be float32 or int32, got string/],
    ['an empty batch', () => [tf.zeros([0, 3]), tf.zeros([0], 'int32')], /empty batch/],
    ['disposed logits', () => [disposed(tf.tensor2d(LOGITS)), LABELS], /disposed/],
    ['a negative label', () => [q(), [-1, 0]], /label -1 at row 0/],
    ['label = C', () => [q(), [3, 0]], /label 3 at row 0/],
    ['label 2³¹', () => [q(), tf.tensor1d([2 ** 31, 0])], /label 2147483648 at row 0/],
    ['a NaN label', () => [q(), tf.tensor1d([NaN, 0])], /label nan at row 0/i],
    ['a non-integer label', () => [q(), [0.5, 0]], /label 0\.5 at row 0/],
    ['an Int32Array label out of range', () => [q(), Int32Array.from([0, 7])], /label 7 at row 1/],
    ['labels on a detached buffer', () => [q(), detachedInt32(LABELS)], /labels is a TypedArray on a detached ArrayBuffer/],
    ['logits on a detached buffer', () => [detachedFloat32([1, 2, 3]), 0], /logits is a TypedArray on a detached ArrayBuffer/],
    [
      'sample weights on a detached buffer',
      () => [q(), LABELS, { weights: detachedFloat32([1, 1]) }],
      /weights is a TypedArray on a detached ArrayBuffer/,
    ],
    ['bool labels', () => [q(), tf.tensor1d([true, false], 'bool')], /labels must be int32 or float32, got bool/],
    ['string labels', () => [q(), tf.tensor1d(['a', 'b'])], /labels must be int32 or float32, got string/],
    ...complexCases([
      ['complex64 labels', () => [q(), tf.complex(tf.tensor1d([0, 1]), tf.zeros([2]))], /labels must be int32 or float32, got complex64/],
    ]),
    ['disposed labels', () => [q(), disposed(tf.tensor1d(LABELS, 'int32'))], /disposed/],
    ['labels of the wrong length', () => [q(), [0, 1, 2]], /labels have 3 rows but logits have 2/],
    ['an unknown option', () => [q(), LABELS, { labelSmothing: 0.1 }], /unknown option 'labelSmothing'/],
    ['an unknown reduction', () => [q(), LABELS, { reduction: 'avg' }], /reduction/],
    ['NaN sample weights', () => [q(), LABELS, { weights: [1, NaN] }], /weights\[1\] must be a finite number >= 0/],
    [
      'an infinite sample weight',
      () => [q(), LABELS, { weights: [Infinity, 1] }],
      /weights\[0\] must be a finite number >= 0, got Infinity/,
    ],
    ['class weights of the wrong length', () => [q(), LABELS, { classWeights: [1, 2] }], /classWeights/],
    ['a non-integer ignoreIndex', () => [q(), LABELS, { ignoreIndex: 0.5 }], /ignoreIndex/],
    ['labelSmoothing 2', () => [q(), LABELS, { labelSmoothing: 2 }], /labelSmoothing/],
    ['a negative zLoss', () => [q(), LABELS, { zLoss: -1 }], /zLoss/],
    ['softcap 0', () => [q(), LABELS, { softcap: 0 }], /softcap/],
    ['a string option value', () => [q(), LABELS, { zLoss: '1' }], /zLoss/],
  ];
  for (const name of Object.keys(params)) {
    for (const bad of [NaN, Infinity, -Infinity, -1e9, '1', null]) {
      cases.push([
        `${name} = ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)}`,
        () => [q(), LABELS, { [name]: bad }],
        new RegExp(name),
      ]);
    }
  }
  return cases;
}

describe('the JavaScript boundary, every op × every bad input', () => {
  beforeAll(useTestBackend);

  it('covers every loss op, and each op listed with parameters exists', () => {
    expect(OPS.map((o) => o.name).sort()).toEqual([...lossOps().keys()].sort());
    expect(OPS.length).toBeGreaterThanOrEqual(10);
    for (const name of Object.keys(PARAMS)) expect(OPS.some((o) => o.name === name)).toBe(true);
  });

  for (const { name, op, params } of OPS) {
    describe(name, () => {
      const good = () => tf.tidy(() => op(tf.tensor2d(LOGITS), LABELS).dataSync()[0]);
      let before: number;
      beforeAll(() => {
        before = good();
      });
      for (const [what, make, pattern] of badCalls(params)) {
        it(what, () => {
          expectRejected(name, op, make(), pattern);
          expect(good()).toBe(before);
        });
      }
    });
  }

  describe('the information ops', () => {
    const P = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.3, 0.4, 0.3],
      [0.05, 0.05, 0.9],
    ];
    const Y = [0, 1, 1, 2];
    const ops: Array<[string, (layer: tf.Tensor, labels: unknown, options?: object) => unknown]> = [
      ['renyiMutualInformation', (x, y, o) => renyiMutualInformation(y as never, x, o)],
      ['renyiInformation', (x, y, o) => renyiInformation(y as never, x, o)],
      ['renyiEntropy', (x, _y, o) => renyiEntropy(x, o)],
    ];
    const value = () => renyiInformation(Y, tf.tensor2d(P), { width: 0.5 }).mutualInformation;
    const before = { v: 0 };
    beforeAll(() => {
      before.v = value();
    });
    const cases: Array<[string, () => [tf.Tensor, unknown, object?], RegExp, boolean]> = [
      ['a layer of rank 1', () => [tf.tensor1d([1, 2, 3]), Y], /at least one feature/, true],
      ['bool layer', () => [tf.tensor2d([[true], [false]], [2, 1], 'bool'), [0, 1]], /must be float32 or int32, got bool/, true],
      ...complexCases<[string, () => [tf.Tensor, unknown, object?], RegExp, boolean]>([
        ['complex64 layer', () => [tf.complex(tf.tensor2d(P), tf.zeros([4, 3])), Y], /must be float32 or int32, got complex64/, true],
      ]),
      ['string layer', () => [tf.tensor2d([['a'], ['b']], [2, 1], 'string'), [0, 1]], /must be float32 or int32, got string/, true],
      ['one row', () => [tf.tensor2d([[1, 2]]), [0]], /at least 2 rows/, true],
      ['an empty batch', () => [tf.zeros([0, 3]), []], /at least 2 rows/, true],
      ['a disposed layer', () => [disposed(tf.tensor2d(P)), Y], /layer is disposed/, true],
      ['disposed labels', () => [tf.tensor2d(P), disposed(tf.tensor1d(Y, 'int32'))], /labels are disposed/, false],
      ['a NaN in the layer', () => [tf.tensor2d([[NaN, 0, 0], ...P.slice(1)]), Y], /non-finite value at row 0/, true],
      [
        'an Infinity in the layer',
        () => [tf.tensor2d([...P.slice(0, 3), [0, Infinity, 0]]), Y],
        /non-finite value at row 3, column 1/,
        true,
      ],
      ['a negative label', () => [tf.tensor2d(P), [0, -1, 1, 2]], /label -1 at row 1/, false],
      ['label 2³¹', () => [tf.tensor2d(P), [0, 2 ** 31, 1, 2]], /label 2147483648 at row 1/, false],
      ['a NaN label', () => [tf.tensor2d(P), tf.tensor1d([0, NaN, 1, 2])], /label NaN at row 1/, false],
      ['a non-integer label', () => [tf.tensor2d(P), [0, 1.5, 1, 2]], /label 1\.5 at row 1/, false],
      ['labels on a detached buffer', () => [tf.tensor2d(P), detachedInt32(Y)], /labels have 0 rows but the layer has 4/, false],
      [
        'bool labels',
        () => [tf.tensor2d(P), tf.tensor1d([true, false, true, false], 'bool')],
        /labels must be int32 or float32, got bool/,
        false,
      ],
      ['soft targets', () => [tf.tensor2d(P), tf.tensor2d(P)], /soft targets/, false],
      ['labels of the wrong length', () => [tf.tensor2d(P), [0, 1]], /labels have 2 rows but the layer has 4/, false],
      ['alpha NaN', () => [tf.tensor2d(P), Y, { alpha: NaN }], /alpha must be/, true],
      ['alpha 1', () => [tf.tensor2d(P), Y, { alpha: 1 }], /alpha must be/, true],
      ['alpha -1', () => [tf.tensor2d(P), Y, { alpha: -1 }], /alpha must be/, true],
      ['alpha "2"', () => [tf.tensor2d(P), Y, { alpha: '2' }], /alpha must be/, true],
      ['alpha null', () => [tf.tensor2d(P), Y, { alpha: null }], /alpha is null: pass a value, or leave alpha out/, true],
      ['width 0', () => [tf.tensor2d(P), Y, { width: 0 }], /width must be/, true],
      ['width -Infinity', () => [tf.tensor2d(P), Y, { width: -Infinity }], /width must be/, true],
      ['width Infinity', () => [tf.tensor2d(P), Y, { width: Infinity }], /width must be/, true],
      ['width null', () => [tf.tensor2d(P), Y, { width: null }], /width is null: pass a value, or leave width out/, true],
      ['an unknown option', () => [tf.tensor2d(P), Y, { sigma: 1 }], /unknown option 'sigma'/, true],
    ];
    for (const [name, op] of ops) {
      for (const [what, make, pattern, forEntropy] of cases) {
        if (name === 'renyiEntropy' && !forEntropy) continue;
        it(`${name}: ${what}`, () => {
          expectRejected(name, op, make(), pattern);
          expect(value()).toBe(before.v);
        });
      }
    }
  });
});
