// The UCI experiment's statistics against scipy's on fixed tables with ties
// (test/fixtures/experiment-stats.json, written by experiments/uci/stats_reference.py).
import * as fs from 'fs';
import * as path from 'path';

import { describe, expect, it } from 'vitest';

import {
  benjaminiHochberg,
  chiSquareSurvival,
  conover,
  friedman,
  groups,
  performanceProfile,
  rankRow,
  summarize,
  tTwoSided,
} from '../experiments/uci/stats';

interface Case {
  name: string;
  table: number[][];
  ranks: number[][];
  meanRank: number[];
  friedman: { statistic: number; pValue: number };
  conover: { pValue: number[]; pAdjusted: number[] };
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'experiment-stats.json'), 'utf8')) as {
  cases: Case[];
  tails: Array<{ x?: number; t?: number; df: number; chi2?: number; twoSided?: number }>;
  bh: Array<{ p: number[]; adjusted: number[] }>;
};

const close = (got: number, want: number, rel = 1e-10) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(Math.abs(want), 1e-300));

describe('experiment statistics against scipy', () => {
  for (const c of fixture.cases) {
    const methods = c.table[0].map((_, j) => `m${j}`);
    it(`${c.name}: average ranks with ties (scipy.stats.rankdata)`, () => {
      c.table.forEach((row, i) => expect(rankRow(row)).toEqual(c.ranks[i]));
      const s = summarize(c.table, methods, 0);
      methods.forEach((m, j) => close(s[m].meanRank, c.meanRank[j], 1e-12));
    });
    it(`${c.name}: Friedman χ² with the tie correction (scipy.stats.friedmanchisquare)`, () => {
      const f = friedman(c.table);
      close(f.statistic, c.friedman.statistic);
      close(f.pValue, c.friedman.pValue, 1e-8);
    });
    it(`${c.name}: Conover's all-pairs p-values and their Benjamini–Hochberg adjustment`, () => {
      const pairs = conover(c.table, methods);
      expect(pairs.map((p) => `${p.a}-${p.b}`)).toEqual(methods.flatMap((a, i) => methods.slice(i + 1).map((b) => `${a}-${b}`)));
      pairs.forEach((p, i) => {
        close(p.pValue, c.conover.pValue[i], 1e-8);
        close(p.pAdjusted, c.conover.pAdjusted[i], 1e-8);
      });
    });
  }

  it('the χ² and two-sided t tails, far into the tail (scipy.stats.chi2.sf, 2·t.sf)', () => {
    for (const t of fixture.tails) {
      if (t.chi2 !== undefined) close(chiSquareSurvival(t.x!, t.df), t.chi2, 1e-9);
      else close(tTwoSided(t.t!, t.df), t.twoSided!, 1e-9);
    }
  });

  it("Benjamini–Hochberg as R's p.adjust(p, 'BH'), ties and a p-value of 1e-10 included", () => {
    for (const b of fixture.bh) benjaminiHochberg(b.p).forEach((v, i) => close(v, b.adjusted[i], 1e-12));
  });
});

describe('experiment summary', () => {
  const table = [
    [0.9, 0.9, 0.8],
    [0.7, 0.75, 0.75 + 5e-10],
    [0.6, 0.5, 0.55],
  ];
  it('wins count ties (within 1e-9) for every tied method; Δaccuracy in points over the baseline', () => {
    const s = summarize(table, ['ce', 'a', 'b'], 0);
    expect(s.ce.wins).toBe(2);
    expect(s.a.wins).toBe(2);
    expect(s.b.wins).toBe(1);
    close(s.a.deltaAccuracy, (100 * (0 + 0.05 - 0.1)) / 3, 1e-9);
    // 0.75 and 0.75 + 5e-10 tie: ranks 1.5 each.
    expect(rankRow(table[1])).toEqual([3, 1.5, 1.5]);
  });

  it('the performance profile: the share of data sets within τ of the best', () => {
    const p = performanceProfile(table, [0.8, 0.9, 1]);
    // ce: ratios 1, 0.7/0.75 = 0.93, 1; b: 0.8/0.9 = 0.89, 1, 0.55/0.6 = 0.92
    expect(p[0]).toEqual([1, 1, 2 / 3]);
    expect(p[2]).toEqual([1, 2 / 3, 1 / 3]);
  });

  it("Demšar's groups: runs in mean-rank order with no significant pair", () => {
    const pairs = [
      { a: 'x', b: 'y', pValue: 0, pAdjusted: 0.5 },
      { a: 'x', b: 'z', pValue: 0, pAdjusted: 0.01 },
      { a: 'y', b: 'z', pValue: 0, pAdjusted: 0.2 },
    ];
    expect(groups(['x', 'y', 'z'], { x: 1, y: 2, z: 3 }, pairs)).toEqual([
      ['x', 'y'],
      ['y', 'z'],
    ]);
    expect(
      groups(
        ['x', 'y', 'z'],
        { x: 1, y: 2, z: 3 },
        pairs.map((p) => ({ ...p, pAdjusted: 0.9 })),
      ),
    ).toEqual([['x', 'y', 'z']]);
  });

  it('the Friedman test needs 2 data sets and 3 methods', () => {
    expect(() => friedman([[1, 2, 3]])).toThrow(/at least 2 data sets and 3 methods/);
  });
});
