// The public API fuzzed with seeded random calls, as a user might write them: every op with
// inputs in every form tfjs ops take (tensors, nested arrays, TypedArrays, int32, 1-D, rank 3)
// and random options, valid or not, and values no error message may choke on (BigInts, an array
// that holds itself). Each call must return a tensor or throw a mixloss Error, and
// leave no tensor or backend buffer behind either way. Two parity fuzzers beside it: the drop-in
// against tf.losses.softmaxCrossEntropy (value and gradient), and the fused head against the loss
// op on tf.matMul + bias (value and the three gradients), with the same random options. And a
// metamorphic one: the same valid call given as tensors, as nested arrays, and with the class
// axis at 1 (axis: 1 on the moved logits, targets and mask) gives the same value and gradient.
import { beforeAll, describe, expect, it } from 'vitest';

import * as mixloss from '../src';
import { backendCounts, rng, tf, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

type Random = () => number;
const pick = <T>(r: Random, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function nested(shape: number[], next: () => unknown): unknown {
  return shape.length === 0 ? next() : Array.from({ length: shape[0] }, () => nested(shape.slice(1), next));
}

/** Values of a shape in one of the forms tfjs ops take (or a wrong one). */
function input(r: Random, shape: number[], kind: 'float' | 'int' | 'weird', forms: readonly string[]): unknown {
  const values = Array.from({ length: size(shape) }, () =>
    kind === 'int' ? int(r, 0, 4) : kind === 'weird' ? pick(r, [NaN, Infinity, -Infinity, 0, 1e30, -1e30, 3]) : (r() - 0.5) * 8,
  );
  let i = 0;
  switch (pick(r, forms)) {
    case 'tensor':
      return tf.tensor(values, shape, kind === 'int' ? 'int32' : 'float32');
    case 'int32':
      return tf.tensor(values.map(Math.round), shape, 'int32');
    case 'nested':
      return shape.length === 0 ? values[0] : nested(shape, () => values[i++]);
    case 'flat':
      return values;
    case 'f32':
      return Float32Array.from(values);
    case 'f64':
      return Float64Array.from(values);
    case 'i32':
      return Int32Array.from(values.map(Math.round));
    case 'bool':
      return tf.tensor(
        values.map((v) => v > 0),
        shape,
        'bool',
      );
    case 'string':
      return 'abc';
    case 'odd': {
      // What no error message may choke on: a BigInt entry, a BigInt64Array, an array that holds itself.
      const self: unknown[] = [];
      self.push(self);
      return pick(r, [
        () => (shape.length === 0 ? 1n : nested(shape, () => (i++ === 0 ? 1n : values[i - 1]))),
        () => BigInt64Array.from([1n, 2n]),
        () => self,
      ])();
    }
    default:
      return null;
  }
}

function labelsFor(r: Random, shape: number[]): unknown {
  const C = shape[shape.length - 1];
  const lead = shape.slice(0, -1);
  const rows = size(lead);
  const u = r();
  if (u < 0.45) {
    const ids = Array.from({ length: rows }, () => (r() < 0.05 ? pick(r, [-101, C]) : int(r, 0, C - 1)));
    switch (pick(r, ['tensor', 'flat', 'nested', 'i32', 'f32', 'column', 'number'])) {
      case 'tensor':
        return tf.tensor(ids, lead, pick(r, ['int32', 'float32'] as const));
      case 'i32':
        return Int32Array.from(ids);
      case 'f32':
        return Float32Array.from(ids);
      case 'column':
        return ids.map((y) => [y]);
      case 'number':
        return ids[0];
      case 'nested': {
        let i = 0;
        return lead.length ? nested(lead, () => ids[i++]) : ids[0];
      }
      default:
        return ids;
    }
  }
  if (u < 0.8) {
    const t: number[] = [];
    for (let k = 0; k < rows; k++) {
      const row = Array.from({ length: C }, () => r());
      const total = row.reduce((a, b) => a + b, 0);
      const hot = r() < 0.5,
        y = int(r, 0, C - 1);
      for (let j = 0; j < C; j++) t.push(hot ? (j === y ? 1 : 0) : row[j] / total);
    }
    const form = pick(r, ['tensor', 'int32', 'nested', 'f32']);
    if (form === 'tensor') return tf.tensor(t, shape);
    if (form === 'int32') return tf.tensor(t.map(Math.round), shape, 'int32');
    if (form === 'f32') return Float32Array.from(t);
    let i = 0;
    return nested(shape, () => t[i++]);
  }
  return input(r, pick(r, [shape, lead, [int(r, 0, 3)], []]), pick(r, ['int', 'float', 'weird'] as const), [
    'tensor',
    'int32',
    'nested',
    'flat',
    'f32',
    'i32',
    'bool',
    'null',
    'string',
    'odd',
  ]);
}

const OPS = [
  'crossEntropy',
  'expectationLoss',
  'mixedLoss',
  'polyLoss',
  'maeLoss',
  'focalLoss',
  'generalizedCrossEntropy',
  'tamedCrossEntropy',
  'mpceLoss',
  'complementEntropy',
] as const;

function options(r: Random, op: (typeof OPS)[number], shape: number[]): Record<string, unknown> {
  const C = shape[shape.length - 1],
    lead = shape.slice(0, -1);
  const o: Record<string, unknown> = {};
  if (r() < 0.3) o.reduction = pick(r, ['mean', 'sum', 'none', tf.Reduction.MEAN, tf.Reduction.SUM_BY_NONZERO_WEIGHTS, 'bogus']);
  if (r() < 0.15)
    o.weights = pick(r, [
      () => 2,
      () => 0,
      () => -1,
      () => input(r, lead, 'float', ['tensor', 'nested', 'f32', 'odd']),
      () => tf.zeros(lead),
    ])();
  if (r() < 0.15) o.classWeights = input(r, pick(r, [[C], [C + 1]]), pick(r, ['int', 'float'] as const), ['tensor', 'flat', 'f32', 'odd']);
  if (r() < 0.15) o.ignoreIndex = pick(r, [-100, 0, 1.5, NaN]);
  if (r() < 0.15) o.labelSmoothing = pick(r, [0.1, 0, 1, -0.1, NaN]);
  if (r() < 0.1) o.zLoss = pick(r, [1e-4, 0, -1]);
  if (r() < 0.15) o.softcap = pick(r, [30, 3, 0, -1, Infinity]);
  if (r() < 0.1) o.axis = pick(r, [-1, 0, 1, 2, -2, shape.length, [0, 1], [1, 2], [2, 0], [1, 0], 1.5]);
  if (r() < 0.1) o.where = input(r, pick(r, [shape, lead, [C]]), 'float', ['bool', 'tensor', 'nested', 'odd']);
  if (r() < 0.1) o.checkTargets = pick(r, [true, false, 'no']);
  if (r() < 0.02) o.bogusOption = 1;
  if (op === 'mixedLoss' && r() < 0.8) Object.assign(o, { alpha: pick(r, [1, 0.5, 0, NaN]), beta: pick(r, [0, 1, -0.5]) });
  if (op === 'focalLoss' && r() < 0.8) Object.assign(o, { gamma: pick(r, [0, 2, -1]) });
  if (op === 'generalizedCrossEntropy' && r() < 0.8) o.q = pick(r, [0.7, 0, 2]);
  // Half the calls keep only a few options: more of them get past the checks.
  if (r() < 0.5) for (const k of Object.keys(o)) if (r() < 0.7) delete o[k];
  return o;
}

function disposeAll(x: unknown): void {
  if (x instanceof tf.Tensor) x.dispose();
  else if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x) && !Array.isArray(x))
    for (const v of Object.values(x)) disposeAll(v);
}

const describeIt = (x: unknown): string => {
  try {
    return JSON.stringify(x, (_k, v) =>
      v instanceof tf.Tensor
        ? `Tensor<${v.dtype}>[${v.shape}]`
        : ArrayBuffer.isView(v)
          ? `${v.constructor.name}(${(v as Float32Array).length})`
          : typeof v === 'bigint'
            ? `${v}n`
            : v,
    );
  } catch {
    return 'an array that holds itself';
  }
};

/**
 * Whether a call left something behind. A forward that ran under a tape keeps its gradient for
 * the backward pass, and the ninth one waiting evicts the oldest with its buffer (a call may
 * find some left by earlier suites): buffers minus waiting gradients is what a call must keep.
 */
function leftBehind(before: ReturnType<typeof backendCounts>, after: ReturnType<typeof backendCounts>): boolean {
  return (
    after.tensors !== before.tensors || after.dataIds - after.pending !== before.dataIds - before.pending || after.pending > before.pending
  );
}

describe('the public API, fuzzed (seeded)', () => {
  it('every loss op: a tensor or a mixloss Error, nothing left behind, gradients of the logits’ shape', async () => {
    const r = rng(2026);
    const problems: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 4400; i++) {
      const op = pick(r, OPS);
      const rank = pick(r, [1, 2, 2, 2, 3]);
      const shape = Array.from({ length: rank }, (_, k) => (k === rank - 1 ? int(r, 1, 7) : int(r, r() < 0.03 ? 0 : 1, 4)));
      const logits =
        r() < 0.03
          ? input(r, shape, 'float', ['odd'])
          : input(r, shape, r() < 0.1 ? 'weird' : 'float', ['tensor', 'tensor', 'nested', 'f32', 'f64', 'flat', 'int32', 'i32']);
      const labels = labelsFor(r, shape);
      const opts = options(r, op, shape);
      const call = `${op}(${describeIt(logits)}, ${describeIt(labels)}, ${describeIt(opts)})`;
      const before = backendCounts();
      try {
        const out = (mixloss[op] as (q: unknown, y: unknown, o: unknown) => tf.Tensor)(logits, labels, opts);
        accepted++;
        if (!(out instanceof tf.Tensor)) problems.push(`not a tensor: ${call}`);
        await out.data();
        out.dispose();
        if (logits instanceof tf.Tensor && logits.dtype === 'float32') {
          const g = tf.grad((x: tf.Tensor) => tf.sum((mixloss[op] as (q: unknown, y: unknown, o: unknown) => tf.Tensor)(x, labels, opts)))(
            logits,
          );
          if (g.shape.join() !== logits.shape.join()) problems.push(`gradient of shape [${g.shape}]: ${call}`);
          g.dispose();
        }
      } catch (e) {
        if (!(e instanceof Error) || !/^mixloss\./.test(e.message)) problems.push(`${e instanceof Error ? e.message : String(e)}: ${call}`);
        // The same call under a gradient tape throws too, and leaves nothing the tape holds.
        if (logits instanceof tf.Tensor && logits.dtype === 'float32') {
          try {
            tf.grad((x: tf.Tensor) => tf.sum((mixloss[op] as (q: unknown, y: unknown, o: unknown) => tf.Tensor)(x, labels, opts)))(
              logits,
            ).dispose();
            problems.push(`threw outside a tape only: ${call}`);
          } catch (again) {
            if (!(again instanceof Error) || !/^mixloss\./.test(again.message)) problems.push(`under a tape: ${String(again)}: ${call}`);
          }
        }
      }
      const after = backendCounts();
      if (leftBehind(before, after)) {
        problems.push(`left ${after.tensors - before.tensors} tensors, ${after.dataIds - before.dataIds} buffers: ${call}`);
      }
      disposeAll(logits);
      disposeAll(labels);
      disposeAll(opts);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(accepted).toBeGreaterThan(800); // the fuzzer reaches the kernels, not only the checks
  });

  it('the same call as tensors, as nested arrays, and with the class axis at 1: the same value and gradient', () => {
    const r = rng(4242);
    const DENSE = new Set(['crossEntropy', 'expectationLoss', 'mixedLoss', 'polyLoss', 'maeLoss', 'focalLoss']);
    const problems: string[] = [];
    const agree = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      a.length === b.length &&
      Array.from(a).every(
        (v, k) => v === b[k] || Math.abs(v - b[k]) <= 2e-5 * Math.max(1, Math.abs(b[k])) || (Number.isNaN(v) && Number.isNaN(b[k])),
      );
    for (let i = 0; i < 2000; i++) {
      const op = pick(r, OPS);
      const lead = r() < 0.6 ? [int(r, 1, 4), int(r, 1, 3)] : [int(r, 1, 4)];
      const C = int(r, 1, 6);
      const rows = size(lead),
        shape = [...lead, C];
      const dense = DENSE.has(op) && C > 1 && r() < 0.4; // [..., 1] labels are class ids
      const o: Record<string, unknown> = { reduction: pick(r, ['mean', 'sum', 'none']) };
      if (r() < 0.3) o.weights = Array.from({ length: rows }, () => r() * 2);
      if (r() < 0.3) o.classWeights = Array.from({ length: C }, () => r() * 2);
      if (!dense && r() < 0.5) o.ignoreIndex = -100;
      const masked = r() < 0.3;
      // (labelSmoothing on class ids under a per-class mask is an Error: smoothed targets say where the mass goes.)
      if (DENSE.has(op) && (dense || !masked) && r() < 0.3) o.labelSmoothing = pick(r, [0.1, 0.3]);
      if (r() < 0.2) o.zLoss = 1e-3;
      if (r() < 0.2) o.softcap = pick(r, [3, 30]);
      if (op === 'mixedLoss') Object.assign(o, { alpha: 1, beta: pick(r, [0, 0.5, 2]) });
      if (op === 'focalLoss') o.gamma = pick(r, [0, 2]);
      const q = tf.tensor(
        Array.from({ length: rows * C }, () => (r() - 0.5) * 8),
        shape,
      );
      const targets = () =>
        Array.from({ length: rows }, () => Array.from({ length: C }, () => r())).flatMap((row) =>
          row.map((v) => v / row.reduce((a, b) => a + b, 0)),
        );
      const ids = () => Array.from({ length: rows }, () => (r() < 0.1 && o.ignoreIndex !== undefined ? -100 : int(r, 0, C - 1)));
      const y = dense ? tf.tensor(targets(), shape) : tf.tensor(ids(), lead, 'int32');
      const where = masked
        ? tf.tensor(
            Array.from({ length: rows * C }, () => r() < 0.8),
            shape,
            'bool',
          )
        : undefined;
      const w = o.weights === undefined ? undefined : tf.tensor(o.weights as number[], lead);
      const f = mixloss[op] as (q: unknown, y: unknown, o?: unknown) => tf.Tensor;
      const call = `${op} [${shape}] ${dense ? 'targets' : 'class ids'} ${JSON.stringify(o)}${where ? ' where' : ''}`;
      const options = { ...o, ...(w ? { weights: w } : {}), ...(where ? { where } : {}) };
      let stage = 'base';
      try {
        tf.tidy(() => {
          // Every call here is valid: a throw fails the test, naming the call.
          const base = tf.valueAndGrad((x: tf.Tensor) => tf.sum(f(x, y, options)))(q);
          const value = f(q, y, options).dataSync();
          stage = 'nested';
          const nested = f(q.arraySync(), y.arraySync(), {
            ...o,
            ...(w ? { weights: w.arraySync() } : {}),
            ...(where ? { where: where.arraySync() } : {}),
          });
          if (!agree(nested.dataSync(), value)) problems.push(`nested arrays: ${call}`);
          if (lead.length === 2) {
            stage = 'axis';
            const perm = [0, 2, 1];
            const moved = (t: tf.Tensor) => tf.transpose(t, perm);
            const atOne = { ...options, axis: 1, ...(where ? { where: moved(where) } : {}) };
            const yAtOne = dense ? moved(y) : y;
            if (!agree(f(moved(q), yAtOne, atOne).dataSync(), value)) problems.push(`axis 1, value: ${call}`);
            const g = tf.grad((x: tf.Tensor) => tf.sum(f(x, yAtOne, atOne)))(moved(q));
            if (!agree(moved(g).dataSync(), base.grad.dataSync())) problems.push(`axis 1, gradient: ${call}`);
          }
        });
      } catch (e) {
        throw new Error(`${stage} ${call}: ${(e as Error).message}`, { cause: e });
      }
      tf.dispose([q, y, where, w]);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('the drop-in gives tf.losses.softmaxCrossEntropy’s value and gradient, with random weights, smoothing and reductions', () => {
    const r = rng(7);
    const problems: string[] = [];
    for (let i = 0; i < 800; i++) {
      const sparse = r() < 0.4;
      // tf.losses spreads smoothing over shape[1] classes: rank 2 where smoothing is asked.
      const rank = pick(r, [1, 2, 2, 3]);
      const shape = Array.from({ length: rank }, (_, k) => (k === rank - 1 ? int(r, 1, 6) : int(r, 1, 4)));
      const C = shape[rank - 1],
        lead = shape.slice(0, -1);
      const ids = Array.from({ length: size(lead) }, () => int(r, 0, C - 1));
      // tf.oneHot takes depth >= 2; one class is a column of ones.
      const onehot = C === 1 ? tf.ones(shape) : tf.reshape(tf.oneHot(ids, C), shape);
      const q = tf.tensor(
        Array.from({ length: size(shape) }, () => (r() - 0.5) * 6),
        shape,
      );
      const w = pick(r, [() => undefined, () => 2, () => 0, () => tf.randomUniform(lead, 0, 2, 'float32', i), () => tf.zeros(lead)])();
      const smoothing = rank === 2 && r() < 0.3 ? pick(r, [0.1, 0.5, 1]) : undefined;
      const reduction =
        r() < 0.5 ? pick(r, [tf.Reduction.NONE, tf.Reduction.MEAN, tf.Reduction.SUM, tf.Reduction.SUM_BY_NONZERO_WEIGHTS]) : undefined;
      const idsOf = () => (lead.length === 1 ? ids : tf.tensor(ids, lead, 'int32').arraySync());
      const labels = sparse ? pick(r, [idsOf, () => tf.tensor(ids, lead, 'int32')])() : pick(r, [() => onehot, () => onehot.arraySync()])();
      const ours = (x: tf.Tensor) =>
        sparse
          ? mixloss.losses.sparseSoftmaxCrossEntropy(labels as never, x, w, smoothing, reduction)
          : mixloss.losses.softmaxCrossEntropy(labels as never, x, w, smoothing, reduction);
      const theirs = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, x, w, smoothing, reduction);
      const call = `${sparse ? 'sparse' : 'dense'} [${shape}] weights ${describeIt(w)} smoothing ${smoothing} reduction ${reduction}`;
      tf.tidy(() => {
        const [a, b] = [ours(q).dataSync(), theirs(q).dataSync()];
        for (let k = 0; k < a.length; k++) {
          // tf.losses' tiny losses are differences of rounded terms: compare above 1e-3.
          const close = Math.abs(a[k] - b[k]) <= 1e-5 * Math.max(1e-3 / 1e-5, Math.abs(b[k]) * 10);
          if (!(close || (Number.isNaN(a[k]) && Number.isNaN(b[k])))) problems.push(`value ${a[k]} vs ${b[k]}: ${call}`);
        }
        const nan = Array.from(b).some(Number.isNaN);
        const [ga, gb] = [
          tf
            .grad((x: tf.Tensor) => tf.sum(ours(x)))(q)
            .dataSync(),
          tf
            .grad((x: tf.Tensor) => tf.sum(theirs(x)))(q)
            .dataSync(),
        ];
        for (let k = 0; k < ga.length; k++) {
          // A mean over weights that sum to 0: NaN, and a zero gradient here where tf.losses' is NaN.
          const same = Math.abs(ga[k] - gb[k]) <= 1e-5 || (nan && ga[k] === 0 && Number.isNaN(gb[k]));
          if (!same) problems.push(`gradient ${ga[k]} vs ${gb[k]}: ${call}`);
        }
      });
      tf.dispose([onehot, q, ...(w instanceof tf.Tensor ? [w] : []), ...(labels instanceof tf.Tensor ? [labels] : [])]);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('the schedules, metrics, layers wrappers, analysis, top-k and the sharded head: a result or a mixloss Error, nothing left behind', () => {
    const r = rng(31);
    const odd = [
      undefined,
      null,
      0,
      1,
      -1,
      0.3,
      0.5,
      NaN,
      Infinity,
      '0.2',
      'F=0',
      'F=0-0.5',
      [0.1, 0.2],
      [],
      {},
      true,
      [{ F: 0.1, until: 1 }],
    ];
    const options = [
      undefined,
      null,
      {},
      { normalizePeak: true },
      { per: 'batch' },
      { gamma: 2 },
      { alpha: 1, beta: 2 },
      { bogus: 1 },
      0.3,
      'x',
    ];
    const problems: string[] = [];
    const check = (name: string, f: () => unknown) => {
      const before = backendCounts();
      try {
        const out = f();
        if (out instanceof tf.Tensor) out.dispose();
        else if (out !== null && typeof out === 'object' && 'values' in out)
          tf.dispose([(out as { values: tf.Tensor }).values, (out as { indices: tf.Tensor }).indices]);
      } catch (e) {
        if (!(e instanceof Error) || !/^mixloss\./.test(e.message)) problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const after = backendCounts();
      if (leftBehind(before, after)) problems.push(`${name}: left tensors behind`);
    };
    for (let i = 0; i < 1500; i++) {
      const [a, b, o] = [pick(r, odd), pick(r, odd), pick(r, options)];
      const [B, C] = [pick(r, [1, 3]), pick(r, [2, 4])];
      const logits = pick(r, [() => tf.randomNormal([B, C], 0, 1, 'float32', i), () => [[1, 2]], () => tf.tensor1d([1, 2]), () => null])();
      const labels = pick(r, [
        () =>
          tf.tensor1d(
            Array.from({ length: B }, (_, j) => j % C),
            'int32',
          ),
        () =>
          tf.oneHot(
            Array.from({ length: B }, () => 0),
            C,
          ),
        () => [0],
        () => 'x',
      ])();
      const kernel = tf.randomNormal([C, 5], 0, 1, 'float32', i);
      const at = `(${describeIt(a)}, ${describeIt(b)}, ${describeIt(o)}) on ${describeIt(logits)}, ${describeIt(labels)}`;
      check(`focusToWeights${at}`, () => mixloss.focusToWeights(a as never, o as never));
      check(`peakGradient${at}`, () => mixloss.peakGradient(o as never));
      check(`focusSchedule${at}`, () => mixloss.focusSchedule(a as never, o as never).atStep(typeof b === 'number' ? b : 1, 3));
      check(`scheduledMixedLoss${at}`, () => mixloss.scheduledMixedLoss(a as never, o as never).state);
      check(`mixedLossForLayers${at}`, () => mixloss.mixedLossForLayers(o as never)(labels as never, logits as never));
      check(`layersLosses.focalLoss${at}`, () => mixloss.layersLosses.focalLoss(o as never)(labels as never, logits as never));
      check(`metrics.accuracy${at}`, () => mixloss.metrics.accuracy(labels as never, logits as never));
      check(`metrics.crossEntropy${at}`, () => mixloss.metrics.crossEntropy(labels as never, logits as never));
      check(`targetProbabilities${at}`, () => mixloss.targetProbabilities(logits as never, labels as never));
      check(`headTopK${at}`, () => mixloss.headTopK(logits as never, kernel, pick(r, [1, 2, 0, 6, 2.5]), o as never));
      const shardOptions = o !== null && typeof o === 'object' ? { numClasses: C, ...o } : o;
      const stats = tf.tidy(() =>
        mixloss.headStatistics(tf.randomNormal([B, C], 0, 1, 'float32', i), kernel, [0, 4, 2].slice(0, B), { numClasses: 5 }),
      );
      check(`headStatistics${at}`, () => mixloss.headStatistics(logits as never, kernel, labels as never, shardOptions as never));
      check(`mergeHeadStatistics${at}`, () => mixloss.mergeHeadStatistics(pick(r, [[stats, logits], [stats], stats, logits, a]) as never));
      check(`headLoss${at}`, () => mixloss.headLoss(pick(r, [stats, logits]) as never, labels as never, shardOptions as never));
      check(`headGradients${at}`, () => {
        const g = mixloss.headGradients(logits as never, kernel, labels as never, pick(r, [stats, logits]) as never, shardOptions as never);
        tf.dispose(Object.values(g));
      });
      stats.dispose();
      check(`renyiInformation${at}`, () => mixloss.renyiInformation(labels as never, logits as never, o as never));
      check(`renyiEntropy${at}`, () => mixloss.renyiEntropy(logits as never, o as never));
      check(`silvermanWidth${at}`, () => mixloss.silvermanWidth(pick(r, [logits, a]) as never));
      check(`alignmentCandidates${at}`, () => mixloss.alignmentCandidates(logits as never, b as never));
      check(`WidthSelector${at}`, () => new mixloss.WidthSelector(a as never, o as never));
      check(`bucketTransitions${at}`, () => mixloss.bucketTransitions(o as never, a as never, b as never));
      check(`informationLoss${at}`, () => mixloss.informationLoss(o as never));
      tf.dispose([logits, labels, kernel].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('the fused head gives the loss op’s value and gradients on tf.matMul + bias, with random options', () => {
    const r = rng(11);
    const problems: string[] = [];
    const kinds: Array<[string, Record<string, unknown>, (q: tf.Tensor, y: tf.Tensor, o: object) => tf.Tensor]> = [
      ['mixed', { alpha: 1, beta: 0 }, (q, y, o) => mixloss.crossEntropy(q, y, o)],
      ['mixed', { alpha: 1, beta: 0.7 }, (q, y, o) => mixloss.mixedLoss(q, y, { alpha: 1, beta: 0.7, ...o })],
      ['focal', { gamma: 2 }, (q, y, o) => mixloss.focalLoss(q, y, { gamma: 2, ...o })],
      ['generalizedCE', { q: 0.7 }, (q, y, o) => mixloss.generalizedCrossEntropy(q, y, { q: 0.7, ...o })],
      ['mae', {}, (q, y, o) => mixloss.maeLoss(q, y, o)],
      ['tamedCE', { a: 0.5 }, (q, y, o) => mixloss.tamedCrossEntropy(q, y, { a: 0.5, ...o })],
    ];
    for (let i = 0; i < 600; i++) {
      const before = backendCounts();
      const [kind, params, lossOp] = pick(r, kinds);
      const lead = pick(r, [[int(r, 1, 5)], [int(r, 1, 3), int(r, 1, 3)]]);
      const rows = size(lead),
        D = int(r, 1, 6),
        C = int(r, 2, 9);
      const h = tf.randomNormal([...lead, D], 0, 1, 'float32', i);
      const k = tf.randomNormal([D, C], 0, 1, 'float32', i + 1);
      const b = r() < 0.5 ? tf.randomNormal([C], 0, 1, 'float32', i + 2) : undefined;
      const ids = Array.from({ length: rows }, () => (r() < 0.1 ? -100 : int(r, 0, C - 1)));
      const y = tf.tensor(ids, lead, 'int32');
      const o: Record<string, unknown> = {};
      if (r() < 0.3) o.reduction = pick(r, ['mean', 'sum', 'none', tf.Reduction.SUM_BY_NONZERO_WEIGHTS, tf.Reduction.MEAN]);
      if (r() < 0.25) o.weights = pick(r, [() => 1.5, () => tf.randomUniform(lead, 0, 2, 'float32', i + 3), () => tf.zeros(lead)])();
      if (r() < 0.25) o.classWeights = tf.randomUniform([C], 0.1, 2, 'float32', i + 4);
      if (ids.includes(-100) || r() < 0.2) o.ignoreIndex = -100;
      if (r() < 0.25 && (kind === 'mixed' || kind === 'mae')) o.labelSmoothing = pick(r, [0.1, 0.5]);
      if (r() < 0.2) o.zLoss = 1e-3;
      if (r() < 0.2) o.softcap = pick(r, [3, 30]);
      const call = `${kind} ${describeIt(params)} [${lead}]×${D}×${C} ${describeIt(o)} bias ${b !== undefined}`;
      tf.tidy(() => {
        const flatWeights = o.weights instanceof tf.Tensor ? tf.reshape(o.weights, [rows]) : o.weights;
        const head = (hh: tf.Tensor, kk: tf.Tensor, bb?: tf.Tensor) =>
          mixloss.linearLoss(hh, kk, y, { kind, ...params, ...o, ...(bb ? { bias: bb } : {}) } as never);
        const unfused = (hh: tf.Tensor, kk: tf.Tensor, bb?: tf.Tensor) => {
          const q = tf.matMul(tf.reshape(hh, [rows, D]), kk);
          return lossOp(bb ? tf.add(q, bb) : q, tf.reshape(y, [rows]), { ...o, weights: flatWeights });
        };
        const args = b ? [h, k, b] : [h, k];
        const [va, vb] = [head(h, k, b).dataSync(), unfused(h, k, b).dataSync()];
        for (let j = 0; j < va.length; j++) {
          if (!(Math.abs(va[j] - vb[j]) <= 2e-5 * Math.max(1, Math.abs(vb[j])) || (Number.isNaN(va[j]) && Number.isNaN(vb[j])))) {
            problems.push(`value ${va[j]} vs ${vb[j]}: ${call}`);
          }
        }
        const ga = tf.grads((...t: tf.Tensor[]) => tf.sum(head(t[0], t[1], t[2])))(args);
        const gb = tf.grads((...t: tf.Tensor[]) => tf.sum(unfused(t[0], t[1], t[2])))(args);
        ga.forEach((g, j) => {
          const [x, z] = [g.dataSync(), gb[j].dataSync()];
          const scale = Math.max(1e-3, ...Array.from(z).map(Math.abs));
          for (let m = 0; m < x.length; m++) {
            if (!(Math.abs(x[m] - z[m]) <= 1e-4 * scale)) {
              problems.push(`${['hidden', 'kernel', 'bias'][j]} gradient ${x[m]} vs ${z[m]}: ${call}`);
              break;
            }
          }
        });
      });
      tf.dispose([h, k, y, ...(b ? [b] : []), ...Object.values(o).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
      const after = backendCounts();
      if (leftBehind(before, after)) problems.push(`left tensors behind: ${call}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });
  it("the class-sharded head gives linearLoss's value, shape and gradients: random kinds, options, shards and label forms", () => {
    const r = rng(77);
    const problems: string[] = [];
    const kinds: Array<[string, Record<string, unknown>]> = [
      ['mixed', { alpha: 1, beta: 0 }],
      ['mixed', { alpha: 1, beta: 0.7 }],
      ['focal', { gamma: 2 }],
      ['generalizedCE', { q: 0.7 }],
      ['mae', {}],
      ['tamedCE', { a: 0.5 }],
    ];
    let compared = 0;
    for (let i = 0; i < 400; i++) {
      const before = backendCounts();
      const [kind, params] = pick(r, kinds);
      const lead = pick(r, [[int(r, 1, 6)], [int(r, 1, 3), int(r, 1, 3)], [int(r, 1, 4), 1]]);
      const rows = size(lead),
        D = int(r, 1, 5),
        C = int(r, 2, 12);
      const cuts = [0];
      while (cuts[cuts.length - 1] < C) cuts.push(Math.min(C, cuts[cuts.length - 1] + int(r, 1, C)));
      const h = tf.randomNormal([...lead, D], 0, 1, 'float32', i);
      const k = tf.randomNormal([D, C], 0, 1, 'float32', i + 1);
      const b = r() < 0.5 ? tf.randomNormal([C], 0, 1, 'float32', i + 2) : undefined;
      const ids = Array.from({ length: rows }, () => (r() < 0.1 ? -100 : int(r, 0, C - 1)));
      const idTensor = tf.tensor(ids, lead, 'int32');
      const form = pick(r, ['int32', 'float32', 'nested', 'column', 'nested column']);
      const y: unknown = {
        int32: () => idTensor,
        float32: () => tf.tensor(ids, lead, 'float32'),
        nested: () => idTensor.arraySync(),
        column: () => tf.tensor(ids, [...lead, 1], 'int32'),
        'nested column': () => tf.tidy(() => tf.reshape(idTensor, [...lead, 1]).arraySync()),
      }[form]();
      const o: Record<string, unknown> = {};
      if (r() < 0.4) o.reduction = pick(r, ['mean', 'sum', 'none', tf.Reduction.SUM_BY_NONZERO_WEIGHTS, tf.Reduction.MEAN]);
      if (r() < 0.3)
        o.weights = pick(r, [
          () => 1.5,
          () => tf.randomUniform(lead, 0, 2, 'float32', i + 3),
          () => tf.zeros(lead),
          () => tf.randomUniform([lead[0], ...lead.slice(1).map(() => 1)], 0, 2, 'float32', i + 5),
        ])();
      if (r() < 0.3) o.classWeights = tf.randomUniform([C], 0.1, 2, 'float32', i + 4);
      if (ids.includes(-100) || r() < 0.2) o.ignoreIndex = -100;
      if (r() < 0.3 && (kind === 'mixed' || kind === 'mae')) o.labelSmoothing = pick(r, [0.1, 0.5]);
      if (r() < 0.25) o.zLoss = pick(r, [1e-3, 0.1]);
      if (r() < 0.25) o.softcap = pick(r, [1, 3, 30]);
      const none = o.reduction === 'none';
      const call = `${kind} ${describeIt(params)} [${lead}]×${D}×${C} shards ${cuts} labels ${form} ${describeIt(o)} bias ${b !== undefined}`;
      try {
        tf.tidy(() => {
          const op = (hh: tf.Tensor, kk: tf.Tensor, bb?: tf.Tensor) =>
            mixloss.linearLoss(hh, kk, y as never, { kind, ...params, ...o, ...(bb ? { bias: bb } : {}) } as never);
          const want = op(h, k, b);
          const shard = (lo: number, hi: number) => ({
            options: { kind, ...params, ...o, numClasses: C, classOffset: lo, ...(b ? { bias: tf.slice(b, [lo], [hi - lo]) } : {}) },
            kernel: tf.slice(k, [0, lo], [D, hi - lo]),
            lo,
            hi,
          });
          const shards = cuts.slice(0, -1).map((lo, s) => shard(lo, cuts[s + 1]));
          const stats = shards.map((s) => mixloss.headStatistics(h, s.kernel, y as never, s.options as never));
          const merged = mixloss.mergeHeadStatistics(stats.reverse());
          const got = mixloss.headLoss(merged, y as never, { kind, ...params, ...o, numClasses: C } as never);
          if (describeIt(got.shape) !== describeIt(want.shape)) problems.push(`shape [${got.shape}] vs [${want.shape}]: ${call}`);
          const [va, vb] = [got.dataSync(), want.dataSync()];
          for (let j = 0; j < vb.length; j++) {
            if (!(
              va[j] === vb[j] ||
              Math.abs(va[j] - vb[j]) <= 1e-5 * Math.max(1, Math.abs(vb[j])) ||
              (Number.isNaN(va[j]) && Number.isNaN(vb[j]))
            ))
              problems.push(`value ${va[j]} vs ${vb[j]}: ${call}`);
          }
          compared++;
          if (none) return;
          const ref = tf
            .grads((...t: tf.Tensor[]) => op(t[0], t[1], t[2]))(b ? [h, k, b] : [h, k])
            .map((g) => g.dataSync());
          const gh = new Float32Array(rows * D),
            gk = new Float32Array(D * C),
            gb = new Float32Array(C);
          for (const s of shards) {
            const g = mixloss.headGradients(h, s.kernel, y as never, merged, s.options as never);
            g.hidden.dataSync().forEach((v, j) => (gh[j] += v));
            const dk = g.kernel.dataSync();
            for (let d = 0; d < D; d++) for (let j = s.lo; j < s.hi; j++) gk[d * C + j] = dk[d * (s.hi - s.lo) + j - s.lo];
            if (g.bias) gb.set(g.bias.dataSync(), s.lo);
          }
          [gh, gk, gb].slice(0, ref.length).forEach((g, j) => {
            const scale = Math.max(1e-3, ...Array.from(ref[j]).map(Math.abs));
            const m = g.findIndex((v, n) => !(Math.abs(v - ref[j][n]) <= 1e-4 * scale));
            if (m >= 0) problems.push(`${['hidden', 'kernel', 'bias'][j]} gradient ${g[m]} vs ${ref[j][m]}: ${call}`);
          });
        });
      } catch (e) {
        problems.push(`${e instanceof Error ? e.message : String(e)}: ${call}`);
      }
      tf.dispose([h, k, idTensor, ...(b ? [b] : []), ...(y instanceof tf.Tensor && y !== idTensor ? [y] : [])]);
      tf.dispose(Object.values(o).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
      if (leftBehind(before, backendCounts())) problems.push(`left tensors behind: ${call}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(compared).toBe(400);
  });
  it('gradients with respect to sample weights and dense targets agree with central differences, every op and reduction', () => {
    // tfjs differentiates what the ops record in stock ops too (a dense form, a weighted mean): a
    // comparison there has no tfjs gradient, and a guard can zero a derivative that is not zero.
    const r = rng(909);
    const DENSE = new Set(['crossEntropy', 'expectationLoss', 'mixedLoss', 'polyLoss', 'maeLoss', 'focalLoss']);
    const problems: string[] = [];
    let compared = 0;
    for (let i = 0; i < 200; i++) {
      const op = pick(r, OPS);
      const lead = r() < 0.5 ? [int(r, 1, 3), int(r, 1, 3)] : [int(r, 1, 5)];
      const C = int(r, 2, 6);
      const rows = size(lead),
        shape = [...lead, C];
      const dense = DENSE.has(op) && r() < 0.5;
      const o: Record<string, unknown> = {
        reduction: pick(r, ['mean', 'sum', 'none', tf.Reduction.SUM_BY_NONZERO_WEIGHTS, tf.Reduction.MEAN]),
      };
      if (r() < 0.3) o.classWeights = Array.from({ length: C }, () => 0.2 + r() * 2);
      if (!dense && r() < 0.4) o.ignoreIndex = -100;
      if (DENSE.has(op) && r() < 0.3) o.labelSmoothing = pick(r, [0.1, 0.3]);
      if (r() < 0.2) o.zLoss = 1e-2;
      if (r() < 0.2) o.softcap = pick(r, [3, 30]);
      if (op === 'mixedLoss') Object.assign(o, { alpha: 1, beta: pick(r, [0, 0.5, 2]) });
      if (op === 'focalLoss') o.gamma = pick(r, [0, 2]);
      if (dense) o.checkTargets = false; // the central differences move the targets off the simplex
      const qv = Array.from({ length: rows * C }, () => (r() - 0.5) * 6);
      const tv = Array.from({ length: rows }, () => Array.from({ length: C }, () => (r() < 0.3 ? 0 : r()))).flatMap((row) => {
        const total = row.reduce((a, b) => a + b, 0) || 1;
        return row.map((v) => v / total);
      });
      const ids = Array.from({ length: rows }, () => (o.ignoreIndex !== undefined && r() < 0.2 ? -100 : int(r, 0, C - 1)));
      const sv = Array.from({ length: rows }, () => (r() < 0.15 ? 0 : 0.2 + r() * 2));
      const dyv = Array.from({ length: rows }, () => r() * 2 - 1);
      const none = o.reduction === 'none';
      const f = mixloss[op] as (q: unknown, y: unknown, o?: unknown) => tf.Tensor;
      const call = `${op} [${shape}] ${dense ? 'targets' : 'class ids'} ${JSON.stringify(o)}`;
      try {
        tf.tidy(() => {
          const q = tf.tensor(qv, shape);
          // A scalar of (weights, targets): the loss, or Σ dy·loss for 'none'.
          const loss = (s: tf.Tensor, y: tf.Tensor) => {
            const v = f(q, y, { ...o, weights: s });
            return none ? tf.sum(tf.mul(v, tf.tensor(dyv, lead))) : v;
          };
          const y0 = dense ? tf.tensor(tv, shape) : tf.tensor(ids, lead, 'int32');
          const at = (s: number[], t: number[]) => loss(tf.tensor(s, lead), dense ? tf.tensor(t, shape) : y0).dataSync()[0];
          const base = at(sv, tv);
          if (!Number.isFinite(base)) return;
          const [gs, gt] = dense
            ? tf.grads((s: tf.Tensor, y: tf.Tensor) => loss(s, y))([tf.tensor(sv, lead), y0])
            : [tf.grad((s: tf.Tensor) => loss(s, y0))(tf.tensor(sv, lead))];
          compared++;
          const check = (name: string, g: tf.Tensor, values: number[], j: number, eps: number) => {
            const up = values.slice(),
              down = values.slice();
            up[j] += eps;
            down[j] -= eps;
            const fd = name === 'weights' ? (at(up, tv) - at(down, tv)) / (2 * eps) : (at(sv, up) - at(sv, down)) / (2 * eps);
            const got = g.dataSync()[j];
            if (!(Math.abs(fd - got) <= 2e-2 * Math.max(1e-2, Math.abs(fd), Math.abs(base))))
              problems.push(`${name}[${j}] ${got}, central difference ${fd}: ${call}`);
          };
          // (A weight of 0 is where the count of non-zero weights jumps: left out.)
          for (let j = 0; j < rows; j++) if (sv[j] > 0.05) check('weights', gs, sv, j, 1e-2);
          if (gt !== undefined) for (let j = 0; j < rows * C; j += 3) check('targets', gt, tv, j, 1e-3);
        });
      } catch (e) {
        problems.push(`${(e as Error).message}: ${call}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(150);
  });

  it('every export, its static functions and the methods of what it returns, with any arguments: a result or a mixloss Error, nothing left behind', async () => {
    const r = rng(5150);
    // Process-wide settings are left out: a random call would change them for the suites after.
    const skip = new Set(['setNumThreads', 'configureGradientPool', 'clearGradientPool']);
    const targets: Array<[string, (...a: unknown[]) => unknown, boolean]> = [];
    const add = (name: string, v: unknown) => {
      if (typeof v !== 'function' || skip.has(name)) return;
      const isClass = /^[A-Z]/.test(name.split('.').pop() as string);
      targets.push([name, v as (...a: unknown[]) => unknown, isClass]);
      if (isClass)
        for (const k of Object.getOwnPropertyNames(v))
          if (!['length', 'name', 'prototype'].includes(k))
            add(`${name}.${k}`.replace(/\.([A-Z])/, '.$1'), (v as Record<string, unknown>)[k]);
    };
    for (const [k, v] of Object.entries(mixloss)) {
      add(k, v);
      if (v !== null && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) add(`${k}.${k2}`, v2);
    }
    // Statics are plain functions of their class: `DeviceTensor.empty` is not a class.
    for (const t of targets) if (t[0].includes('.') && /^[a-z]/.test(t[0].split('.').pop() as string)) t[2] = false;
    const self: unknown[] = [];
    self.push(self);
    const values = (): unknown[] => [
      undefined,
      null,
      0,
      -0,
      1,
      2,
      -1,
      1.5,
      NaN,
      Infinity,
      1e300,
      2 ** 31,
      'mean',
      '',
      'abc',
      true,
      false,
      1n,
      Symbol('s'),
      () => 1,
      [],
      [0],
      [
        [1, 2],
        [3, 4],
      ],
      [
        [0.5, 0.5],
        [1, 0],
      ],
      [1n],
      self,
      {},
      Object.create(null),
      { reduction: 'sum' },
      { alpha: 1, beta: 1 },
      { k: 1 },
      new Map(),
      new Date(0),
      new Float32Array([1, 2]),
      new Int32Array([0, 1]),
      new BigInt64Array(1),
      new Uint8Array([1]),
      new DataView(new ArrayBuffer(4)),
      new Float64Array([0.5]),
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      tf.tensor1d([0, 1], 'int32'),
      tf.tensor1d([0.5, 2]),
      tf.scalar(1),
      tf.tensor2d([[true, false]], [1, 2], 'bool'),
      tf.tensor1d(['a'], 'string'),
      // complex64 where the backend has it (tfjs-backend-wasm registers no Complex kernel).
      ...(tf.getBackend() === 'cpu' ? [tf.complex([1], [2])] : []),
      tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]),
      tf.zeros([0, 3]),
      (() => {
        const t = tf.tensor1d([1, 2]);
        t.dispose();
        return t;
      })(),
    ];
    const isOurs = (e: unknown) => e instanceof Error && /^mixloss[./:]/.test(e.message);
    const disposeResult = (x: unknown) => {
      if (x instanceof tf.Tensor) x.dispose();
      else if (x !== null && typeof x === 'object' && !ArrayBuffer.isView(x))
        for (const v of Object.values(x)) if (v instanceof tf.Tensor) v.dispose();
    };
    const problems: string[] = [];
    let returned = 0;
    for (let i = 0; i < 3000; i++) {
      const [name, f, isClass] = pick(r, targets);
      const pool = values();
      const args = Array.from({ length: int(r, 0, 5) }, () => pick(r, pool));
      const call = `${name}(${args.map(describeIt).join(', ')})`;
      const before = backendCounts();
      try {
        const out = isClass ? new (f as unknown as new (...a: unknown[]) => unknown)(...args) : f(...args);
        const result = out instanceof Promise ? await out : out;
        returned++;
        // Methods of a class instance it returned (not those of arrays or maps: they are JavaScript's),
        // the functions a plain object it returned holds (a loss, a callback), or the function it returned.
        const proto = result !== null && typeof result === 'object' ? Object.getPrototypeOf(result) : null;
        const ownClass =
          proto !== null &&
          proto !== Object.prototype &&
          !Array.isArray(result) &&
          !(result instanceof Map) &&
          !(result instanceof tf.Tensor) &&
          !ArrayBuffer.isView(result);
        const held =
          proto === Object.prototype
            ? Object.keys(result as object).filter((k) => typeof (result as Record<string, unknown>)[k] === 'function')
            : typeof result === 'function'
              ? ['(itself)']
              : [];
        const methods = ownClass ? Object.getOwnPropertyNames(proto).filter((k) => k !== 'constructor') : held;
        for (let j = 0; j < 3 && methods.length > 0; j++) {
          const m = pick(r, methods);
          const margs = Array.from({ length: int(r, 0, 3) }, () => pick(r, pool));
          try {
            const fn = m === '(itself)' ? result : (result as Record<string, unknown>)[m];
            if (typeof fn !== 'function') continue;
            const o2 = (fn as (...a: unknown[]) => unknown).apply(result, margs);
            disposeResult(o2 instanceof Promise ? await o2 : o2);
          } catch (e) {
            if (!isOurs(e)) problems.push(`${call}.${m}(${margs.map(describeIt).join(', ')}): ${String(e).slice(0, 160)}`);
          }
        }
        disposeResult(result);
      } catch (e) {
        if (!isOurs(e)) problems.push(`${call}: ${String(e).slice(0, 160)}`);
      }
      // A class instance may hold tensors of its own (a state, a selector): only plain calls are counted.
      if (!isClass && leftBehind(before, backendCounts())) problems.push(`left something behind: ${call}`);
      tf.dispose(pool.filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(returned).toBeGreaterThan(150); // some calls get through to real work
  });
});
