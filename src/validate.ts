// Checks on the ops' arguments, before any kernel runs. Every message names the argument.
import { Tensor } from '@tensorflow/tfjs-core';

export function fail(op: string, message: string): never {
  throw new Error(`mixloss.${op}: ${message}`);
}

/**
 * An options argument: an object whose names are all known, none set to null (an option is left
 * out to get its default; null is a mistake, not a request for the default).
 */
export function checkOptionNames(op: string, options: unknown, known: readonly string[]): void {
  if (!isOptionsObject(options)) fail(op, `options must be an object, got ${optionsShown(options)}`);
  for (const [name, value] of Object.entries(options as object)) {
    if (!known.includes(name)) fail(op, `unknown option '${name}' (it takes: ${known.join(', ')})`);
    if (value === null) fail(op, `${name} is null: pass a value, or leave ${name} out for its default`);
  }
}

/**
 * Whether a value can be an object of named options: an object, but not an array, a TypedArray,
 * a tensor or one of JavaScript's containers (their entries are not option names).
 */
export function isOptionsObject(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof ArrayBuffer) &&
    !(value instanceof Tensor) &&
    !(value instanceof Map) &&
    !(value instanceof Set) &&
    !(value instanceof Date) &&
    !(value instanceof Promise)
  );
}

/** An options argument that may be left out: undefined is {}, anything but an object of named options an Error. */
export function optionsObject<T extends object>(op: string, options: T | undefined): T {
  if (options === undefined) return {} as T;
  if (!isOptionsObject(options)) fail(op, `options must be an object, got ${optionsShown(options)}`);
  return options;
}

/** An options argument as a message names it. */
export function optionsShown(value: unknown): string {
  if (value instanceof Tensor) return 'a tf.Tensor';
  if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set || value instanceof Date || value instanceof Promise)
    return `a ${(value as object).constructor.name}`;
  return shown(value);
}

/** What tfjs-layers passes a loss or a metric: tensors (a call by hand with arrays gets what to do). */
export function layersTensors(op: string, yTrue: unknown, yPred: unknown): void {
  for (const [name, t] of [
    ['yTrue', yTrue],
    ['yPred', yPred],
  ] as const) {
    if (!(t instanceof Tensor) || t.isDisposed) {
      fail(
        op,
        `${name} must be a tf.Tensor (as model.compile passes it), got ${t instanceof Tensor ? 'a disposed tensor' : shown(t)}; ` +
          'on arrays call the op itself, with (logits, labels)',
      );
    }
  }
  if ((yPred as Tensor).rank < 1) fail(op, 'yPred must have a class axis: the model outputs logits [batch, classes], got a scalar');
}

/**
 * An error named after the op the user called: the addon's ("mixloss: label 7 at row 1 ..."), or
 * one from an op this op called (`from`: "mixloss.crossEntropy: ").
 */
export function named(e: unknown, op: string, from = 'mixloss: '): unknown {
  if (e instanceof Error && e.message.startsWith(from)) e.message = `mixloss.${op}: ${e.message.slice(from.length)}`;
  return e;
}

/**
 * A value as a message shows it: numbers as they are, anything else with its type ("1" (a string),
 * 2n (a bigint)). Never throws, whatever the value (a symbol, a cyclic array, an object without a
 * prototype): an error message must not become another error.
 */
export function shown(value: unknown): string {
  if (typeof value === 'number' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Tensor) return `a tf.Tensor ${value.dtype} [${value.shape.join(', ')}]`;
  return `${described(value)} (${typeof value === 'object' ? 'an' : 'a'} ${typeof value})`;
}

/**
 * A value as JSON would write it (arrays and plain objects in full, up to 80 characters), or its
 * kind where JSON cannot (a bigint as 2n, a symbol, a function, a cyclic array). Never throws.
 */
export function described(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
  }
  if (value === null) return 'null';
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // cyclic, or a toJSON that throws
  }
  return Array.isArray(value) ? 'an array' : objectText(value);
}

/** An object's own text (String(value)), or "an object" where it has none or it throws. */
function objectText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'an object';
  }
}

export function checkNonNegative(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(op, `${name} must be a finite number >= 0, got ${shown(value)}`);
  }
  return value;
}

/**
 * Whether labels of this shape are targets [..., C] rather than class ids. With one class, a
 * [..., 1] tensor is class ids, whatever its dtype and whatever the loss (one rule for every op:
 * a softmax over one class is 1, so a one-hot column and the class id 0 mean the same row).
 * leadRank: the rank of the rows' shape (logits' rank − 1).
 */
export function labelsAreDense(shape: readonly number[], _dtype: string, classes: number, leadRank = 1): boolean {
  return shape.length === leadRank + 1 && shape[leadRank] === classes && classes !== 1;
}
