// Every loss op by name, with the kind of the registry it runs: filled as each op file defines
// its ops (lossOp), and read wherever a list of ops is needed — the tfjs-layers losses, and the
// messages that name the ops linear in the targets — so that no such list is typed by hand.
import { isLinear } from '../kernels/registry';

/** What lossOp adds to an op function. */
export interface LossOpInfo {
  /** The registry's kind the op runs (native/core/losses/registry.h). */
  readonly lossKind: string;
  /**
   * The op takes dense targets though its kind is not linear in them (its dense form in stock
   * ops: focal); kinds linear in the targets take them anyway.
   */
  readonly denseForm: boolean;
}

const OPS = new Map<string, string>();

/**
 * Declares `op` (a named function) as a loss op of `kind`, and returns it marked with its kind.
 * The op's name is the function's own. denseForm: it takes dense targets through stock ops.
 */
export function lossOp<F extends (...args: never[]) => unknown>(kind: string, op: F, denseForm = false): F & LossOpInfo {
  if (OPS.has(op.name)) throw new Error(`mixloss: the loss op ${op.name} is defined twice`);
  OPS.set(op.name, kind);
  Object.defineProperty(op, 'denseForm', { value: denseForm, enumerable: true });
  return Object.defineProperty(op, 'lossKind', { value: kind, enumerable: true }) as F & LossOpInfo;
}

/** Whether the op takes dense targets [..., C]: its kind is linear in them, or it has a dense form. */
export const takesTargets = (op: LossOpInfo) => op.denseForm || isLinear(op.lossKind);

export function isLossOp(f: unknown): f is ((...args: never[]) => unknown) & LossOpInfo {
  const kind = typeof f === 'function' ? (f as Partial<LossOpInfo>).lossKind : undefined;
  return kind !== undefined && OPS.get((f as () => unknown).name) === kind;
}

/** The loss ops and their kinds, in the order they were defined. */
export function lossOps(): ReadonlyMap<string, string> {
  return OPS;
}

/** The ops whose kind is linear in the targets (they take dense targets and label smoothing), for messages. */
export function linearOpNames(): string {
  return [...OPS]
    .filter(([, kind]) => isLinear(kind))
    .map(([name]) => name)
    .join(', ');
}

const DEFAULTS = new Map<string, Readonly<Record<string, number>>>();

/**
 * Declares the defaults of a kind's parameters (its op file's, used by its op and by the ops that
 * take a kind by name, as the fused head's linearLoss), and returns them.
 */
export function kindDefaults<D extends Record<string, number>>(kind: string, defaults: D): Readonly<D> {
  if (DEFAULTS.has(kind)) throw new Error(`mixloss: the defaults of loss kind ${kind} are declared twice`);
  DEFAULTS.set(kind, Object.freeze({ ...defaults }));
  return defaults;
}

/** The declared defaults of a kind's parameters ({} for a kind without parameters). */
export function defaultsOf(kind: string): Readonly<Record<string, number>> {
  return DEFAULTS.get(kind) ?? {};
}

/** The first op declared for a kind (its op file's main op), or undefined. */
export function opOfKind(kind: string): string | undefined {
  for (const [name, k] of OPS) if (k === kind) return name;
  return undefined;
}
