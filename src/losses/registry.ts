// The registry's parameter ranges applied to an op's options: the ranges come from the addon
// (kernels/registry.ts); nothing here restates them.
import type { LossSpec } from '../kernels/attrs';
import { kindFacts } from '../kernels/registry';
import { native } from '../native';
import { fail, shown } from '../validate';

export { isLinear, lossKinds } from '../kernels/registry';

const end = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '-∞' : String(v));

/**
 * Checks an op's option `name` (default `fallback`) against the range the registry gives the
 * kind's parameter `param`, and returns it. The message names the op and the option.
 */
export function registryParam(op: string, kind: string, param: string, name: string, value: unknown, fallback: number): number {
  const spec = kindFacts(kind).params.find((p) => p.name === param);
  if (spec === undefined) throw new Error(`mixloss: loss kind '${kind}' has no parameter '${param}'`);
  const v = value ?? fallback;
  const range = `${spec.minOpen || spec.min === -Infinity ? '(' : '['}${end(spec.min)}, ${end(spec.max)}${spec.maxOpen || spec.max === Infinity ? ')' : ']'}`;
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (spec.minOpen ? v > spec.min : v >= spec.min) &&
    (spec.maxOpen ? v < spec.max : v <= spec.max);
  if (!ok) fail(op, `${name} must be a finite number in ${range}, got ${shown(v)}`);
  return v as number;
}

const checked = new Map<string, string | null>();

/**
 * The addon's verdict on a loss spec (null, or what is wrong), remembered: a training loop asks
 * the same question every step, and the answer depends on nothing else.
 */
export function checkLossSpec(spec: LossSpec, dense: boolean, classWeights: boolean): string | null {
  const key = `${dense ? 1 : 0}${classWeights ? 1 : 0}${Object.keys(spec)
    .map((k) => `${k}=${String(spec[k])}`)
    .join(',')}`;
  let problem = checked.get(key);
  if (problem === undefined) {
    problem = native().checkLoss({ loss: spec, dense, classWeights });
    if (checked.size >= 256) checked.clear();
    checked.set(key, problem);
  }
  return problem;
}
