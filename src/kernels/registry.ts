// The native registry's facts, read from the addon once: each loss kind's name, linearity, needs
// and parameters (native/core/losses/registry.h), and the layout of the row statistics
// (native/core/row_stats.h). Every TypeScript list of kinds or statistics slots comes from here:
// nothing on this side restates them.
import { native } from '../native';
import type { NativeLossKind, NativeStatsLayout } from '../native';

let kinds: Map<string, NativeLossKind> | undefined;
let layout: NativeStatsLayout | undefined;

/** The registry's kinds by name, in its order. */
export function lossKinds(): ReadonlyMap<string, NativeLossKind> {
  if (kinds === undefined)
    kinds = new Map(
      native()
        .lossKinds()
        .map((k) => [k.name, k]),
    );
  return kinds;
}

/** One kind's facts; an Error when the addon has no such kind. */
export function kindFacts(kind: string): NativeLossKind {
  const k = lossKinds().get(kind);
  if (k === undefined) throw new Error(`mixloss: the addon has no loss kind '${kind}' (an addon older than this package?)`);
  return k;
}

export function isLinear(kind: string): boolean {
  return kindFacts(kind).linear;
}

/** The row statistics' layout: floats per row and each slot's index by name. */
export function statsLayout(): NativeStatsLayout {
  if (layout === undefined) layout = native().statsLayout();
  return layout;
}

/** A slot's index among a row's statistics, by its name in row_stats.h. */
export function statsSlot(name: string): number {
  const i = statsLayout().slots[name];
  if (i === undefined) throw new Error(`mixloss: the addon's row statistics have no slot '${name}' (an addon older than this package?)`);
  return i;
}
