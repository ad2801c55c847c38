// The paper's summary statistics over a table of accuracies (data sets × methods): wins, mean
// Δaccuracy, mean rank, the Friedman test, Conover's all-pairs post-hoc test with
// Benjamini–Hochberg correction, and the Dolan–Moré performance profile.
import gammainc = require('@stdlib/math-base-special-gammainc');
import tCdf = require('@stdlib/stats-base-dists-t-cdf');

/** Accuracies closer than this are ties. */
export const TIE = 1e-9;

/** Ranks of one row, 1 = the highest value; values within TIE share their average rank. */
export function rankRow(values: readonly number[]): number[] {
  const order = values.map((v, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[start]] - values[order[end]] <= TIE) end++;
    const shared = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]] = shared;
    start = end;
  }
  return ranks;
}

export interface FriedmanResult {
  statistic: number;
  pValue: number;
}

/** Friedman's χ² with the tie correction (scipy.stats.friedmanchisquare), k − 1 degrees of freedom. */
export function friedman(table: readonly (readonly number[])[]): FriedmanResult {
  const n = table.length;
  const k = table[0]?.length ?? 0;
  if (n < 2 || k < 3) throw new Error(`the Friedman test needs at least 2 data sets and 3 methods, got ${n} and ${k}`);
  const ranks = table.map(rankRow);
  const R = rankSums(ranks);
  let ties = 0;
  for (const row of ranks) {
    const counts = new Map<number, number>();
    for (const r of row) counts.set(r, (counts.get(r) ?? 0) + 1);
    for (const t of counts.values()) ties += t * t * t - t;
  }
  const c = 1 - ties / (n * (k * k * k - k));
  const raw = (12 / (n * k * (k + 1))) * R.reduce((s, r) => s + r * r, 0) - 3 * n * (k + 1);
  // Every row all ties: no evidence of a difference.
  if (c <= 0) return { statistic: 0, pValue: 1 };
  const statistic = raw / c;
  return { statistic, pValue: chiSquareSurvival(statistic, k - 1) };
}

/** P(X ≥ x) for X ~ χ²(df): the upper regularized incomplete gamma Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  return x <= 0 ? 1 : gammainc(x / 2, df / 2, true, true);
}

/** Two-sided p-value of Student's t with df degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  return Math.min(1, 2 * tCdf(-Math.abs(t), df));
}

export interface PairTest {
  a: string;
  b: string;
  pValue: number;
  pAdjusted: number;
}

/**
 * Conover's (1999) all-pairs test after Friedman: t = |R_i − R_j| / sqrt(2n(A − ΣR_j²/n) /
 * ((n − 1)(k − 1))), R_j the rank sums, A the sum of squared ranks, df = (n − 1)(k − 1),
 * two-sided; then Benjamini–Hochberg over the k(k − 1)/2 pairs (pairs in method order).
 */
export function conover(table: readonly (readonly number[])[], methods: readonly string[]): PairTest[] {
  const n = table.length;
  const k = methods.length;
  const ranks = table.map(rankRow);
  const R = rankSums(ranks);
  const A = ranks.reduce((s, row) => s + row.reduce((t, r) => t + r * r, 0), 0);
  const spread = (2 * n * (A - R.reduce((s, r) => s + r * r, 0) / n)) / ((n - 1) * (k - 1));
  const df = (n - 1) * (k - 1);
  const pairs: Array<{ a: string; b: string; pValue: number }> = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const d = Math.abs(R[i] - R[j]);
      // All ranks tied in every data set: no difference can be seen.
      const pValue = spread > 0 ? tTwoSided(d / Math.sqrt(spread), df) : 1;
      pairs.push({ a: methods[i], b: methods[j], pValue });
    }
  }
  const adjusted = benjaminiHochberg(pairs.map((p) => p.pValue));
  return pairs.map((p, i) => ({ ...p, pAdjusted: adjusted[i] }));
}

/** Benjamini–Hochberg adjusted p-values (R's p.adjust(p, 'BH')), in the input's order. */
export function benjaminiHochberg(p: readonly number[]): number[] {
  const m = p.length;
  const order = p.map((v, i) => i).sort((a, b) => p[b] - p[a] || b - a);
  const out = new Array<number>(m);
  let running = 1;
  order.forEach((i, r) => {
    const rank = m - r; // 1-based rank from the smallest
    running = Math.min(running, (p[i] * m) / rank);
    out[i] = running;
  });
  return out;
}

function rankSums(ranks: number[][]): number[] {
  const k = ranks[0].length;
  const R = new Array<number>(k).fill(0);
  for (const row of ranks) row.forEach((r, j) => (R[j] += r));
  return R;
}

export interface MethodSummary {
  wins: number;
  deltaAccuracy: number;
  meanRank: number;
}

/**
 * Per method: wins (data sets where it is at or above every other, ties counting for all),
 * the mean over data sets of (method − baseline) in percentage points, and its mean rank.
 */
export function summarize(
  table: readonly (readonly number[])[],
  methods: readonly string[],
  baseline: number,
): Record<string, MethodSummary> {
  const n = table.length;
  const ranks = table.map(rankRow);
  const out: Record<string, MethodSummary> = {};
  methods.forEach((m, j) => {
    let wins = 0;
    let delta = 0;
    let rank = 0;
    table.forEach((row, d) => {
      if (row[j] >= Math.max(...row) - TIE) wins++;
      delta += 100 * (row[j] - row[baseline]);
      rank += ranks[d][j];
    });
    out[m] = { wins, deltaAccuracy: delta / n, meanRank: rank / n };
  });
  return out;
}

/**
 * Dolan–Moré performance profile for a higher-is-better score: for each τ, the fraction of data
 * sets where the method reaches at least τ times the best accuracy.
 */
export function performanceProfile(table: readonly (readonly number[])[], taus: readonly number[]): number[][] {
  const k = table[0].length;
  const ratios = table.map((row) => {
    const best = Math.max(...row);
    return row.map((v) => (best > 0 ? v / best : 1));
  });
  return Array.from({ length: k }, (_, j) => taus.map((tau) => ratios.filter((r) => r[j] >= tau - TIE).length / table.length));
}

/**
 * Demšar's groups: maximal runs of methods, in mean-rank order, whose every pair is not
 * significantly different (adjusted p ≥ level).
 */
export function groups(methods: readonly string[], meanRank: Record<string, number>, pairs: readonly PairTest[], level = 0.05): string[][] {
  const order = [...methods].sort((a, b) => meanRank[a] - meanRank[b]);
  const p = (a: string, b: string) => pairs.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a))?.pAdjusted ?? 1;
  const runs: string[][] = [];
  for (let i = 0; i < order.length; i++) {
    let j = i;
    while (j + 1 < order.length && order.slice(i, j + 1).every((m) => p(m, order[j + 1]) >= level)) j++;
    const run = order.slice(i, j + 1);
    if (run.length > 1 && !runs.some((r) => run.every((m) => r.includes(m)))) runs.push(run);
  }
  return runs;
}
