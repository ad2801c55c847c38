// The registry's parameter ranges applied to an op's options: the ranges come from the addon
// (kernels/registry.ts); nothing here restates them.
import { kindFacts } from '../kernels/registry';
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
