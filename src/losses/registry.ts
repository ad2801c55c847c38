// The loss kinds as the native registry lists them (native/core/losses/registry.h): names,
// whether each is linear in the targets, and each named parameter's range. Read from the
// addon once; nothing here restates the list.
import { native } from '../native';
import type { NativeLossKind } from '../native';
import { fail, shown } from '../validate';

let kinds: Map<string, NativeLossKind> | undefined;

/** The registry's kinds by name. */
export function lossKinds(): ReadonlyMap<string, NativeLossKind> {
  if (kinds === undefined) kinds = new Map(native().lossKinds().map((k) => [k.name, k]));
  return kinds;
}

function kindNamed(kind: string): NativeLossKind {
  const k = lossKinds().get(kind);
  if (k === undefined) throw new Error(`mixloss: the addon has no loss kind '${kind}' (an addon older than this package?)`);
  return k;
}

const end = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '-∞' : String(v));

/**
 * Checks an op's option `name` (default `fallback`) against the range the registry gives the
 * kind's parameter `param`, and returns it. The message names the op and the option.
 */
export function registryParam(op: string, kind: string, param: string, name: string, value: unknown, fallback: number): number {
  const spec = kindNamed(kind).params.find((p) => p.name === param);
  if (spec === undefined) throw new Error(`mixloss: loss kind '${kind}' has no parameter '${param}'`);
  const v = value ?? fallback;
  const range = `${spec.minOpen || spec.min === -Infinity ? '(' : '['}${end(spec.min)}, ${end(spec.max)}${spec.maxOpen || spec.max === Infinity ? ')' : ']'}`;
  const ok = typeof v === 'number' && Number.isFinite(v) && (spec.minOpen ? v > spec.min : v >= spec.min) &&
    (spec.maxOpen ? v < spec.max : v <= spec.max);
  if (!ok) fail(op, `${name} must be a finite number in ${range}, got ${shown(v)}`);
  return v as number;
}

export function isLinear(kind: string): boolean {
  return kindNamed(kind).linear;
}
