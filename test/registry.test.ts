// One source of truth: the native registry (native/core/losses/registry.h, loss_spec.h's needs,
// row_stats.h's slots) decides every list of kinds, needs and statistics slots on the TypeScript
// and WGSL side. These tests fail when a fact written by hand on this side disagrees with the
// addon: the WGSL kind rows and their parameters, the WGSL statistics layout, the TypeScript
// names of needs and slots, the ops and their kinds, the messages that list linear kinds.
import { beforeAll, describe, expect, it } from 'vitest';

import * as mixloss from '../src';
import { kindFacts, lossKinds, statsLayout, statsSlot } from '../src/kernels/registry';
import { KIND_ROWS } from '../src/kernels/webgpu/kind_rows';
import { loadStatsCode, rowMathCode, statsCode, statsFields, storeStatsCode } from '../src/kernels/webgpu/wgsl/row_math';
import { isLossOp, linearOpNames, lossOps, takesTargets } from '../src/losses/op_table';
import type { LossOpInfo } from '../src/losses/op_table';
import { native } from '../src/native';
import { LOSSES } from './support/losses';
import { tf, thrownBy, useTestBackend } from './support/tf';

beforeAll(useTestBackend);

/** Indices i of every `<array>[at + i]` in WGSL code, in order. */
const indices = (code: string, array: string) =>
  [...code.matchAll(new RegExp(`${array}\\[at \\+ (\\d+)\\]`, 'g'))].map((m) => Number(m[1]));

describe('the registry as the addon reports it', () => {
  it('every kind carries its needs (by the names TypeScript reads), linearity, complement term and parameters', () => {
    expect(lossKinds().size).toBeGreaterThanOrEqual(7);
    for (const k of lossKinds().values()) {
      expect(Object.keys(k.needs).sort()).toEqual(['argmax', 'expLogit', 'targets']);
      expect(typeof k.linear).toBe('boolean');
      expect(typeof k.complement).toBe('boolean');
      for (const p of k.params) expect(p.min).toBeLessThanOrEqual(p.max);
    }
    // What the kinds' headers say (losses/mpce.h, complement_entropy.h, mixed.h).
    expect(kindFacts('mpce').needs).toEqual({ argmax: true, targets: false, expLogit: false });
    expect(kindFacts('complementEntropy')).toMatchObject({ complement: true, needs: { expLogit: true } });
    expect(kindFacts('mixed')).toMatchObject({
      linear: true,
      complement: false,
      needs: { argmax: false, targets: false, expLogit: false },
    });
  });

  it('the row statistics: 0..perRow−1, the addon info agrees, and the slots TypeScript reads exist', () => {
    const { perRow, slots } = statsLayout();
    expect(Object.values(slots).sort((a, b) => a - b)).toEqual(Array.from({ length: perRow }, (_, i) => i));
    expect(native().info().statsPerRow).toBe(perRow);
    for (const name of ['mass', 't_min', 'value']) expect(Number.isInteger(statsSlot(name))).toBe(true);
    expect(() => statsSlot('no_such_slot')).toThrow(/no slot 'no_such_slot'/);
  });

  it("the addon's messages list the kinds linear in the targets from the registry", () => {
    const linear = [...lossKinds().values()]
      .filter((k) => k.linear)
      .map((k) => k.name)
      .join(', ');
    expect(linear.length).toBeGreaterThan(0);
    const nonLinear = [...lossKinds().values()].find((k) => !k.linear)!.name;
    expect(native().checkLoss({ loss: { kind: nonLinear, labelSmoothing: 0.1 }, dense: false, classWeights: false })).toBe(
      `labelSmoothing needs a loss linear in the targets (${linear}); '${nonLinear}' is not`,
    );
    expect(native().checkLoss({ loss: { kind: nonLinear }, dense: true, classWeights: false })).toBe(
      `dense targets need a loss linear in the targets (${linear}); '${nonLinear}' takes class ids only`,
    );
  });
});

describe('WGSL from the registry', () => {
  it('a kind_row for every kind not linear in the targets, and for no other name', () => {
    const own = [...lossKinds().values()]
      .filter((k) => !k.linear)
      .map((k) => k.name)
      .sort();
    expect(Object.keys(KIND_ROWS).sort()).toEqual(own);
  });

  for (const kind of lossKinds().values()) {
    it(`${kind.name}: its row math reads exactly the registry's parameters (p_<name>) and declares kind_row`, () => {
      const code = rowMathCode(kind);
      expect(code).toMatch(/fn kind_row\(s: RowStats, k_is_y: bool\) -> KindRow/);
      expect(code).toMatch(/fn kind_linear\(\) -> Linear/);
      const read = new Set([...code.matchAll(/uniforms\.p_(\w+)/g)].map((m) => m[1]));
      const params = kind.params.map((p) => p.name);
      for (const p of read) expect(params).toContain(p);
      // A kind with its own row uses each of its parameters; a linear one gets α, β from the addon.
      if (!kind.linear) expect([...read].sort()).toEqual([...params].sort());
      else expect(code).toMatch(/uniforms\.lin_alpha/);
      // The complement term exactly where the registry says.
      expect(code.includes('g.cot = scale')).toBe(kind.complement);
    });
  }

  it('the linear kinds have coefficients from the addon (the WGSL gets α, β from there), the others none', () => {
    // A value inside each parameter's range.
    const inside = (p: { min: number; max: number; minOpen: boolean }) =>
      !Number.isFinite(p.min) ? 0 : !p.minOpen ? p.min : Number.isFinite(p.max) ? (p.min + p.max) / 2 : p.min + 1;
    for (const kind of lossKinds().values()) {
      const spec = { kind: kind.name, ...Object.fromEntries(kind.params.map((p) => [p.name, inside(p)])) };
      const ab = native().linearCoefficients(spec);
      if (kind.linear) expect(ab?.every(Number.isFinite)).toBe(true);
      else expect(ab).toBeNull();
    }
  });

  it("RowStats, its store and its load follow the addon's slot map: each slot written and read once", () => {
    const layout = statsLayout();
    const all = Array.from({ length: layout.perRow }, (_, i) => i);
    expect(indices(storeStatsCode(layout), 'result').sort((a, b) => a - b)).toEqual(all);
    expect(indices(loadStatsCode(layout), 'stats').sort((a, b) => a - b)).toEqual(all);
    const fields = statsFields(layout);
    expect(fields.flatMap((f) => f.slots).sort((a, b) => a - b)).toEqual(all);
    // A plain field sits in the slot of its own name; a split one in <name>_hi and <name>_lo.
    for (const f of fields) {
      if (f.slots.length === 1) expect(layout.slots[f.name]).toBe(f.slots[0]);
      else expect([layout.slots[`${f.name}_hi`], layout.slots[`${f.name}_lo`]]).toEqual(f.slots);
    }
    const struct = /struct RowStats \{ ([^}]*) \}/.exec(statsCode(layout))![1];
    expect(
      struct
        .split(',')
        .map((d) => d.trim().split(':')[0])
        .filter((n) => n !== ''),
    ).toEqual(fields.map((f) => f.name));
  });

  it('a slot map that moves a slot moves it in the WGSL too', () => {
    const layout = statsLayout();
    const swapped = { perRow: layout.perRow, slots: { ...layout.slots, mass: layout.slots.pt, pt: layout.slots.mass } };
    expect(storeStatsCode(swapped)).toContain(`result[at + ${layout.slots.pt}] = s.mass;`);
    expect(loadStatsCode(swapped)).toContain(`s.pt = stats[at + ${layout.slots.mass}];`);
    expect(() => statsFields({ perRow: layout.perRow + 1, slots: layout.slots })).toThrow(/not 0\.\./);
  });
});

describe('the ops from the registry', () => {
  it('every loss op the package exports is in the op table with a kind of the registry, and the reverse', () => {
    const exported = Object.entries(mixloss)
      .filter(([, f]) => isLossOp(f))
      .map(([name]) => name)
      .sort();
    expect(exported).toEqual([...lossOps().keys()].sort());
    for (const kind of lossOps().values()) expect(lossKinds().has(kind)).toBe(true);
  });

  it('a layers loss for every op', () => {
    expect(Object.keys(mixloss.layersLosses).sort()).toEqual([...lossOps().keys()].sort());
    for (const [name, make] of Object.entries(mixloss.layersLosses)) expect((make as () => { name: string })().name).toBe(name);
  });

  it('each op takes dense targets exactly when its kind is linear in them or it has a dense form, and its message names them', () => {
    const q = tf.tensor2d([
      [1, 2, 3],
      [0.5, -1, 0],
    ]);
    const t = tf.tensor2d([
      [0, 0, 1],
      [1, 0, 0],
    ]);
    const ops = mixloss as unknown as Record<string, ((q: tf.Tensor, y: tf.Tensor, o?: object) => tf.Tensor) & LossOpInfo>;
    for (const [name, kind] of lossOps()) {
      const op = ops[name];
      expect(takesTargets(op)).toBe(kindFacts(kind).linear || op.denseForm);
      if (takesTargets(op)) {
        expect(() => tf.tidy(() => op(q, t).dataSync())).not.toThrow();
      } else {
        expect(thrownBy(() => op(q, t)).message).toMatch(new RegExp(`^mixloss\\.${name}: takes class ids`));
        const s = thrownBy(() => op(q, [2, 0] as never, { labelSmoothing: 0.1 }));
        expect(s.message).toMatch(new RegExp(`labelSmoothing needs a loss that is linear in the targets \\(${linearOpNames()}\\)`));
      }
    }
    const linearOps = linearOpNames().split(', ');
    expect(linearOps).toEqual([...lossOps()].filter(([, k]) => kindFacts(k).linear).map(([n]) => n));
    expect(linearOps).toContain('crossEntropy');
    q.dispose();
    t.dispose();
  });

  it("the tests' table has a row for every kind whose gradient is the seam's alone", () => {
    for (const kind of lossKinds().values()) {
      if (kind.complement || kind.needs.argmax) continue; // MPCE and complement entropy have suites of their own
      expect(LOSSES.some((l) => l.kind === kind.name)).toBe(true);
    }
    for (const l of LOSSES) expect(l.dense).toBe(kindFacts(l.kind).linear);
  });
});
